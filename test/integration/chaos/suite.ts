/**
 * Chaos: pods come and go across nodes while the operator replicas are SIGKILLed at random moments and the
 * leader is made to hand over, nodes' TrunkInterfaces are deleted (the node alive) and nodes stop and start
 * again asking for a trunk (CNINode feature or legacy label, a flap of a few seconds), against a private
 * kube-apiserver and an EC2 emulator that fails 10% of calls with 5xx (half of them after doing the work: lost
 * responses), throttles in bursts and shows new objects late. With warm reuse on (docs/warm-branches.md), the
 * live ConfigMap also drops the per-node warm limit to 1 for a few seconds, and nodes are cordoned for a few
 * seconds (their warm ENIs are released).
 *
 * Over the whole run: no branch ENI a live pod holds is ever deleted (the emulator's mutation log against the
 * pods' lifetimes and what each pod's BranchInterface and annotation named: liveEniDeletions), and no live
 * pod is ever seen announced an ENI whose groups are not its policies' (when the annotation first appears,
 * and in a sample of EC2 every 250 ms: wrongGroupSightings). Afterwards the operator must converge to: no ENI
 * that no BranchInterface or WarmBranch records, every pod's ENI carrying exactly its policies' groups, never
 * two ENIs created for one pod nor two records of one ENI, unique VLANs per trunk, every pod annotated, warm
 * ENIs on their trunk and VLAN within the limit, every node's trunk Ready on the trunk ENI it had at the start.
 *
 * `chaos.test.ts` runs it with reuse off (EKS's behaviour), `chaos-warm.test.ts` with reuse on. Small by
 * default (inside `make test`); SGP_CHAOS_FULL=1 (`make chaos`) runs the full size. Every random choice comes
 * from one printed seed: SGP_CHAOS_SEED=<seed> replays a run.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CoordinationV1Api, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { freePorts } from '../../../hack/control-plane/control-plane.ts';
import type { RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import {
  HAS_TRUNK_ATTACHED_LABEL,
  POD_ENI_RESOURCE,
  SECURITY_GROUPS_FOR_PODS_FEATURE,
  TAG,
  VPC_CNI_CONFIGMAP_NAME,
  VPC_CNI_CONFIGMAP_NAMESPACE,
  WARM_BRANCH_ENI_LIMIT_KEY,
} from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type {
  BranchInterface,
  CNINode,
  SecurityGroupPolicy,
  TrunkInterface,
  WarmBranch,
} from '../../../operator/api/types.ts';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../../../operator/framework/index.ts';
import { startWorld, type World } from '../../kit/world.ts';
import { eventually } from '../harness/index.ts';
import { watchHolds, type HoldWatch } from './holds.ts';
import {
  clusterBranchEnis,
  duplicateEnis,
  duplicateVlans,
  liveEniDeletions,
  violations,
  wrongGroupSightings,
  type PodLifetime,
} from './invariants.ts';
import { Replicas } from './replicas.ts';

export interface ChaosVariant {
  /** `--warm-branch-enis-per-node` of both replicas; 0 is EKS's behaviour (every released ENI deleted). */
  warmBranchEnisPerNode: number;
}

const FULL = process.env.SGP_CHAOS_FULL === '1';
const SEED = Number(process.env.SGP_CHAOS_SEED) || Math.floor(Math.random() * 2 ** 31);

/**
 * The run's size. With reuse on, a released ENI turns warm only 30 s (the product's shortest cooldown) after
 * its pod's deletion, so the small run lasts long enough for pods created later to take warm ENIs.
 */
function sizeOf(isWarm: boolean) {
  if (FULL) {
    return {
      nodes: 10,
      cycles: 500,
      kills: 12,
      handovers: 4,
      trunkDeletions: 12,
      optInFlaps: 12,
      limitFlaps: isWarm ? 6 : 0,
      cordonFlaps: isWarm ? 6 : 0,
      podsPerNode: 12,
      paceMs: 150,
      convergeMs: 600_000,
    };
  }
  return {
    nodes: 3,
    cycles: isWarm ? 160 : 40,
    kills: isWarm ? 4 : 3,
    handovers: 1,
    trunkDeletions: 3,
    optInFlaps: 3,
    limitFlaps: isWarm ? 2 : 0,
    cordonFlaps: isWarm ? 2 : 0,
    podsPerNode: 5,
    paceMs: 300,
    convergeMs: 150_000,
  };
}

