/**
 * Churn: rolling replacements of K annotated pods, as a Deployment rollout does them (maxSurge = window,
 * maxUnavailable 0): a new pod is created, and once it is annotated, an old one is deleted; at most `window`
 * replacements are in flight. Real kube-apiserver, EC2 emulator with AWS's buckets and latencies on, the real
 * operator in-process with a SHORT branch ENI cooldown (default 5 s, below the product's 30 s minimum, so the
 * deletes land inside the run).
 *
 * One run, three rollouts of the same K pods, one after another (docs/warm-branches.md):
 * 1. `cold`: warm branch ENIs off (limit 0): every replaced pod costs create + associate + delete, as on EKS;
 * 2. `warm`: the limit at --warm-limit; the new pods keep the old pods' groups, so a warm ENI needs no call;
 * 3. `warm-other-groups`: the same limit; the new pods are selected by a second policy as well, so their group
 *    set differs from every warm ENI's and each takeover costs one ModifyNetworkInterfaceAttribute.
 * Ratios (warm / cold) are taken within the run.
 *
 * Figures per rollout: replaced pods/s (first new pod created → last new pod annotated), mutating EC2 calls per
 * replaced pod from the rollout's start until every old pod's ENI is deleted or warm, the warm ENIs left in the
 * pools then (each costs one DeleteNetworkInterface later if no pod takes it: `…IncludingPoolDrain` charges it
 * now), throttled responses, new-pod latency, and how many new pods were annotated with an ENI whose groups in
 * EC2 were not exactly their policies' (must be 0). Buckets refill before each rollout.
 *
 *   node bench/operator-churn.ts [--pods 100] [--window 25] [--cooldown-seconds 5] [--warm-limit 4]
 *     [--branch-workers N (default: the product's)] [--full]   (--full: 500 pods)
 *     [--controller sgp-operator|eks --eks-controller-bin PATH]
 * EKS's controller has no warm branch ENIs, so it runs the `cold` rollout only; it never takes a cooldown
 * below 30 s (it raises the ConfigMap's value), so a side-by-side run gives both 30 s. "Released" is read from
 * EC2 (the emulator): no branch ENI left but the new pods' and the warm ones.
 */
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import type { SecurityGroupPolicy, WarmBranch } from '../operator/api/types.ts';
import type { WarmSettings } from '../operator/controllers/branchinterface/index.ts';
import type { KubeObject } from '../operator/framework/types.ts';
import { optionDefinition } from '../operator/options/definitions.ts';
import {
  branchCapacityWaitsTotal,
  warmBranchReuseTotal,
  workqueueQueueDurationSeconds,
} from '../operator/observability/metrics.ts';
import { watchBranches, type BranchWatch } from './lib/branch-watch.ts';
import { CONTROLLER_OPTIONS, controllerArgs, startController } from './lib/controller.ts';
import { watchAnnotations, type AnnotationWatch } from './lib/pod-watch.ts';
import { emit, progress } from './lib/report.ts';
import { latencySummary, mapBounded, round } from './lib/stats.ts';
import { M5_XLARGE_BRANCHES } from './lib/trunks.ts';
import { counterDelta, podObject, POD_LABEL, startWorld, waitFor, type BenchWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string' },
    window: { type: 'string', default: '25' },
    'cooldown-seconds': { type: 'string', default: '5' },
    'warm-limit': { type: 'string', default: String(optionDefinition('warm-branch-enis-per-node').default) },
    'branch-workers': { type: 'string' },
    full: { type: 'boolean', default: false },
    ...CONTROLLER_OPTIONS,
  },
});
const which = controllerArgs(values);
const pods = Number(values.pods ?? (values.full ? 500 : 100));
const window = Number(values.window);
const cooldownSeconds = Number(values['cooldown-seconds']);
const warmLimit = Number(values['warm-limit']);
// Old pods' ENIs stay until their cooldown ends: room for every old and new pod at once.
const nodes = Math.ceil((2 * pods) / M5_XLARGE_BRANCHES) + 1;
const NS = 'churn';
const V2_LABEL = { 'bench.sgp-operator.io/version': 'v2' };

/** The warm limits, switched live between rollouts (as the amazon-vpc-cni ConfigMap key would). */
const settings: WarmSettings = { limitPerNode: 0, maxIdleMs: 600_000 };

