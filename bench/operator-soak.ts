/**
 * Soak: the operator binary (compiled, with the image's V8 flags, in a child process so RSS is its own)
 * under steady pod churn for a while, to show whether its memory settles or keeps growing. Real
 * kube-apiserver, EC2 emulator with AWS's buckets and latencies on; nodes opted in, so every pod gets a branch
 * ENI (create + associate), and every deleted pod's ENI is released after the product's 30 s minimum cooldown.
 *
 * Churn: `--pods` pods are kept; every 1/`--rate` s the oldest is deleted (grace period 0, no kubelet here) and
 * a new one created. RSS is sampled every 5 s. The figure is the RSS slope (least squares, MiB per minute) over
 * the samples after the first third of the churn (warm-up: caches, queues and the JIT fill); ~0 means no
 * growth with time. Alongside: RSS at start, end and peak, pods served and their latency.
 *
 *   node bench/operator-soak.ts [--nodes 20] [--pods 100] [--rate 1] [--minutes 3] [--full]
 *   (--full: 50 nodes, 500 pods, 15 minutes)
 */
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import { operatorBinary, REPO_ROOT, startOperatorProcess } from './lib/operator-process.ts';
import { watchAnnotations } from './lib/pod-watch.ts';
import { emit, progress } from './lib/report.ts';
import { imageNodeFlags } from './lib/runtime-flags.ts';
import { latencySummary, leastSquaresSlope, mapBounded, round } from './lib/stats.ts';
import { M5_XLARGE_BRANCHES, waitTrunksReady } from './lib/trunks.ts';
import { counterDelta, podObject, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    pods: { type: 'string' },
    rate: { type: 'string', default: '1' },
    minutes: { type: 'string' },
    full: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes ?? (values.full ? 50 : 20));
const pods = Number(values.pods ?? (values.full ? 500 : 100));
const ratePerSecond = Number(values.rate);
const churnMs = Number(values.minutes ?? (values.full ? 15 : 3)) * 60_000;
const COOLDOWN_SECONDS = 30;
const SAMPLE_MS = 5_000;
const NS = 'soak';
// Pods plus the ENIs of deleted pods still in their cooldown must fit on the trunks.
if (pods + ratePerSecond * COOLDOWN_SECONDS * 2 > nodes * M5_XLARGE_BRANCHES) {
  throw new Error(`--pods ${pods} at --rate ${ratePerSecond} need more than ${nodes} m5.xlarge nodes`);
}
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

const nodeFlags = imageNodeFlags();
const main = operatorBinary(REPO_ROOT, { source: false });
const world = await startWorld();
try {
  const nodeNames = await world.addNodes(nodes);
  const operator = await startOperatorProcess(world, {
    main,
    nodeFlags,
    args: ['--branch-cooldown-seconds', String(COOLDOWN_SECONDS)],
  });
  try {
    await operator.waitReady(120_000);
    await waitTrunksReady(world.client, nodes, 120_000 + nodes * 1_000);
    await world.createPolicyNamespace(NS);
    const watch = await watchAnnotations(world.kubeConfig, NS);
    const nodeOf = (i: number) => nodeNames[i % nodes] ?? '';
    const name = (i: number) => `pod-${String(i).padStart(6, '0')}`;
    const initial = Array.from({ length: pods }, (_, i) => name(i));
    progress(`allocating ${pods} pods`);
    await mapBounded(initial, 16, (pod, i) => {
      watch.created(pod);
      return world.client.create(Kinds.Pod, podObject(NS, pod, nodeOf(i)));
    });
    await watch.waitAll(initial, 600_000);

    progress(`churning ${ratePerSecond} pod/s for ${churnMs / 60_000} min`);
    const samples: { atMs: number; rssBytes: number }[] = [];
    const started = performance.now();
    const before = world.counters();
    const created: string[] = [];
    let next = pods;
    let oldest = 0;
    let lastSample = -Infinity;
    while (performance.now() - started < churnMs) {
      const now = performance.now();
      if (now - lastSample >= SAMPLE_MS) {
        samples.push({ atMs: now - started, rssBytes: operator.sample().rssBytes });
        lastSample = now;
      }
      const pod = name(next);
      watch.created(pod);
      created.push(pod);
      await world.client.create(Kinds.Pod, podObject(NS, pod, nodeOf(next)));
      await world.deletePod(NS, name(oldest));
      next += 1;
      oldest += 1;
      const due = started + ((next - pods) * 1000) / ratePerSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
    const ec2 = counterDelta(before, world.counters());
    // Pods created in the last seconds may still be on their way: give them the time one needs.
    await watch.waitAll(created, 120_000).catch((error: unknown) => progress(String(error)));
    const steady = samples.filter((s) => s.atMs >= churnMs / 3);
    const slopeBytesPerMs = leastSquaresSlope(steady.map((s) => [s.atMs, s.rssBytes]));
    const latency = latencySummary(watch.latencies(created));
    const served = created.filter((pod) => watch.annotatedAt(pod) !== undefined).length;
    const rss = samples.map((s) => s.rssBytes);
    const result = {
      benchmark: 'operator-soak',
      nodes,
      pods,
      ratePerSecond,
      churnMinutes: churnMs / 60_000,
      nodeOptions: nodeFlags,
      replacedPods: created.length,
      servedPods: served,
      latency,
      rssMiB: {
        atStart: mib(rss[0] ?? 0),
        atEnd: mib(rss.at(-1) ?? 0),
        peak: mib(Math.max(...rss)),
        steadySlopePerMinute: slopeBytesPerMs === undefined ? null : round((slopeBytesPerMs * 60_000) / 2 ** 20, 2),
      },
      samples: samples.map((s) => [round(s.atMs / 1000, 0), mib(s.rssBytes)]),
      ec2: { calls: ec2.calls, mutatingCalls: ec2.mutatingCalls, throttled: ec2.throttled, errors: ec2.errors },
    };
    watch.stop();
    emit(result, {
      churn: `${created.length} pods replaced at ${ratePerSecond}/s over ${result.churnMinutes} min (${pods} kept, ${nodes} nodes)`,
      served: `${served}/${created.length}; latency p50 ${latency.p50Ms} ms, p95 ${latency.p95Ms} ms`,
      RSS: `${result.rssMiB.atStart} MiB at start, ${result.rssMiB.atEnd} at end, ${result.rssMiB.peak} peak`,
      'RSS slope after warm-up': `${result.rssMiB.steadySlopePerMinute} MiB/min`,
      EC2: `${ec2.mutatingCalls} mutating calls, ${ec2.throttled} throttled, ${ec2.errors} errors`,
    });
  } finally {
    await operator.stop();
  }
} finally {
  await world.stop();
}