const CLUSTER = 'chaos';
const NAMESPACE = 'chaos';
const AZ = 'us-west-2a';
const INSTANCE_TYPE = 'm5.24xlarge'; // 107 branch ENIs: capacity is never the limit here

/** mulberry32: small, fast, good enough to make every choice replayable from SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

let variant: ChaosVariant;
let SIZE: ReturnType<typeof sizeOf>;
let world: World | undefined;
let kubeConfig: KubeConfig;
let emulator: RunningEc2Emulator;
let replicas: Replicas | undefined;
let client: KubeClient;
let core: CoreV1Api;
let leases: CoordinationV1Api;
let holdWatch: HoldWatch | undefined;
const groups: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const instances = new Map<string, string>();
/** How each node asks for a trunk: even nodes by the legacy label, odd ones by their CNINode's feature. */
const optIns = new Map<string, 'legacy-label' | 'cninode-feature'>();
/** Each node's trunk ENI once set up: it must be the same one at the end, whatever was deleted meanwhile. */
const trunkEnis = new Map<string, string>();
/** Every pod the test created, by UID: its groups, and when the test asked for its deletion. */
const lifetimes = new Map<string, PodLifetime>();
const uids = new Map<string, string>();

/** The policies: role=web → a; role=db → b; tier present → c and a. Every chaos pod has a role. */
function policies(): SecurityGroupPolicy[] {
  const policy = (name: string, podSelector: SecurityGroupPolicy['spec']['podSelector'], ids: string[]) => ({
    apiVersion: 'vpcresources.k8s.aws/v1beta1' as const,
    kind: 'SecurityGroupPolicy' as const,
    metadata: { name, namespace: NAMESPACE },
    spec: { podSelector, securityGroups: { groupIds: ids } },
  });
  return [
    policy('web', { matchLabels: { role: 'web' } }, [groups.a]),
    policy('db', { matchExpressions: [{ key: 'role', operator: 'In', values: ['db'] }] }, [groups.b]),
    policy('tiered', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, [groups.c, groups.a]),
  ];
}

function expectedGroups(pod: V1Pod): string[] {
  const labels = pod.metadata?.labels ?? {};
  const ids = new Set<string>();
  if (labels.role === 'web') ids.add(groups.a);
  if (labels.role === 'db') ids.add(groups.b);
  if (labels.tier !== undefined) [groups.c, groups.a].forEach((id) => ids.add(id));
  return [...ids].sort();
}

async function setUp(): Promise<void> {
  process.stdout.write(
    `chaos: seed ${SEED} (SGP_CHAOS_SEED=${SEED} replays), ${FULL ? 'full' : 'small'} size, ` +
      `warm branch ENIs per node ${variant.warmBranchEnisPerNode}\n`,
  );
  world = await startWorld({
    emulator: { rngSeed: String(SEED) },
    seed: {
      vpcs: [
        {
          cidrBlocks: ['10.0.0.0/16'],
          subnets: [{ cidrBlock: '10.0.0.0/18', availabilityZone: AZ, tags: { Name: 'nodes' } }],
          securityGroups: [{ name: 'node-group' }, { name: 'a' }, { name: 'b' }, { name: 'c' }],
        },
      ],
    },
  });
  ({ client, core, emulator, kubeConfig } = world);
  leases = kubeConfig.makeApiClient(CoordinationV1Api);
  const { vpcId } = world;
  Object.assign(groups, { a: world.groups.a, b: world.groups.b, c: world.groups.c });

  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  if (variant.warmBranchEnisPerNode > 0) await setWarmLimit(variant.warmBranchEnisPerNode);
  for (const policy of policies()) await client.create(Kinds.SecurityGroupPolicy, policy);
  for (let i = 0; i < SIZE.nodes; i++) {
    const name = `chaos-node-${i}`;
    const optIn = i % 2 === 0 ? 'legacy-label' : 'cninode-feature';
    optIns.set(name, optIn);
    // The CNINode feature is put in below, before the operator starts (it keeps the feature), as ipamd would.
    const { instanceId } = await world.addNode(name, {
      instanceType: INSTANCE_TYPE,
      optIn: optIn === 'legacy-label' ? 'legacy-label' : 'none',
    });
    instances.set(name, instanceId);
    if (optIn === 'cninode-feature') {
      await client.create<CNINode>(Kinds.CNINode, {
        apiVersion: 'vpcresources.k8s.aws/v1alpha1',
        kind: 'CNINode',
        metadata: { name },
        spec: { features: [{ name: SECURITY_GROUPS_FOR_PODS_FEATURE }] },
      });
    }
  }

  const ports = await freePorts(4);
  replicas = new Replicas({
    kubeconfigPath: world.plane.kubeconfigPath,
    clusterName: CLUSTER,
    vpcId,
    ec2Endpoint: emulator.endpoint,
    ports: [
      [ports[0] ?? 0, ports[1] ?? 0],
      [ports[2] ?? 0, ports[3] ?? 0],
    ],
    extraArgs: ['--warm-branch-enis-per-node', String(variant.warmBranchEnisPerNode)],
  });
  replicas.start(0);
  replicas.start(1);
  await eventually(
    async () => {
      const trunks = await client.list<TrunkInterface>(Kinds.TrunkInterface);
      const ready = trunks.filter((trunk) => trunk.status?.state === 'Ready');
      if (ready.length < SIZE.nodes) throw new Error(`${ready.length}/${SIZE.nodes} trunks Ready`);
      for (const trunk of ready) trunkEnis.set(trunk.spec.nodeName, trunk.status?.eniId ?? '');
    },
    { timeoutMs: 90_000, intervalMs: 500, waitingFor: 'every node to get a Ready TrunkInterface' },
  );
}

