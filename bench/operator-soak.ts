/**
 * Soak: the operator binary (compiled, with the image's V8 flags, in a child process so its memory is its own)
 * through many pod create/delete cycles, to show whether anything it holds grows with the objects that have
 * come and gone. Real kube-apiserver, EC2 emulator with AWS's buckets and latencies on; the pod nodes are opted
 * in, so every pod gets a branch ENI (create + associate) and every deleted pod's ENI is released after the
 * product's 30 s minimum cooldown.
 *
 * Churn: `--pods` pods are kept; a cycle deletes the oldest (grace period 0, no kubelet here) and creates a new
 * one, `--rate` cycles per second. Every `--node-every` cycles a node comes and goes too: a node that does not
 * opt in is registered (the operator gives it a CNINode) and the one registered before it is deleted.
 *
 * Sampled at the start of the churn and after every 10 % of the cycles: RSS; the live V8 heap (the heap in use
 * right after a full GC asked for through the inspector); the number of series on /metrics; the
 * informer cache (sgp_informer_objects, by kind); the process's active timers (nodejs_active_resources
 * Timeout). The figures are the growth of each after warm-up (the 20 % sample → the last one; target ≤ 5 %)
 * and what stays behind per gone pod and per gone node over the same stretch (series, cache entries, timers,
 * live heap bytes; target 0).
 *
 *   node bench/operator-soak.ts [--cycles 2000] [--rate 3] [--nodes 20] [--pods 100] [--node-every 20] [--full]
 *                               [--heap-snapshot-dir DIR]
 *   (--full: 20,000 cycles; --heap-snapshot-dir: the operator's heap snapshots after the warm-up sample and
 *   after the last one, to compare in Chrome DevTools' Memory tab; a snapshot leaves memory of its own in the
 *   RSS samples after it, not in the live heap ones)
 */
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import { operatorBinary, REPO_ROOT, startOperatorProcess } from './lib/operator-process.ts';
import { watchAnnotations } from './lib/pod-watch.ts';
import { emit, progress } from './lib/report.ts';
import { imageNodeFlags } from './lib/runtime-flags.ts';
import { latencySummary, mapBounded, round } from './lib/stats.ts';
import { M5_XLARGE_BRANCHES, waitTrunksReady } from './lib/trunks.ts';
import { counterDelta, podObject, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string' },
    rate: { type: 'string', default: '3' },
    nodes: { type: 'string', default: '20' },
    pods: { type: 'string', default: '100' },
    'node-every': { type: 'string', default: '20' },
    full: { type: 'boolean', default: false },
    'heap-snapshot-dir': { type: 'string' },
  },
});
const heapSnapshotDir = values['heap-snapshot-dir'];
const cycles = Number(values.cycles ?? (values.full ? 20_000 : 2_000));
const ratePerSecond = Number(values.rate);
const nodes = Number(values.nodes);
const pods = Number(values.pods);
const nodeEvery = Number(values['node-every']);
const COOLDOWN_SECONDS = 30;
const NS = 'soak';
const WARM_UP_FRACTION = 0.2;
// Pods plus the ENIs of deleted pods still in their cooldown (with slack for the release's own delay) must fit.
if (pods + ratePerSecond * COOLDOWN_SECONDS * 2 > nodes * M5_XLARGE_BRANCHES) {
  throw new Error(`--pods ${pods} at --rate ${ratePerSecond} need more than ${nodes} m5.xlarge nodes`);
}
if (!Number.isInteger(cycles / 10) || cycles <= 0) throw new Error(`--cycles ${cycles}: a positive multiple of 10`);
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

interface Sample {
  cycle: number;
  atSeconds: number;
  rssMiB: number;
  liveHeapMiB: number;
  series: number;
  cacheObjects: Record<string, number>;
  timers: number;
}

