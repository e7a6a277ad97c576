/**
 * Chaos: pods come and go across nodes while the operator replicas are SIGKILLed at random moments and the
 * leader is made to hand over, against a private kube-apiserver and an EC2 emulator that fails 10% of calls
 * with 5xx (half of them after doing the work: lost responses), throttles in bursts and shows new objects
 * late. Afterwards the operator must converge to: no ENI without a live owner, every pod's ENI carrying
 * exactly its policies' groups, never two ENIs for one pod, unique VLANs per trunk, every pod annotated.
 *
 * Small by default (inside `make test`); SGP_CHAOS_FULL=1 (`make chaos`) runs the full size. Every random
 * choice comes from one printed seed: SGP_CHAOS_SEED=<seed> replays a run.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { freePorts, startControlPlane, type ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { installCrds } from '../../../hack/control-plane/crds.ts';
import { startEc2Emulator, type RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import { HAS_TRUNK_ATTACHED_LABEL, POD_ENI_RESOURCE } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, SecurityGroupPolicy, TrunkInterface } from '../../../operator/api/types.ts';
import { createKubeClient, type KubeClient, type KubeObject } from '../../../operator/framework/index.ts';
import { eventually } from '../harness/index.ts';
import { clusterBranchEnis, duplicateEnis, duplicateVlans, violations } from './invariants.ts';
import { Replicas } from './replicas.ts';

const FULL = process.env.SGP_CHAOS_FULL === '1';
const SIZE = FULL
  ? { nodes: 10, cycles: 500, kills: 12, handovers: 4, podsPerNode: 12, paceMs: 150, convergeMs: 600_000 }
  : { nodes: 3, cycles: 40, kills: 3, handovers: 1, podsPerNode: 5, paceMs: 300, convergeMs: 150_000 };
const SEED = Number(process.env.SGP_CHAOS_SEED) || Math.floor(Math.random() * 2 ** 31);
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

let plane: ControlPlane;
let emulator: RunningEc2Emulator;
let replicas: Replicas | undefined;
let client: KubeClient;
let core: CoreV1Api;
let leases: CoordinationV1Api;
const groups: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const instances = new Map<string, string>();

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

beforeAll(async () => {
  process.stdout.write(`chaos: seed ${SEED} (SGP_CHAOS_SEED=${SEED} replays), ${FULL ? 'full' : 'small'} size\n`);
  plane = await startControlPlane();
  await installCrds(plane.kubeconfigPath);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  client = createKubeClient(kubeConfig);
  core = kubeConfig.makeApiClient(CoreV1Api);
  leases = kubeConfig.makeApiClient(CoordinationV1Api);

  emulator = await startEc2Emulator({
    port: 0,
    rngSeed: String(SEED),
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
  const dump = emulator.control.dump();
  const vpcId = dump.vpcs[0]?.id ?? '';
  const subnetId = dump.subnets[0]?.id ?? '';
  const groupId = (name: string) => dump.securityGroups.find((group) => group.name === name)?.id ?? '';
  Object.assign(groups, { a: groupId('a'), b: groupId('b'), c: groupId('c') });

  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  for (const policy of policies()) await client.create(Kinds.SecurityGroupPolicy, policy);
  for (let i = 0; i < SIZE.nodes; i++) {
    const name = `chaos-node-${i}`;
    const instance = emulator.control.launchInstance({
      instanceType: INSTANCE_TYPE,
      subnet: subnetId,
      securityGroups: [groupId('node-group')],
    });
    instances.set(name, instance.id);
    await client.create(Kinds.Node, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': INSTANCE_TYPE,
          [HAS_TRUNK_ATTACHED_LABEL]: 'false',
        },
      },
      spec: { providerID: `aws:///${AZ}/${instance.id}` },
    });
  }

  const ports = await freePorts(4);
  replicas = new Replicas({
    kubeconfigPath: plane.kubeconfigPath,
    clusterName: CLUSTER,
    vpcId,
    ec2Endpoint: emulator.endpoint,
    ports: [
      [ports[0] ?? 0, ports[1] ?? 0],
      [ports[2] ?? 0, ports[3] ?? 0],
    ],
  });
  replicas.start(0);
  replicas.start(1);
  await eventually(
    async () => {
      const trunks = await client.list<TrunkInterface>(Kinds.TrunkInterface);
      const ready = trunks.filter((trunk) => trunk.status?.state === 'Ready').length;
      if (ready < SIZE.nodes) throw new Error(`${ready}/${SIZE.nodes} trunks Ready`);
    },
    { timeoutMs: 90_000, intervalMs: 500, waitingFor: 'every node to get a Ready TrunkInterface' },
  );
}, 180_000);

afterAll(async () => {
  if (replicas) {
    process.stdout.write(`chaos: operator logs in ${replicas.logDir}\n`);
    await replicas.stopAll();
  }
  await emulator?.stop();
  await plane?.stop();
}, 60_000);

async function createPod(index: number): Promise<void> {
  const labels: Record<string, string> = { role: pick(['web', 'db']) };
  if (random() < 0.3) labels.tier = 'gold';
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name: `pod-${index}`, labels },
      spec: {
        nodeName: pick([...instances.keys()]),
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
}

async function deletePod(name: string): Promise<void> {
  // No kubelet here: a bound pod only goes away when forced.
  await core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
}

async function worldState() {
  const pods = (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
  const branches = await client.list<BranchInterface>(Kinds.BranchInterface, { namespace: NAMESPACE });
  return { clusterName: CLUSTER, dump: emulator.control.dump(), pods, branches, instances, expectedGroups };
}

test(
  `${FULL ? 'full' : 'small'} chaos: pods churn under SIGKILLs, leader handovers and EC2 faults; nothing leaks`,
  async () => {
    const operators = replicas as Replicas;
    const figures = { cycles: 0, created: 0, deleted: 0, kills: 0, handovers: 0, throttleBursts: 0 };
    const seenEnis = new Set<string>();
    const transient: string[] = [];
    const sample = () => {
      const dump = emulator.control.dump();
      for (const eni of clusterBranchEnis({ clusterName: CLUSTER, dump })) seenEnis.add(eni.id);
      transient.push(...duplicateEnis({ clusterName: CLUSTER, dump }), ...duplicateVlans(dump));
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
    const restarts: Promise<void>[] = [];
    const restartLater = (index: number) =>
      restarts.push(pause(200 + Math.floor(random() * 2_500)).then(() => operators.start(index)));

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
          const leader = await eventually(
            async () => {
              const lease = await leases.readNamespacedLease({ name: 'sgp-operator', namespace: 'default' });
              const index = operators.indexOf(lease.spec?.holderIdentity ?? '');
              if (index === undefined)
                throw new Error(`lease held by ${lease.spec?.holderIdentity}, no running replica`);
              return index;
            },
            { timeoutMs: 30_000, intervalMs: 250, waitingFor: 'a running replica to hold the Lease' },
          );
          await operators.stop(leader, 'SIGTERM');
          figures.handovers++;
          restartLater(leader);
        }
        if (random() < 0.05) {
          figures.throttleBursts++;
          emulator.control.setThrottling({ enabled: true, scale: 0.02 });
          setTimeout(() => emulator.control.setThrottling({ enabled: false }), 1_500 + random() * 1_500);
        }
        await pause(SIZE.paceMs * (0.5 + random())); // load shaping, not synchronisation
      }
      await Promise.all(restarts);

      // Chaos over: EC2 healthy again, both replicas up; the operator must converge on its own.
      emulator.control.setFaults([]);
      emulator.control.setThrottling({ enabled: false });
      for (const index of [0, 1]) operators.start(index);
      await eventually(
        async () => {
          const problems = violations(await worldState());
          if (problems.length > 0) throw new Error(`${problems.length} problems:\n${problems.slice(0, 15).join('\n')}`);
        },
        { timeoutMs: SIZE.convergeMs, intervalMs: 1_000, waitingFor: 'the operator to converge after the chaos' },
      );
    } finally {
      clearInterval(sampler);
      sample();
    }

    const state = await worldState();
    const counters = Object.values(emulator.control.counters());
    const sum = (field: 'calls' | 'errors' | 'throttled') => counters.reduce((total, c) => total + c[field], 0);
    const created = emulator.control.counters().CreateNetworkInterface;
    const remaining = clusterBranchEnis(state).length;
    const report = {
      seed: SEED,
      size: FULL ? 'full' : 'small',
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
      branchEnisCreated: seenEnis.size,
      branchEnisDeleted: seenEnis.size - remaining,
      branchEnisRemaining: remaining,
      leaked: violations(state).filter((p) => p.startsWith('leaked')).length,
      transientDuplicates: transient.length,
    };
    process.stdout.write(`chaos figures: ${JSON.stringify(report)}\n`);

    // Nothing here forges a pod-eni annotation: such an event would be the operator taking its own annotation for
    // a forgery across the kills, handovers and lagging caches above.
    const forgeries = await client.list<KubeObject & { reason?: string; message?: string }>(Kinds.Event, {
      namespace: NAMESPACE,
    });
    expect(
      forgeries.filter((event) => event.reason === 'PodENIAnnotationForged').map((event) => event.message),
    ).toEqual([]);
    expect(transient).toEqual([]);
    expect(violations(state)).toEqual([]);
    expect(remaining).toBe(state.pods.length);
    expect(figures.kills).toBe(SIZE.kills);
    expect(figures.handovers).toBe(SIZE.handovers);
  },
  FULL ? 1_800_000 : 420_000,
);