const world = await startWorld();
const operator = await startController(world, which, {
  cooldownSeconds,
  operatorOverrides: {
    ...(values['branch-workers'] ? { branchWorkers: Number(values['branch-workers']) } : {}),
    warmSettings: { current: () => settings },
  },
});
const branchEnisInEc2 = () =>
  world.emulator.control.dump().networkInterfaces.filter((eni) => eni.description === 'aws-k8s-branch-eni').length;

interface Rollout {
  label: string;
  from: string;
  to: string;
  labels: Record<string, string>;
  warmLimit: number;
}

// Stopped before the world goes, also on a failure: a watch resuming after that would hide the error.
let watches: { stop(): void }[] = [];
try {
  const nodeNames = await world.addNodes(nodes);
  await operator.waitNodesReady(nodes, 120_000 + nodes * 1_000);
  await world.createPolicyNamespace(NS, { waitValid: operator.writesPolicyStatus });
  const v2Policy: SecurityGroupPolicy = {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: 'bench-v2', namespace: NS },
    spec: { podSelector: { matchLabels: V2_LABEL }, securityGroups: { groupIds: [world.nodeGroupId] } },
  };
  await world.client.create(Kinds.SecurityGroupPolicy, v2Policy);
  const watch = await watchAnnotations(world.kubeConfig, NS);
  const branchWatch = await watchBranches(world.kubeConfig, NS);
  watches = [watch, branchWatch];
  const names = (generation: string) =>
    Array.from({ length: pods }, (_, i) => `${generation}-${String(i).padStart(5, '0')}`);
  const nodeOf = (i: number) => nodeNames[i % nodes] ?? '';
  const create = (name: string, node: string, labels: Record<string, string>) =>
    world.client.create(Kinds.Pod, withLabels(podObject(NS, name, node), labels));

  progress(`allocating ${pods} pods before the rollouts`);
  const setupStart = world.counters();
  await mapBounded(names('g0'), 32, (name, i) => create(name, nodeOf(i), POD_LABEL));
  await watch.waitAll(names('g0'), 600_000);
  await refill(counterDelta(setupStart, world.counters()).byAction);

  const rollouts: Rollout[] = [
    { label: 'cold', from: 'g0', to: 'g1', labels: POD_LABEL, warmLimit: 0 },
    ...(operator.name === 'sgp-operator'
      ? [
          { label: 'warm', from: 'g1', to: 'g2', labels: POD_LABEL, warmLimit },
          { label: 'warm-other-groups', from: 'g2', to: 'g3', labels: { ...POD_LABEL, ...V2_LABEL }, warmLimit },
        ]
      : []),
  ];
  const results: Record<string, ReturnType<typeof summary>> = {};
  for (const rollout of rollouts) {
    settings.limitPerNode = rollout.warmLimit;
    const oldNames = names(rollout.from);
    const newNames = names(rollout.to);
    progress(`rollout ${rollout.label}: ${pods} pods, window ${window}, warm limit ${rollout.warmLimit}`);
    const before = world.counters();
    const metricsBefore = await operatorCounts();
    const started = performance.now();
    await mapBounded(newNames, window, async (name, i) => {
      watch.created(name);
      await create(name, nodeOf(i + 1), rollout.labels);
      await watch.waitAll([name], 600_000);
      await world.deletePod(NS, oldNames[i] ?? '');
    });
    const lastAnnotated = Math.max(...newNames.map((name) => watch.annotatedAt(name) ?? 0));
    const rolloutSeconds = (lastAnnotated - started) / 1000;
    // Every old pod's ENI deleted or kept warm: only the new pods' and the warm ones are left in EC2.
    await waitFor(
      async () => branchEnisInEc2() - (await world.client.list<WarmBranch>(Kinds.WarmBranch)).length <= pods,
      300_000 + pods * 1_000,
      'old branch ENIs deleted from EC2 or kept warm',
    );
    const releasedSeconds = (performance.now() - started) / 1000;
    const calls = counterDelta(before, world.counters());
    const metricsAfter = await operatorCounts();
    const warmLeft = (await world.client.list<WarmBranch>(Kinds.WarmBranch)).length;
    const expectedGroups = rollout.labels === POD_LABEL ? [world.podGroupId] : [world.nodeGroupId, world.podGroupId];
    results[rollout.label] = summary({
      rolloutSeconds,
      releasedSeconds,
      calls,
      warmLeft,
      watch,
      newNames,
      groupMismatches: await groupMismatches(world, newNames, expectedGroups.sort()),
      breakdown: latencyBreakdown(watch, branchWatch, newNames),
      operatorCounts: Object.fromEntries(
        Object.entries(metricsAfter).map(([name, value]) => [name, value - (metricsBefore[name] ?? 0)]),
      ),
    });
    await refill(calls.byAction);
  }
  watch.stop();
  branchWatch.stop();

  const cold = results.cold;
  const warm = results.warm;
  const other = results['warm-other-groups'];
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b !== 0 ? round(a / b, 2) : null;
  const result = {
    benchmark: 'operator-churn',
    controller: operator.name,
    controllerSettings: operator.settings,
    pods,
    nodes,
    window,
    cooldownSeconds,
    warmLimit,
    branchWorkers: values['branch-workers'] ? Number(values['branch-workers']) : 'product default',
    rollouts: results,
    ratios: {
      warmVsColdReplacedPodsPerSecond: ratio(warm?.replacedPodsPerSecond, cold?.replacedPodsPerSecond),
      otherGroupsVsColdReplacedPodsPerSecond: ratio(other?.replacedPodsPerSecond, cold?.replacedPodsPerSecond),
      warmVsColdMutatingCallsPerPod: ratio(
        warm?.ec2.mutatingCallsPerReplacedPod,
        cold?.ec2.mutatingCallsPerReplacedPod,
      ),
    },
  };
  const row = (r: ReturnType<typeof summary> | undefined) =>
    r === undefined
      ? '—'
      : `${r.replacedPodsPerSecond} pods/s, ${r.ec2.mutatingCallsPerReplacedPod} calls/pod ` +
        `(${r.ec2.mutatingCallsPerReplacedPodIncludingPoolDrain} with pool drain), p95 ${r.newPodLatency.p95Ms} ms, ` +
        `${r.ec2.throttledResponses} throttled, ${r.groupMismatches} wrong-group annotations`;
  emit(result, {
    controller: operator.name,
    replaced: `${pods} pods x ${rollouts.length} rollouts (window ${window}, cooldown ${cooldownSeconds} s, warm limit ${warmLimit}) on ${nodes} nodes`,
    cold: row(cold),
    warm: row(warm),
    'warm, other groups': row(other),
    'warm / cold pods/s': result.ratios.warmVsColdReplacedPodsPerSecond,
    'other groups / cold pods/s': result.ratios.otherGroupsVsColdReplacedPodsPerSecond,
  });
} finally {
  for (const watch of watches) watch.stop();
  await operator.stop();
  await world.stop();
}

