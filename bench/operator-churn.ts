/**
 * Churn: a rolling replacement of K annotated pods, as a Deployment rollout would do it (maxSurge = window,
 * maxUnavailable 0): a new pod is created, and once it is annotated, an old one is deleted; at most `window`
 * replacements are in flight. Real kube-apiserver, EC2 emulator with AWS's buckets and latencies on, the real
 * operator in-process with a SHORT branch ENI cooldown (default 5 s, below the product's 30 s minimum, so the
 * deletes land inside the run).
 *
 * Figures: replaced pods/s (first new pod created → last new pod annotated), mutating EC2 calls per replaced
 * pod counted from the start of the rollout until every old pod's branch ENI is deleted (so they include the
 * new ENI's create + associate and the old ENI's delete), throttled responses, new-pod latency.
 * Before the rollout the benchmark lets the buckets refill from the initial allocation.
 *
 *   node bench/operator-churn.ts [--pods 100] [--window 25] [--cooldown-seconds 5] [--full]   (--full: 500 pods)
 *                                [--controller sgp-operator|eks --eks-controller-bin PATH]
 * EKS's controller never takes a cooldown below 30 s (it raises the ConfigMap's value), so a side-by-side run
 * gives both 30 s. "Released" is read from EC2 (the emulator): no branch ENI left but the new pods'.
 */
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import { CONTROLLER_OPTIONS, controllerArgs, startController } from './lib/controller.ts';
import { watchAnnotations } from './lib/pod-watch.ts';
import { emit, progress } from './lib/report.ts';
import { latencySummary, mapBounded, round } from './lib/stats.ts';
import { M5_XLARGE_BRANCHES } from './lib/trunks.ts';
import { counterDelta, podObject, refillSeconds, startWorld, waitFor } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string' },
    window: { type: 'string', default: '25' },
    'cooldown-seconds': { type: 'string', default: '5' },
    full: { type: 'boolean', default: false },
    ...CONTROLLER_OPTIONS,
  },
});
const which = controllerArgs(values);
const pods = Number(values.pods ?? (values.full ? 500 : 100));
const window = Number(values.window);
const cooldownSeconds = Number(values['cooldown-seconds']);
// Old pods' ENIs stay until their cooldown ends: room for every old and new pod at once.
const nodes = Math.ceil((2 * pods) / M5_XLARGE_BRANCHES) + 1;
const NS = 'churn';

const world = await startWorld();
const operator = await startController(world, which, { cooldownSeconds });
const branchEnisInEc2 = () =>
  world.emulator.control.dump().networkInterfaces.filter((eni) => eni.description === 'aws-k8s-branch-eni').length;
try {
  const nodeNames = await world.addNodes(nodes);
  await operator.waitNodesReady(nodes, 120_000 + nodes * 1_000);
  await world.createPolicyNamespace(NS, { waitValid: operator.writesPolicyStatus });
  const watch = await watchAnnotations(world.kubeConfig, NS);
  const oldNames = Array.from({ length: pods }, (_, i) => `old-${String(i).padStart(5, '0')}`);
  const newNames = Array.from({ length: pods }, (_, i) => `new-${String(i).padStart(5, '0')}`);
  const nodeOf = (i: number) => nodeNames[i % nodes] ?? '';
  progress(`allocating ${pods} pods before the rollout`);
  const setupStart = world.counters();
  await mapBounded(oldNames, 32, (name, i) => world.client.create(Kinds.Pod, podObject(NS, name, nodeOf(i))));
  await watch.waitAll(oldNames, 600_000);
  const setup = counterDelta(setupStart, world.counters());
  const refillMs = 1000 * refillSeconds(setup);
  progress(`old pods annotated; waiting ${Math.round(refillMs)} ms for the buckets to refill`);
  await new Promise((resolve) => setTimeout(resolve, refillMs + 1000));

  progress(`rolling ${pods} pods, window ${window}`);
  const before = world.counters();
  const started = performance.now();
  await mapBounded(newNames, window, async (name, i) => {
    watch.created(name);
    await world.client.create(Kinds.Pod, podObject(NS, name, nodeOf(i + 1)));
    await watch.waitAll([name], 600_000);
    await world.deletePod(NS, oldNames[i] ?? '');
  });
  const lastAnnotated = Math.max(...newNames.map((name) => watch.annotatedAt(name) ?? 0));
  const rolloutSeconds = (lastAnnotated - started) / 1000;
  progress('rollout done; waiting for the old branch ENIs to be released');
  await waitFor(() => branchEnisInEc2() <= pods, 300_000 + pods * 1_000, 'old branch ENIs deleted from EC2');
  const releasedSeconds = (performance.now() - started) / 1000;
  const calls = counterDelta(before, world.counters());
  watch.stop();
  const result = {
    benchmark: 'operator-churn',
    controller: operator.name,
    controllerSettings: operator.settings,
    pods,
    nodes,
    window,
    cooldownSeconds,
    rolloutSeconds: round(rolloutSeconds),
    replacedPodsPerSecond: round(pods / rolloutSeconds),
    secondsUntilOldEnisReleased: round(releasedSeconds),
    newPodLatency: latencySummary(watch.latencies(newNames)),
    ec2: {
      mutatingCallsPerReplacedPod: round(calls.mutatingCalls / pods, 3),
      callsPerReplacedPod: round(calls.calls / pods, 3),
      throttledResponses: calls.throttled,
      errors: calls.errors,
      byAction: calls.byAction,
    },
  };
  emit(result, {
    controller: operator.name,
    replaced: `${pods} pods (window ${window}, cooldown ${cooldownSeconds} s) on ${nodes} nodes`,
    'replaced pods/s': result.replacedPodsPerSecond,
    'mutating EC2 calls / pod': result.ec2.mutatingCallsPerReplacedPod,
    'throttled responses': result.ec2.throttledResponses,
    'new pod latency p50/p95/p99': `${result.newPodLatency.p50Ms} / ${result.newPodLatency.p95Ms} / ${result.newPodLatency.p99Ms} ms`,
    'old ENIs released after': `${result.secondsUntilOldEnisReleased} s`,
  });
} finally {
  await operator.stop();
  await world.stop();
}
