/**
 * Cold burst: N pods created at once on M m5.xlarge nodes whose trunks are already Ready, against the real
 * kube-apiserver and the EC2 emulator with AWS's default buckets and latencies on; the real operator in-process.
 *
 * Figures: time until all are annotated, pods/s, creation → annotation latency p50/p95/p99, EC2 calls per pod
 * (the emulator's counters), throttled responses, and the ratio of the achieved rate to the EC2 ceiling.
 *
 * The ceiling. Every pod needs at least one CreateNetworkInterface (bucket 100, refill 5/s) and one
 * AssociateTrunkInterface (bucket 50, refill 5/s). Starting with both buckets full, N pods cannot finish
 * sooner than T_min(N) = max((N − 100)/5, (N − 50)/5) seconds (0 when N ≤ 50), so the ceiling is
 * N / T_min pods/s, and `ceilingRatio` = T_min / T_achieved, where T_achieved runs from the first pod's
 * creation to the last pod's annotation. Before the burst the benchmark waits until both buckets (EC2's
 * and the operator's own) have refilled from the trunk setup.
 *
 *   node bench/operator-cold-burst.ts [--pods 200] [--nodes 12] [--full] [--controller sgp-operator|eks --eks-controller-bin PATH]
 * --full: 1,000 pods on 56 nodes. (The issue asks for 50 m5.xlarge nodes, but 50 × 18 branch ENIs = 900
 * < 1,000: the last 100 pods could never be served, so full scale uses the fewest nodes that fit.)
 */
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import { CONTROLLER_OPTIONS, controllerArgs, startController } from './lib/controller.ts';
import { watchAnnotations } from './lib/pod-watch.ts';
import { emit, progress } from './lib/report.ts';
import { bucketFloorSeconds, latencySummary, mapBounded, round } from './lib/stats.ts';
import { M5_XLARGE_BRANCHES } from './lib/trunks.ts';
import { counterDelta, podObject, refillSeconds, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string' },
    nodes: { type: 'string' },
    full: { type: 'boolean', default: false },
    ...CONTROLLER_OPTIONS,
  },
});
const which = controllerArgs(values);
const pods = Number(values.pods ?? (values.full ? 1000 : 200));
const nodes = Number(values.nodes ?? Math.max(values.full ? 50 : 12, Math.ceil(pods / M5_XLARGE_BRANCHES)));

const CREATE = { capacity: 100, refillPerSecond: 5 };
// CreateNetworkInterfacePermission (EKS's controller calls it once per ENI) has the same shape as the
// association's: AWS's generic mutating bucket, 50 / 5 per s. It does not change the ceiling.
const ASSOCIATE = { capacity: 50, refillPerSecond: 5 };

const world = await startWorld();
const operator = await startController(world, which, { cooldownSeconds: 30 });
try {
  progress(`${operator.name} ready in ${Math.round(operator.readyAfterMs)} ms; adding ${nodes} nodes`);
  const setupStart = world.counters();
  const nodeNames = await world.addNodes(nodes);
  await operator.waitNodesReady(nodes, 120_000 + nodes * 1_000);
  await world.createPolicyNamespace('burst', { waitValid: operator.writesPolicyStatus });
  // Let the buckets the trunk setup drew on refill (EC2's and the operator's refill at the same rate).
  const refillMs = 1000 * refillSeconds(counterDelta(setupStart, world.counters()));
  progress(`trunks Ready; waiting ${Math.round(refillMs + 1000)} ms for the buckets to refill`);
  await new Promise((resolve) => setTimeout(resolve, refillMs + 1000));

  const watch = await watchAnnotations(world.kubeConfig, 'burst');
  const names = Array.from({ length: pods }, (_, i) => `pod-${String(i).padStart(5, '0')}`);
  const before = world.counters();
  const started = performance.now();
  progress(`creating ${pods} pods`);
  await mapBounded(names, 32, async (name, i) => {
    watch.created(name);
    await world.client.create(Kinds.Pod, podObject('burst', name, nodeNames[i % nodes] ?? ''));
  });
  const createdAllMs = performance.now() - started;
  const floorSeconds = Math.max(
    bucketFloorSeconds(pods, CREATE.capacity, CREATE.refillPerSecond),
    bucketFloorSeconds(pods, ASSOCIATE.capacity, ASSOCIATE.refillPerSecond),
  );
  const ticker = setInterval(() => progress(`annotated ${watch.annotatedCount()}/${pods}`), 10_000);
  try {
    await watch.waitAll(names, Math.max(300_000, floorSeconds * 3000 + 120_000));
  } finally {
    clearInterval(ticker);
  }
  const lastAnnotated = Math.max(...names.map((name) => watch.annotatedAt(name) ?? 0));
  const seconds = (lastAnnotated - started) / 1000;
  const calls = counterDelta(before, world.counters());
  watch.stop();

  const ceilingPodsPerSecond = floorSeconds > 0 ? pods / floorSeconds : null;
  const result = {
    benchmark: 'operator-cold-burst',
    controller: operator.name,
    controllerSettings: operator.settings,
    pods,
    nodes,
    instanceType: 'm5.xlarge',
    podsCreatedInSeconds: round(createdAllMs / 1000),
    secondsUntilAllAnnotated: round(seconds),
    podsPerSecond: round(pods / seconds),
    latency: latencySummary(watch.latencies(names)),
    ec2: {
      calls: calls.calls,
      callsPerPod: round(calls.calls / pods, 3),
      mutatingCallsPerPod: round(calls.mutatingCalls / pods, 3),
      throttledResponses: calls.throttled,
      errors: calls.errors,
      byAction: calls.byAction,
    },
    ceiling: {
      definition:
        'T_min = max((N-100)/5, (N-50)/5) s from full CreateNetworkInterface (100, 5/s) and ' +
        'AssociateTrunkInterface (50, 5/s) buckets, one call of each per pod; ratio = T_min / T_achieved',
      minimumSeconds: round(floorSeconds),
      podsPerSecond: ceilingPodsPerSecond === null ? null : round(ceilingPodsPerSecond),
      ratio: floorSeconds > 0 ? round(floorSeconds / seconds, 3) : null,
    },
    targets: { ceilingRatioAtLeast: 0.95, throttledResponses: 0 },
  };
  emit(result, {
    controller: operator.name,
    pods: `${pods} on ${nodes} m5.xlarge nodes`,
    'all annotated after': `${result.secondsUntilAllAnnotated} s`,
    'pods/s': result.podsPerSecond,
    'latency p50/p95/p99': `${result.latency.p50Ms} / ${result.latency.p95Ms} / ${result.latency.p99Ms} ms`,
    'EC2 calls per pod': `${result.ec2.callsPerPod} (${result.ec2.mutatingCallsPerPod} mutating)`,
    'throttled responses': result.ec2.throttledResponses,
    'EC2 ceiling': `${result.ceiling.podsPerSecond} pods/s (T_min ${result.ceiling.minimumSeconds} s)`,
    'achieved / ceiling': `${result.ceiling.ratio} (target ≥ 0.95)`,
  });
} finally {
  await operator.stop();
  await world.stop();
}