async function tearDown(): Promise<void> {
  holdWatch?.stop();
  if (replicas) {
    process.stdout.write(`chaos: operator logs in ${replicas.logDir}\n`);
    await replicas.stopAll();
  }
  await world?.stop();
}

async function createPod(index: number, nodeName = pick([...instances.keys()])): Promise<void> {
  const labels: Record<string, string> = { role: pick(['web', 'db']) };
  if (random() < 0.3) labels.tier = 'gold';
  const created = await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name: `pod-${index}`, labels },
      spec: {
        nodeName,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'app',
            image: 'registry.k8s.io/pause:3.10',
            resources: { limits: { [POD_ENI_RESOURCE]: '1' }, requests: { [POD_ENI_RESOURCE]: '1' } },
          },
        ],
      },
    },
  });
  const uid = created.metadata?.uid ?? '';
  lifetimes.set(uid, { name: `pod-${index}`, groups: expectedGroups(created) });
  uids.set(`pod-${index}`, uid);
}

async function deletePod(name: string): Promise<void> {
  const life = lifetimes.get(uids.get(name) ?? '');
  // Stamped before the request: the operator cannot see the deletion before the API server has it.
  if (life) life.deleteRequestedAtMs = Date.now();
  // No kubelet here: a bound pod only goes away when forced.
  await core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
}

/** Deletes the node's TrunkInterface (the node lives on); false when it is already going. */
async function deleteTrunkInterface(node: string): Promise<boolean> {
  const trunk = await client.get<TrunkInterface>(Kinds.TrunkInterface, node);
  if (!trunk?.metadata.uid || trunk.metadata.deletionTimestamp) return false;
  try {
    await client.delete(Kinds.TrunkInterface, node, { uid: trunk.metadata.uid });
    return true;
  } catch (error) {
    // Finalized and re-created between the read and the delete: try again on a later cycle.
    if (isConflict(error) || isNotFound(error)) return false;
    throw error;
  }
}

/** The node stops asking for a trunk (its CNINode loses the feature, or its legacy label goes). */
async function setOptIn(node: string, asking: boolean): Promise<void> {
  if (optIns.get(node) === 'legacy-label') {
    await client.mergePatch(Kinds.Node, node, {
      metadata: { labels: { [HAS_TRUNK_ATTACHED_LABEL]: asking ? 'false' : null } },
    });
  } else {
    await client.mergePatch(Kinds.CNINode, node, {
      spec: { features: asking ? [{ name: SECURITY_GROUPS_FOR_PODS_FEATURE }] : null },
    });
  }
}