/**
 * The operator's own counts (in-process metrics): reuse hits and misses, capacity waits, and per controller the
 * keys taken from its work queue, the seconds they waited there in total, and how many waited over 0.5 s.
 */
async function operatorCounts(): Promise<Record<string, number>> {
  // Controllers whose work-queue waits are reported (a key waiting for a free worker).
  const queuedControllers = ['pod', 'branchinterface', 'warmbranch'];
  const counts: Record<string, number> = {};
  for (const sample of (await warmBranchReuseTotal.get()).values) {
    counts[`reuse_${String(sample.labels.result)}`] = sample.value;
  }
  counts.capacity_waits = (await branchCapacityWaitsTotal.get()).values[0]?.value ?? 0;
  for (const sample of (await workqueueQueueDurationSeconds.get()).values) {
    const controller = String(sample.labels.controller);
    if (!queuedControllers.includes(controller)) continue;
    if (sample.metricName?.endsWith('_count')) counts[`${controller}_queued`] = sample.value;
    if (sample.metricName?.endsWith('_sum')) counts[`${controller}_queue_wait_seconds`] = sample.value;
    // Bucket samples carry the `le` label besides the histogram's own.
    const le = (sample.labels as Record<string, string | number | undefined>).le;
    if (sample.metricName?.endsWith('_bucket') && Number(le) === 0.5) {
      counts[`${controller}_queued_within_0_5s`] = sample.value;
    }
  }
  return counts;
}

function withLabels(pod: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...pod, metadata: { ...pod.metadata, labels: { ...labels } } };
}

