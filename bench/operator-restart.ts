/**
 * Restart: the operator is stopped and started again over many managed nodes and branch ENIs, and a new pod
 * is waiting for its ENI. Real kube-apiserver, EC2 emulator, the real operator in-process.
 *
 * Seeding: the state is built by the operator itself (trunks, branch ENIs, BranchInterfaces, pod
 * annotations — exactly what a running operator leaves behind), with the emulator's throttling and latency
 * OFF and the operator's buckets scaled ×100 so it goes fast. Then the operator is stopped, the emulator's
 * AWS default buckets and realistic latencies are switched ON, and a fresh operator with default buckets starts.
 *
 * Figures: time from the restart (a new pod created on a managed node, then createOperator called) until that
 * pod is annotated; caches-synced time; EC2 calls in the first `--window-seconds` (default 60) after the
 * restart, by action; throttled responses.
 *
 *   node bench/operator-restart.ts [--nodes 100] [--enis 1000] [--window-seconds 60] [--full]
 *                                  [--controller sgp-operator|eks --eks-controller-bin PATH]
 *                                  [--cpu-profile FILE]
 *   (--full: 1,000 nodes / 10,000 branch ENIs; --cpu-profile: this process's CPU profile from the restart until
 *   the new pod is served, for Chrome DevTools' Performance tab; the operator runs in this process)
 * EKS's controller seeds with its EC2 client at 1,000 QPS (its own flags) and restarts with its defaults; its
 * `cachesSyncedMs` is the time until its health endpoint answers (it has no caches-synced signal of its own).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import { CONTROLLER_OPTIONS, controllerArgs, startController } from './lib/controller.ts';
import { watchAnnotations } from './lib/pod-watch.ts';
import { emit, progress } from './lib/report.ts';
import { mapBounded, round } from './lib/stats.ts';
import { M5_XLARGE_BRANCHES } from './lib/trunks.ts';
import { counterDelta, podObject, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    enis: { type: 'string' },
    'window-seconds': { type: 'string', default: '60' },
    'cpu-profile': { type: 'string' },
    full: { type: 'boolean', default: false },
    ...CONTROLLER_OPTIONS,
  },
});
const which = controllerArgs(values);
const COOLDOWN_SECONDS = 60;
const nodes = Number(values.nodes ?? (values.full ? 1000 : 100));
const enis = Number(values.enis ?? (values.full ? 10_000 : 1000));
const windowMs = Number(values['window-seconds']) * 1000;
if (enis > nodes * (M5_XLARGE_BRANCHES - 1)) throw new Error(`--enis ${enis} do not fit on ${nodes} m5.xlarge nodes`);
const NS = 'restart';

const world = await startWorld({ throttling: false, latency: false });
let operator = await startController(world, which, {
  cooldownSeconds: COOLDOWN_SECONDS,
  bucketScale: 100,
  eksArgs: ['--user-client-qps=1000', '--user-client-burst=1500'],
});
try {
  progress(`seeding ${nodes} nodes`);
  const nodeNames = await world.addNodes(nodes, { concurrency: 32 });
  await operator.waitNodesReady(nodes, 600_000 + nodes * 500);
  await world.createPolicyNamespace(NS, { waitValid: operator.writesPolicyStatus });
  const watch = await watchAnnotations(world.kubeConfig, NS);
  const names = Array.from({ length: enis }, (_, i) => `pod-${String(i).padStart(6, '0')}`);
  progress(`seeding ${enis} branch ENIs through the operator`);
  const ticker = setInterval(() => progress(`annotated ${watch.annotatedCount()}/${enis}`), 10_000);
  try {
    await mapBounded(names, 32, (name, i) =>
      world.client.create(Kinds.Pod, podObject(NS, name, nodeNames[i % nodes] ?? '')),
    );
    await watch.waitAll(names, 1_800_000);
  } finally {
    clearInterval(ticker);
  }
  await operator.stop();
  progress('seeded; operator stopped; EC2 buckets and latencies on');
  world.emulator.control.setThrottling({ enabled: true });
  world.emulator.control.setLatency(true);

  const profiler = values['cpu-profile'] === undefined ? undefined : new Session();
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const before = world.counters();
  const restarted = performance.now();
  watch.created('fresh', restarted);
  await world.client.create(Kinds.Pod, podObject(NS, 'fresh', nodeNames[0] ?? ''));
  operator = await startController(world, which, { cooldownSeconds: COOLDOWN_SECONDS });
  progress(`restarted; caches synced after ${Math.round(operator.readyAfterMs)} ms`);
  await watch.waitAll(['fresh'], windowMs * 5);
  const servedMs = (watch.annotatedAt('fresh') ?? 0) - restarted;
  if (profiler && values['cpu-profile']) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(values['cpu-profile'], JSON.stringify(profile));
    profiler.disconnect();
  }
  const untilServed = counterDelta(before, world.counters());
  const rest = windowMs - (performance.now() - restarted);
  progress(`new pod served after ${Math.round(servedMs)} ms; measuring EC2 calls until ${windowMs / 1000} s`);
  if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  const inWindow = counterDelta(before, world.counters());
  watch.stop();
  const result = {
    benchmark: 'operator-restart',
    controller: operator.name,
    controllerSettings: operator.settings,
    nodes,
    branchEnis: enis,
    cachesSyncedMs: Math.round(operator.readyAfterMs),
    newPodServedSeconds: round(servedMs / 1000),
    ec2CallsUntilServed: untilServed.calls,
    windowSeconds: windowMs / 1000,
    ec2CallsInWindow: inWindow.calls,
    ec2CallsInWindowByAction: inWindow.byAction,
    throttledResponsesInWindow: inWindow.throttled,
    targets: { newPodServedSecondsAtMost: 2, ec2CallsInFirstMinuteAtMost: 5 },
  };
  emit(result, {
    controller: operator.name,
    state: `${nodes} nodes, ${enis} branch ENIs`,
    'caches synced': `${result.cachesSyncedMs} ms`,
    'new pod served after': `${result.newPodServedSeconds} s (target ≤ 2 s)`,
    'EC2 calls until served': result.ec2CallsUntilServed,
    [`EC2 calls in first ${windowMs / 1000} s`]: `${result.ec2CallsInWindow} (target ≤ 5)`,
    'throttled responses': result.throttledResponsesInWindow,
  });
} finally {
  await operator.stop();
  await world.stop();
}