/** The live per-node warm limit (ConfigMap kube-system/amazon-vpc-cni, created on first use). */
async function setWarmLimit(limit: number): Promise<void> {
  const data = { [WARM_BRANCH_ENI_LIMIT_KEY]: String(limit) };
  const key = `${VPC_CNI_CONFIGMAP_NAMESPACE}/${VPC_CNI_CONFIGMAP_NAME}`;
  if (await client.get(Kinds.ConfigMap, key)) {
    await client.mergePatch(Kinds.ConfigMap, key, { data });
    return;
  }
  await client.create(Kinds.ConfigMap, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: VPC_CNI_CONFIGMAP_NAME, namespace: VPC_CNI_CONFIGMAP_NAMESPACE },
    data,
  } as KubeObject);
}

/** Cordons or uncordons a node (the first step of `kubectl drain`: its warm ENIs are released). */
async function setCordoned(node: string, cordoned: boolean): Promise<void> {
  await client.mergePatch(Kinds.Node, node, { spec: { unschedulable: cordoned ? true : null } });
}

/** Every node back on its first trunk ENI, Ready, with pod-eni capacity advertised. */
async function trunkProblems(): Promise<string[]> {
  const problems: string[] = [];
  for (const [node, eniId] of trunkEnis) {
    const trunk = await client.get<TrunkInterface>(Kinds.TrunkInterface, node);
    if (trunk?.status?.state !== 'Ready' || trunk.status.eniId !== eniId) {
      problems.push(
        `node ${node}: TrunkInterface ${trunk?.status?.state ?? 'missing'} on ${trunk?.status?.eniId}, expected Ready on ${eniId}`,
      );
    }
    const object = await client.get<KubeObject & { status?: { capacity?: Record<string, string> } }>(Kinds.Node, node);
    if (object?.status?.capacity?.[POD_ENI_RESOURCE] === undefined) problems.push(`node ${node}: no pod-eni capacity`);
  }
  const trunksByInstance = new Map<string, string[]>();
  for (const eni of emulator.control.dump().networkInterfaces) {
    if (eni.interfaceType !== 'trunk') continue;
    const instance = eni.attachment?.instanceId ?? '(unattached)';
    trunksByInstance.set(instance, [...(trunksByInstance.get(instance) ?? []), eni.id]);
  }
  for (const [instance, ids] of trunksByInstance) {
    if (ids.length !== 1) problems.push(`instance ${instance} has trunk ENIs ${ids.join(', ')}`);
  }
  return problems;
}