/** One /metrics text: series (non-comment lines), informer objects by kind, active Timeout resources. */
function parseMetrics(text: string): Pick<Sample, 'series' | 'cacheObjects' | 'timers'> {
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const cacheObjects: Record<string, number> = {};
  for (const match of text.matchAll(/^sgp_informer_objects\{kind="([^"]+)"\} (\S+)$/gm)) {
    cacheObjects[match[1] ?? ''] = Number(match[2]);
  }
  const timers = Number(/^nodejs_active_resources\{type="Timeout"\} (\S+)$/m.exec(text)?.[1] ?? 0);
  return { series: lines.length, cacheObjects, timers };
}

const nodeFlags = imageNodeFlags();
const main = operatorBinary(REPO_ROOT, { source: false });
const world = await startWorld();
try {
  const podNodes = await world.addNodes(nodes);
  const operator = await startOperatorProcess(world, {
    main,
    nodeFlags,
    inspect: true,
    ...(heapSnapshotDir === undefined ? {} : { snapshotDir: heapSnapshotDir }),
    args: ['--branch-cooldown-seconds', String(COOLDOWN_SECONDS)],
  });
  try {
    await operator.waitReady(120_000);
    await waitTrunksReady(world.client, nodes, 120_000 + nodes * 1_000);
    await world.createPolicyNamespace(NS);
    const watch = await watchAnnotations(world.kubeConfig, NS);
    const nodeOf = (i: number) => podNodes[i % nodes] ?? '';
    const podName = (i: number) => `pod-${String(i).padStart(6, '0')}`;
    const initial = Array.from({ length: pods }, (_, i) => podName(i));
    progress(`allocating ${pods} pods`);
    await mapBounded(initial, 16, (pod, i) => {
      watch.created(pod);
      return world.client.create(Kinds.Pod, podObject(NS, pod, nodeOf(i)));
    });
    await watch.waitAll(initial, 600_000);

    let nodesRegistered = 0;
    let idleNode: string | undefined;
    /** The node cycle: register a node that does not opt in, delete the previous one. */
    const cycleNode = async () => {
      const [added] = await world.addNodes(1, { prefix: `passing-${nodesRegistered}`, optIn: false });
      nodesRegistered += 1;
      if (idleNode !== undefined) await world.client.delete(Kinds.Node, idleNode);
      idleNode = added;
    };
    await cycleNode();

    progress(`${cycles} cycles at ${ratePerSecond}/s (${pods} pods kept, a node every ${nodeEvery} cycles)`);
    const started = performance.now();
    const samples: Sample[] = [];
    const sample = async (cycle: number) => {
      const rssMiB = mib(operator.sample().rssBytes);
      await operator.collectGarbage();
      samples.push({
        cycle,
        atSeconds: round((performance.now() - started) / 1000, 0),
        rssMiB,
        liveHeapMiB: mib((await operator.heap()).usedBytes),
        ...parseMetrics(await operator.scrape()),
      });
      progress(`  ${JSON.stringify(samples.at(-1))}`);
      if (heapSnapshotDir !== undefined && (cycle === cycles * WARM_UP_FRACTION || cycle === cycles)) {
        progress(`  heap snapshot: ${await operator.writeHeapSnapshot()}`);
      }
    };
    await sample(0);
    const before = world.counters();
    const created: string[] = [];
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const next = pods + cycle - 1;
      const pod = podName(next);
      watch.created(pod);
      created.push(pod);
      await world.client.create(Kinds.Pod, podObject(NS, pod, nodeOf(next)));
      await world.deletePod(NS, podName(cycle - 1));
      if (cycle % nodeEvery === 0) await cycleNode();
      if (cycle % (cycles / 10) === 0) {
        await sample(cycle);
      } else {
        const due = started + (cycle * 1000) / ratePerSecond;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      }
    }
    const churnSeconds = (performance.now() - started) / 1000;
    const ec2 = counterDelta(before, world.counters());
    // Pods created in the last seconds may still be on their way: give them the time one needs.
    await watch.waitAll(created, 120_000).catch((error: unknown) => progress(String(error)));
    const latency = latencySummary(watch.latencies(created));
    const served = created.filter((pod) => watch.annotatedAt(pod) !== undefined).length;
    watch.stop();

    const warm = samples.find((s) => s.cycle >= cycles * WARM_UP_FRACTION) ?? samples[0];
    const last = samples.at(-1);
    if (warm === undefined || last === undefined) throw new Error('no samples');
    const growth = (a: number, b: number) => (a === 0 ? null : round((b - a) / a, 3));
    const podsGone = last.cycle - warm.cycle;
    const nodesGone = Math.floor(last.cycle / nodeEvery) - Math.floor(warm.cycle / nodeEvery);
    const cacheTotal = (s: Sample) => Object.values(s.cacheObjects).reduce((sum, n) => sum + n, 0);
    const perGone = (delta: number) => ({
      perGonePod: round(delta / podsGone, 4),
      perGoneNode: nodesGone === 0 ? null : round(delta / nodesGone, 4),
    });
    const result = {
      benchmark: 'operator-soak',
      cycles,
      ratePerSecond,
      achievedCyclesPerSecond: round(cycles / churnSeconds),
      nodes,
      pods,
      nodeEvery,
      nodesComeAndGone: nodesRegistered - 1,
      nodeOptions: nodeFlags,
      servedPods: served,
      latency,
      afterWarmUp: { fromCycle: warm.cycle, toCycle: last.cycle, podsGone, nodesGone },
      growth: {
        rss: growth(warm.rssMiB, last.rssMiB),
        liveHeap: growth(warm.liveHeapMiB, last.liveHeapMiB),
        series: growth(warm.series, last.series),
      },
      leftBehind: {
        series: { delta: last.series - warm.series, ...perGone(last.series - warm.series) },
        cacheObjects: { delta: cacheTotal(last) - cacheTotal(warm), ...perGone(cacheTotal(last) - cacheTotal(warm)) },
        timers: { delta: last.timers - warm.timers, ...perGone(last.timers - warm.timers) },
        liveHeapBytesPerGonePod: round(((last.liveHeapMiB - warm.liveHeapMiB) * 2 ** 20) / podsGone, 0),
      },
      targets: { growthAfterWarmUpAtMost: 0.05, leftBehindPerGoneObject: 0 },
      samples,
      ec2: { calls: ec2.calls, mutatingCalls: ec2.mutatingCalls, throttled: ec2.throttled, errors: ec2.errors },
    };
    const percent = (value: number | null) => (value === null ? '—' : `${round(value * 100, 1)} %`);
    emit(result, {
      churn: `${cycles} cycles at ${result.achievedCyclesPerSecond}/s (${pods} pods kept, ${nodes} nodes; ${result.nodesComeAndGone} nodes came and went)`,
      served: `${served}/${created.length}; latency p50 ${latency.p50Ms} ms, p95 ${latency.p95Ms} ms`,
      'RSS warm-up → end': `${warm.rssMiB} → ${last.rssMiB} MiB (${percent(result.growth.rss)})`,
      'live heap warm-up → end': `${warm.liveHeapMiB} → ${last.liveHeapMiB} MiB (${percent(result.growth.liveHeap)}; ${result.leftBehind.liveHeapBytesPerGonePod} B per gone pod)`,
      'series warm-up → end': `${warm.series} → ${last.series} (${result.leftBehind.series.perGonePod} per gone pod)`,
      'cache objects warm-up → end': `${cacheTotal(warm)} → ${cacheTotal(last)} (${result.leftBehind.cacheObjects.perGonePod} per gone pod)`,
      'timers warm-up → end': `${warm.timers} → ${last.timers}`,
      EC2: `${ec2.mutatingCalls} mutating calls, ${ec2.throttled} throttled, ${ec2.errors} errors`,
    });
  } finally {
    await operator.stop();
  }
} finally {
  await world.stop();
}