/** Waits until the mutating buckets a rollout used have refilled (5 per s, at most their burst). */
async function refill(byAction: Record<string, number>): Promise<void> {
  const used = Math.max(
    Math.min(byAction.CreateNetworkInterface ?? 0, 100),
    Math.min(byAction.AssociateTrunkInterface ?? 0, 50),
    Math.min(byAction.DeleteNetworkInterface ?? 0, 100),
    Math.min(byAction.ModifyNetworkInterfaceAttribute ?? 0, 100),
  );
  const ms = (1000 * used) / 5 + 1000;
  progress(`waiting ${Math.round(ms)} ms for the buckets to refill`);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** New pods whose annotated ENI carries, in EC2 now, other groups than their policies'. */
async function groupMismatches(bench: BenchWorld, podNames: readonly string[], expected: string[]): Promise<number> {
  const enis = new Map(bench.emulator.control.dump().networkInterfaces.map((eni) => [eni.id, eni]));
  let mismatches = 0;
  await mapBounded(podNames, 32, async (name) => {
    const pod = await bench.client.get<KubeObject>(Kinds.Pod, `${NS}/${name}`);
    const annotation = pod?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'];
    const eniId = annotation ? (JSON.parse(annotation) as { eniId: string }[])[0]?.eniId : undefined;
    const groups = [...(enis.get(eniId ?? '')?.securityGroupIds ?? [])].sort();
    if (groups.join(',') !== expected.join(',')) mismatches++;
  });
  return mismatches;
}

/**
 * Where the new pods' time went, per path (a warm ENI taken over, or an ENI created and associated): pod
 * created → its BranchInterface seen (the pod controller), → an ENI recorded in its status (the takeover, or
 * create + associate, including any wait for the EC2 buckets), → the annotation seen (groups, the pod patch).
 */
function latencyBreakdown(watch: AnnotationWatch, branches: BranchWatch, podNames: readonly string[]) {
  const paths = { warmTakeover: [] as string[], created: [] as string[] };
  for (const name of podNames) (branches.times(name)?.reused ? paths.warmTakeover : paths.created).push(name);
  const stage = (names: readonly string[], from: (name: string) => number | undefined, to: typeof from) =>
    latencySummary(
      names.flatMap((name) => {
        const start = from(name);
        const end = to(name);
        return start === undefined || end === undefined ? [] : [end - start];
      }),
    );
  const byPath = (names: readonly string[]) => ({
    pods: names.length,
    total: latencySummary(watch.latencies(names)),
    podToBranch: stage(names, watch.createdAt, (name) => branches.times(name)?.createdAt),
    branchToEni: stage(
      names,
      (name) => branches.times(name)?.createdAt,
      (name) => branches.times(name)?.eniRecordedAt,
    ),
    eniToAnnotation: stage(names, (name) => branches.times(name)?.eniRecordedAt, watch.annotatedAt),
  });
  return { warmTakeover: byPath(paths.warmTakeover), created: byPath(paths.created) };
}

function summary(input: {
  rolloutSeconds: number;
  releasedSeconds: number;
  calls: ReturnType<typeof counterDelta>;
  warmLeft: number;
  watch: AnnotationWatch;
  newNames: readonly string[];
  groupMismatches: number;
  breakdown: ReturnType<typeof latencyBreakdown>;
  operatorCounts: Record<string, number>;
}) {
  const { calls } = input;
  return {
    rolloutSeconds: round(input.rolloutSeconds),
    replacedPodsPerSecond: round(pods / input.rolloutSeconds),
    secondsUntilOldEnisReleased: round(input.releasedSeconds),
    newPodLatency: latencySummary(input.watch.latencies(input.newNames)),
    latencyByPath: input.breakdown,
    warmEnisLeft: input.warmLeft,
    groupMismatches: input.groupMismatches,
    operatorCounts: input.operatorCounts,
    ec2: {
      mutatingCallsPerReplacedPod: round(calls.mutatingCalls / pods, 3),
      mutatingCallsPerReplacedPodIncludingPoolDrain: round((calls.mutatingCalls + input.warmLeft) / pods, 3),
      callsPerReplacedPod: round(calls.calls / pods, 3),
      throttledResponses: calls.throttled,
      errors: calls.errors,
      byAction: calls.byAction,
    },
  };
}