async function worldState() {
  const pods = (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
  const branches = await client.list<BranchInterface>(Kinds.BranchInterface, { namespace: NAMESPACE });
  const warm = await client.list<WarmBranch>(Kinds.WarmBranch);
  return {
    clusterName: CLUSTER,
    dump: emulator.control.dump(),
    pods,
    branches,
    warm,
    warmLimit: variant.warmBranchEnisPerNode,
    instances,
    expectedGroups,
  };
}

/**
 * Registers the suite for one variant: set-up (control plane, emulator, nodes, two replicas), the run, and
 * the tear-down. Each test file is its own module instance, so the state above is per variant.
 */
export function defineChaosSuite(chosen: ChaosVariant): void {
  variant = chosen;
  SIZE = sizeOf(chosen.warmBranchEnisPerNode > 0);
  beforeAll(setUp, 180_000);
  afterAll(tearDown, 60_000);
  test(
    `${FULL ? 'full' : 'small'} chaos, warm branch ENIs per node ${chosen.warmBranchEnisPerNode}: pods churn under ` +
      'SIGKILLs, leader handovers and EC2 faults; nothing leaks',
    runChaos,
    FULL ? 1_800_000 : 420_000,
  );
}

async function runChaos(): Promise<void> {
  const operators = replicas as Replicas;
  const isWarm = variant.warmBranchEnisPerNode > 0;
  const figures = {
    cycles: 0,
    created: 0,
    deleted: 0,
    kills: 0,
    handovers: 0,
    trunkDeletions: 0,
    gapKills: 0,
    optInFlaps: 0,
    limitFlaps: 0,
    cordonFlaps: 0,
    throttleBursts: 0,
  };
  // The replica holding the Lease (a kill just before may have left none yet: wait for one).
  const leaderIndex = () =>
    eventually(
      async () => {
        const lease = await leases.readNamespacedLease({ name: 'sgp-operator', namespace: 'default' });
        const index = operators.indexOf(lease.spec?.holderIdentity ?? '');
        if (index === undefined) throw new Error(`lease held by ${lease.spec?.holderIdentity}, no running replica`);
        return index;
      },
      { timeoutMs: 30_000, intervalMs: 250, waitingFor: 'a running replica to hold the Lease' },
    );
  const seenEnis = new Set<string>();
  /** The pod each branch ENI was created for (its pod-uid tag), to tell a takeover from a fresh ENI. */
  const createdFor = new Map<string, string>();
  const transient: string[] = [];
  const wrongGroups: string[] = [];
  // Each pod's groups are checked at the moment its annotation first appears, and then in every sample.
  const watch = await watchHolds(kubeConfig, NAMESPACE, (pod, eniId) => {
    const atMs = Date.now();
    const eni = emulator.control.dump().networkInterfaces.find((candidate) => candidate.id === eniId);
    const life = lifetimes.get(pod.metadata?.uid ?? '');
    // A pod whose deletion was asked for already may be seen annotated late (a resumed watch): not judged.
    if (!eni || !life || life.deleteRequestedAtMs !== undefined) return;
    const actual = [...eni.securityGroupIds].sort().join(' ');
    if (actual !== life.groups.join(' ')) {
      wrongGroups.push(
        `at ${atMs}: pod ${life.name} announced ENI ${eniId} with groups [${actual}], its policies give [${life.groups.join(' ')}]`,
      );
    }
  });
  holdWatch = watch;
  const sample = () => {
    const atMs = Date.now();
    const dump = emulator.control.dump();
    for (const eni of clusterBranchEnis({ clusterName: CLUSTER, dump })) {
      seenEnis.add(eni.id);
      createdFor.set(eni.id, eni.tags[TAG.podUid] ?? '');
    }
    transient.push(...duplicateEnis({ clusterName: CLUSTER, dump }), ...duplicateVlans(dump));
    wrongGroups.push(...wrongGroupSightings(dump, atMs, watch.holds(), lifetimes));
  };
  const sampler = setInterval(sample, 250);

  emulator.control.setEventualConsistency(300);
  emulator.control.setFaults([
    { action: '*', code: 'InternalError', status: 500, probability: 0.05 },
    { action: '*', code: 'ServiceUnavailable', status: 503, probability: 0.05, phase: 'after' },
  ]);

  // Kill and handover moments, spread over the run at random cycles.
  const killAt = new Set(Array.from({ length: SIZE.kills }, () => 1 + Math.floor(random() * (SIZE.cycles - 2))));
  while (killAt.size < SIZE.kills) killAt.add(1 + Math.floor(random() * (SIZE.cycles - 2)));
  const handoverAt = new Set<number>();
  while (handoverAt.size < SIZE.handovers) {
    const at = 1 + Math.floor(random() * (SIZE.cycles - 2));
    if (!killAt.has(at)) handoverAt.add(at);
  }
  // TrunkInterface deletions and flaps: cycles of their own (they may meet a kill: a crash mid-gap).
  const cyclesFor = (count: number) => {
    const at = new Set<number>();
    while (at.size < count) at.add(1 + Math.floor(random() * (SIZE.cycles - 2)));
    return at;
  };
  const trunkDeletionAt = cyclesFor(SIZE.trunkDeletions);
  const flapAt = cyclesFor(SIZE.optInFlaps);
  const limitFlapAt = cyclesFor(SIZE.limitFlaps);
  const cordonFlapAt = cyclesFor(SIZE.cordonFlaps);
  const flaps: Promise<void>[] = [];
  const restarts: Promise<void>[] = [];
  const restartLater = (index: number) =>
    restarts.push(pause(200 + Math.floor(random() * 2_500)).then(() => operators.start(index)));
  /** Something switched off for 0.5–3 s, then on again. */
  const flap = (off: () => Promise<void>, on: () => Promise<void>) => {
    const offMs = 500 + Math.floor(random() * 2_500);
    flaps.push(
      off()
        .then(() => pause(offMs))
        .then(on),
    );
  };
  // One limit flap at a time, so the limit is back to the variant's when the last one ends.
  let limitFlap: Promise<void> = Promise.resolve();

  const live: string[] = [];
  let nextPod = 0;
  try {
    for (let cycle = 0; cycle < SIZE.cycles; cycle++) {
      figures.cycles = cycle + 1;
      const target = SIZE.nodes * SIZE.podsPerNode;
      if (live.length === 0 || (live.length < target && random() < 0.6)) {
        const index = nextPod++;
        await createPod(index);
        live.push(`pod-${index}`);
        figures.created++;
      } else {
        const [name] = live.splice(Math.floor(random() * live.length), 1);
        await deletePod(name as string);
        figures.deleted++;
      }
      if (killAt.has(cycle)) {
        // Both replicas may be down, restarting after earlier kills: wait for one, so every planned kill lands.
        const running = await eventually(
          () => {
            const up = [0, 1].filter((i) => operators.isRunning(i));
            if (up.length === 0) throw new Error('both replicas are restarting');
            return up;
          },
          { timeoutMs: 30_000, intervalMs: 100, waitingFor: 'a running replica to kill' },
        );
        const victim = pick(running);
        await operators.stop(victim, 'SIGKILL');
        figures.kills++;
        restartLater(victim);
      }
      if (handoverAt.has(cycle)) {
        // A kill just before may have left no leader yet: wait for one, then stop it gracefully (it
        // releases the Lease, so the other replica takes over at once).
        const leader = await leaderIndex();
        await operators.stop(leader, 'SIGTERM');
        figures.handovers++;
        restartLater(leader);
      }
      if (trunkDeletionAt.has(cycle)) {
        const node = pick([...instances.keys()]);
        if (await deleteTrunkInterface(node)) {
          figures.trunkDeletions++;
          if (figures.gapKills === 0) {
            // Once for sure: the leader dies in the gap (finalizer, re-creation or adoption still to come).
            const leader = await leaderIndex();
            await operators.stop(leader, 'SIGKILL');
            figures.gapKills++;
            restartLater(leader);
          }
        } else trunkDeletionAt.add(cycle + 1 < SIZE.cycles - 1 ? cycle + 1 : cycle); // already going: next cycle
      }
      if (flapAt.has(cycle)) {
        const node = pick([...instances.keys()]);
        figures.optInFlaps++;
        flap(
          () => setOptIn(node, false),
          () => setOptIn(node, true),
        );
      }
      if (limitFlapAt.has(cycle)) {
        // The pools shrink to one warm ENI each (the oldest go), then may grow again.
        figures.limitFlaps++;
        const offMs = 1_000 + Math.floor(random() * 2_000);
        limitFlap = limitFlap
          .then(() => setWarmLimit(1))
          .then(() => pause(offMs))
          .then(() => setWarmLimit(variant.warmBranchEnisPerNode));
      }
      if (cordonFlapAt.has(cycle)) {
        const node = pick([...instances.keys()]);
        figures.cordonFlaps++;
        flap(
          () => setCordoned(node, true),
          () => setCordoned(node, false),
        );
      }
      if (random() < 0.05) {
        figures.throttleBursts++;
        emulator.control.setThrottling({ enabled: true, scale: 0.02 });
        setTimeout(() => emulator.control.setThrottling({ enabled: false }), 1_500 + random() * 1_500);
      }
      await pause(SIZE.paceMs * (0.5 + random())); // load shaping, not synchronisation
    }
    await Promise.all(restarts);
    await Promise.all(flaps);
    await limitFlap;

    // Chaos over: EC2 healthy again, both replicas up; the operator must converge on its own.
    emulator.control.setFaults([]);
    emulator.control.setThrottling({ enabled: false });
    for (const index of [0, 1]) operators.start(index);
    await eventually(
      async () => {
        const problems = [...violations(await worldState()), ...(await trunkProblems())];
        if (problems.length > 0) throw new Error(`${problems.length} problems:\n${problems.slice(0, 15).join('\n')}`);
      },
      { timeoutMs: SIZE.convergeMs, intervalMs: 1_000, waitingFor: 'the operator to converge after the chaos' },
    );
    if (isWarm) {
      // The takeover path for certain, not only when the churn's timing allows: once a deleted pod's ENI has
      // turned warm (after its cooldown), a pod placed on that node takes it.
      const parked = await eventually(
        async () => {
          const [first] = await client.list<WarmBranch>(Kinds.WarmBranch);
          if (first === undefined) throw new Error('no warm branch ENI yet');
          return first;
        },
        { timeoutMs: 120_000, intervalMs: 500, waitingFor: 'a released branch ENI to turn warm' },
      );
      const index = nextPod++;
      await createPod(index, parked.spec.nodeName);
      live.push(`pod-${index}`);
      figures.created++;
      const uid = uids.get(`pod-${index}`);
      await eventually(
        () => {
          const hold = watch.holds().find((candidate) => candidate.podUid === uid && candidate.via === 'branch');
          if (hold === undefined) throw new Error(`pod-${index} not annotated yet`);
        },
        { timeoutMs: 60_000, intervalMs: 250, waitingFor: `pod-${index} on ${parked.spec.nodeName} to get an ENI` },
      );
    }
  } finally {
    clearInterval(sampler);
    sample();
  }

  const state = await worldState();
  const counters = Object.values(emulator.control.counters());
  const sum = (field: 'calls' | 'errors' | 'throttled') => counters.reduce((total, c) => total + c[field], 0);
  const created = emulator.control.counters().CreateNetworkInterface;
  const remaining = clusterBranchEnis(state).length;
  const holds = watch.holds();
  const liveDeletions = liveEniDeletions(emulator.control.mutations(), lifetimes, holds);
  // Pods that got an ENI created for another pod: takeovers of a warm ENI.
  const takeovers = new Set(
    holds
      .filter((hold) => hold.via === 'branch' && (createdFor.get(hold.eniId) ?? hold.podUid) !== hold.podUid)
      .map((hold) => hold.podUid),
  );
  const report = {
    seed: SEED,
    size: FULL ? 'full' : 'small',
    warmBranchEnisPerNode: variant.warmBranchEnisPerNode,
    nodes: SIZE.nodes,
    podCycles: figures.cycles,
    podsCreated: figures.created,
    podsDeleted: figures.deleted,
    livePods: state.pods.length,
    kills: figures.kills,
    handovers: figures.handovers,
    throttleBursts: figures.throttleBursts,
    ec2Calls: sum('calls'),
    faultsInjected: sum('errors'),
    throttled: sum('throttled'),
    createNetworkInterfaceCalls: created?.calls ?? 0,
    modifyNetworkInterfaceAttributeCalls: emulator.control.counters().ModifyNetworkInterfaceAttribute?.calls ?? 0,
    branchEnisCreated: seenEnis.size,
    branchEnisDeleted: seenEnis.size - remaining,
    branchEnisRemaining: remaining,
    warmTakeovers: takeovers.size,
    warmEnisAtEnd: state.warm.length,
    leaked: violations(state).filter((p) => p.startsWith('leaked')).length,
    transientDuplicates: transient.length,
    wrongGroupSightings: wrongGroups.length,
    trunkDeletions: figures.trunkDeletions,
    gapKills: figures.gapKills,
    optInFlaps: figures.optInFlaps,
    limitFlaps: figures.limitFlaps,
    cordonFlaps: figures.cordonFlaps,
    liveEniDeletions: liveDeletions.length,
  };
  process.stdout.write(`chaos figures: ${JSON.stringify(report)}\n`);

  // Nothing here forges a pod-eni annotation: such an event would be the operator taking its own annotation for
  // a forgery across the kills, handovers and lagging caches above.
  const forgeries = await client.list<KubeObject & { reason?: string; message?: string }>(Kinds.Event, {
    namespace: NAMESPACE,
  });
  expect(forgeries.filter((event) => event.reason === 'PodENIAnnotationForged').map((event) => event.message)).toEqual(
    [],
  );
  expect(liveDeletions).toEqual([]);
  expect(wrongGroups).toEqual([]);
  expect(transient).toEqual([]);
  expect(violations(state)).toEqual([]);
  expect(await trunkProblems()).toEqual([]);
  expect(remaining).toBe(state.pods.length + state.warm.length);
  expect(figures.kills).toBe(SIZE.kills);
  expect(figures.handovers).toBe(SIZE.handovers);
  expect(figures.optInFlaps).toBe(SIZE.optInFlaps);
  expect(figures.limitFlaps).toBe(SIZE.limitFlaps);
  expect(figures.cordonFlaps).toBe(SIZE.cordonFlaps);
  expect(figures.trunkDeletions).toBeGreaterThan(0);
  expect(figures.gapKills).toBe(1);
  if (isWarm) {
    // The reuse paths ran: pods took warm ENIs (the run is long enough for cooldowns to end amid the churn).
    expect(takeovers.size).toBeGreaterThan(0);
  } else {
    // Reuse off is EKS's behaviour: no ENI is ever kept or handed on.
    expect({ warm: state.warm.length, takeovers: takeovers.size }).toEqual({ warm: 0, takeovers: 0 });
  }
}
