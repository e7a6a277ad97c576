/**
 * Warm branch ENI reuse through the reconcilers (docs/warm-branches.md): park after the cooldown, take over on
 * the node with no EC2 call (same groups) or one modify before the annotation (other groups), the pool's bounds,
 * and the handover's crash points.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import { branchInterfaceInformerOptions, podInformerOptions, toLeanPod } from '../../../../operator/api/pod.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../../../operator/api/types.ts';
import { warmBranchInformerOptions } from '../../../../operator/api/warm-branch.ts';
import {
  BranchEvents,
  BranchInterfaceReconciler,
  VlanReservations,
  WarmBranchReconciler,
  WarmClaims,
} from '../../../../operator/controllers/branchinterface/index.ts';
import type { NodeLike, WarmSettings } from '../../../../operator/controllers/branchinterface/index.ts';
import { DEFAULT_POD_NETWORK } from '../../../../operator/controllers/podnetwork/index.ts';
import { FakeClock, StatusCheckpoints } from '../../../../operator/framework/index.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';
import { FakeSubnetDirectory } from '../../../kit/subnets.ts';

const COOLDOWN_MS = 30_000;
const FINALIZER = 'trunking.sgp-operator.io/branch-cleanup';
const ctx = reconcileContext;

let kube: FakeKube;
let ec2: EmulatedEc2;
let vpc: TestVpc;
/** Security group ids by name: `rds` and `api` for pods, `node` for the trunk. */
let G: Record<string, string>;
let instanceId: string;
let trunkEniId: string;
let recorder: FakeRecorder;
let clock: FakeClock;
let claims: WarmClaims;
let settings: WarmSettings;
let subnets: FakeSubnetDirectory;
let branches: BranchInterfaceReconciler;
let warmReconciler: WarmBranchReconciler;

function trunk(): TrunkInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-a', uid: 'trunk-uid' },
    spec: { nodeName: 'node-a', instanceId, instanceType: 'm5.large' },
    status: {
      state: 'Ready',
      eniId: trunkEniId,
      subnetId: vpc.subnetId,
      subnetCidr: vpc.subnetCidr,
      availabilityZone: vpc.availabilityZone,
      securityGroups: [vpc.nodeGroupId],
      branchCapacity: 9,
      primaryInterface: { securityGroups: [vpc.nodeGroupId] },
    },
  };
}

function node(unschedulable = false): NodeLike {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { unschedulable } };
}

function pod(name: string, uid: string): LeanPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'catalog', uid, creationTimestamp: new Date(clock.now()).toISOString() },
    spec: {
      nodeName: 'node-a',
      containers: [{ name: 'app', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } }],
    },
    status: { phase: 'Running' },
  };
}

function branch(name: string, podUid: string, groups: string[]): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name, namespace: 'catalog', finalizers: [FINALIZER] },
    spec: { podName: name, podUid, nodeName: 'node-a', securityGroups: groups },
  };
}

function build(): void {
  const warm = kube.reader<WarmBranch>(Kinds.WarmBranch, warmBranchInformerOptions.indexers);
  const branchReader = kube.reader<BranchInterface>(Kinds.BranchInterface, branchInterfaceInformerOptions.indexers);
  const trunks = kube.reader<TrunkInterface>(Kinds.TrunkInterface);
  const nodes = kube.reader<NodeLike>(Kinds.Node);
  const warmSettings = { current: () => settings };
  branches = new BranchInterfaceReconciler({
    client: kube,
    ec2,
    clock,
    cluster: { clusterName: 'test', vpcId: vpc.vpcId, podNetwork: DEFAULT_POD_NETWORK },
    events: new BranchEvents(recorder),
    subnets,
    cooldown: { currentMs: () => COOLDOWN_MS },
    branches: branchReader,
    pods: kube.reader<LeanPod>(Kinds.Pod, podInformerOptions.indexers, toLeanPod),
    trunks,
    checkpoints: new StatusCheckpoints<BranchInterface>(),
    reservations: new VlanReservations(),
    warm,
    nodes,
    claims,
    warmSettings,
  });
  warmReconciler = new WarmBranchReconciler({
    client: kube,
    ec2,
    clock,
    recorder,
    warm,
    branches: branchReader,
    trunks,
    nodes,
    claims,
    settings: warmSettings,
    subnets,
    needsIpv6: false,
  });
}

beforeEach(async () => {
  kube = new FakeKube();
  recorder = new FakeRecorder();
  clock = new FakeClock();
  ec2 = new EmulatedEc2({ clock });
  vpc = ec2.seedVpc({ podGroups: ['rds', 'api'] });
  G = vpc.groups;
  instanceId = ec2.launchNode(vpc);
  trunkEniId = await ec2.addTrunk(vpc, instanceId);
  claims = new WarmClaims();
  settings = { limitPerNode: 2, maxIdleMs: 600_000 };
  // The VPC as read: no subnet tagged for pods, so the node's new branch ENIs go to its branch subnet only.
  subnets = new FakeSubnetDirectory({ vpcId: vpc.vpcId, cidrBlocks: ['10.0.0.0/16'], podSubnets: [] });
  kube.seed(Kinds.TrunkInterface, trunk());
  kube.seed(Kinds.Node, node());
  build();
});

const rdsGroup = () => G.rds ?? '';
const apiGroup = () => G.api ?? '';

function annotationOf(name: string): string | undefined {
  return kube.stored<LeanPod>(Kinds.Pod, `catalog/${name}`)?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'];
}

function warmRecords(): readonly WarmBranch[] {
  return kube.reader<WarmBranch>(Kinds.WarmBranch).list();
}

/**
 * Ready pods (all at once, so none takes another's ENI), then all gone and cooled down: their ENIs are parked
 * in this order, `spacingMs` apart. Returns the ENI ids.
 */
async function parkedEnis(pods: { name: string; groups: string[] }[], spacingMs = 0): Promise<string[]> {
  const eniIds: string[] = [];
  for (const { name, groups } of pods) {
    kube.seed(Kinds.Pod, pod(name, `uid-${name}`));
    kube.seed(Kinds.BranchInterface, branch(name, `uid-${name}`, groups));
    await branches.reconcile(`catalog/${name}`, ctx());
    eniIds.push(kube.stored<BranchInterface>(Kinds.BranchInterface, `catalog/${name}`)?.status?.eniId ?? '');
  }
  for (const { name } of pods) {
    kube.remove(Kinds.Pod, `catalog/${name}`);
    await branches.reconcile(`catalog/${name}`, ctx()); // CoolingDown
  }
  clock.advance(COOLDOWN_MS);
  for (const { name } of pods) {
    await branches.reconcile(`catalog/${name}`, ctx()); // parked (or deleted)
    clock.advance(spacingMs);
  }
  return eniIds;
}

async function parkedEniOf(name: string, groups: string[]): Promise<string> {
  return (await parkedEnis([{ name, groups }]))[0] ?? '';
}

describe('parking', () => {
  test('after the cooldown the ENI is recorded warm, stays associated, and the BranchInterface goes: no EC2 call', async () => {
    kube.seed(Kinds.Pod, pod('old', 'uid-old'));
    kube.seed(Kinds.BranchInterface, branch('old', 'uid-old', [rdsGroup()]));
    await branches.reconcile('catalog/old', ctx());
    const status = kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/old')?.status;
    kube.remove(Kinds.Pod, 'catalog/old');
    await branches.reconcile('catalog/old', ctx());
    clock.advance(COOLDOWN_MS - 1);
    expect(await branches.reconcile('catalog/old', ctx())).toEqual({ requeueAfterMs: 1 });
    ec2.reset();
    clock.advance(1);
    await branches.reconcile('catalog/old', ctx());

    expect(ec2.calls).toEqual([]);
    expect(kube.stored(Kinds.BranchInterface, 'catalog/old')).toBeUndefined();
    expect(
      warmRecords().map((warm) => ({
        name: warm.metadata.name,
        finalizers: warm.metadata.finalizers,
        spec: warm.spec,
      })),
    ).toEqual([
      {
        name: status?.eniId,
        finalizers: ['trunking.sgp-operator.io/warm-branch-cleanup'],
        spec: {
          nodeName: 'node-a',
          eniId: status?.eniId,
          trunkEniId,
          vlanId: 1,
          associationId: status?.associationId,
          macAddress: status?.macAddress,
          privateIp: status?.privateIp,
          subnetId: vpc.subnetId,
          subnetCidr: vpc.subnetCidr,
          securityGroups: [rdsGroup()],
          warmSince: new Date(clock.now()).toISOString(),
          previousPod: 'catalog/old',
          previousBranchUid: expect.any(String),
        },
      },
    ]);
    // Still associated on its VLAN, and still carrying its groups.
    expect(ec2.associations().map((association) => [association.branchInterfaceId, association.vlanId])).toEqual([
      [status?.eniId, 1],
    ]);
    expect(ec2.eni(status?.eniId ?? '')?.securityGroupIds).toEqual([rdsGroup()]);
  });

  test('with the limit at 0 the release is EKS’s: one DeleteNetworkInterface, no warm record', async () => {
    settings = { limitPerNode: 0, maxIdleMs: 600_000 };
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([eniId]);
    expect(ec2.eni(eniId)).toBeUndefined();
    expect(warmRecords()).toEqual([]);
  });

  test('a full pool deletes the ENI instead', async () => {
    settings = { limitPerNode: 1, maxIdleMs: 600_000 };
    const [, second] = await parkedEnis([
      { name: 'a', groups: [rdsGroup()] },
      { name: 'b', groups: [rdsGroup()] },
    ]);
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([second]);
    expect(ec2.eni(second ?? '')).toBeUndefined();
    expect(warmRecords()).toHaveLength(1);
  });
});

describe('taking over a warm ENI', () => {
  test('same groups: the new pod is annotated with the warm ENI, its VLAN and IP, and EC2 sees no call', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    const parked = warmRecords()[0];
    ec2.reset();
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    await branches.reconcile('catalog/new', ctx());

    expect(ec2.calls).toEqual([]);
    expect(JSON.parse(annotationOf('new') ?? '[]')).toEqual([
      {
        eniId,
        ifAddress: parked?.spec.macAddress,
        privateIp: parked?.spec.privateIp,
        ipv6Addr: '',
        vlanId: 1,
        subnetCidr: vpc.subnetCidr,
        subnetV6Cidr: '',
        associationID: parked?.spec.associationId,
      },
    ]);
    expect(kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/new')?.status).toMatchObject({
      phase: 'Ready',
      reusedFrom: eniId,
      eniId,
      vlanId: 1,
      appliedSecurityGroups: [rdsGroup()],
    });
    expect(recorder.reasons()).toContain('WarmBranchENIReused');
    // The warm record goes off the pod's path: the WarmBranch reconciler, woken by the branch's status, drops it
    // (the ENI stays: it is the new branch's).
    expect(warmRecords().map((warm) => warm.spec.eniId)).toEqual([eniId]);
    expect(await warmReconciler.reconcile(eniId, ctx())).toEqual({});
    expect(warmRecords()).toEqual([]);
    expect(ec2.calls).toEqual([]);
  });

  test('other groups: one ModifyNetworkInterfaceAttribute, and it succeeds before the annotation is written', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    ec2.reset();
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [apiGroup()]));
    ec2.failNext('setSecurityGroups', new Error('EC2 unavailable'));

    await expect(branches.reconcile('catalog/new', ctx())).rejects.toThrow('EC2 unavailable');
    // The ENI is the new branch's (recorded), but the pod has not been told about it.
    expect(annotationOf('new')).toBeUndefined();
    expect(kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/new')?.status).toMatchObject({
      phase: 'Reusing',
      eniId,
      appliedSecurityGroups: [],
    });

    await branches.reconcile('catalog/new', ctx());
    expect(ec2.calls.map((call) => call.method)).toEqual(['setSecurityGroups', 'setSecurityGroups']);
    expect(ec2.eni(eniId)?.securityGroupIds).toEqual([apiGroup()]);
    expect(JSON.parse(annotationOf('new') ?? '[]')[0]?.eniId).toBe(eniId);
  });

  test('the same-group ENI is preferred over an older one with other groups', async () => {
    const [, rds] = await parkedEnis(
      [
        { name: 'a', groups: [apiGroup()] },
        { name: 'b', groups: [rdsGroup()] },
      ],
      1_000,
    );
    ec2.reset();
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    await branches.reconcile('catalog/new', ctx());
    expect(ec2.calls).toEqual([]);
    expect(JSON.parse(annotationOf('new') ?? '[]')[0]?.eniId).toBe(rds);
  });

  test('a crash after recording the takeover, before its warm record went: the next process drops the record only', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    kube.failNext('jsonPatch', new Error('killed')); // the pod's annotation: the takeover is recorded, no more
    await expect(branches.reconcile('catalog/new', ctx())).rejects.toThrow('killed');
    expect(kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/new')?.status?.eniId).toBe(eniId);
    expect(warmRecords().map((warm) => warm.metadata.name)).toEqual([eniId]);

    // A restarted operator: no memory of the claim. The warm record must not be handed to anyone else.
    claims = new WarmClaims();
    build();
    ec2.reset();
    kube.seed(Kinds.Pod, pod('other', 'uid-other'));
    kube.seed(Kinds.BranchInterface, branch('other', 'uid-other', [rdsGroup()]));
    await branches.reconcile('catalog/other', ctx());
    expect(kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/other')?.status?.eniId).not.toBe(eniId);
    // Nor released, however old: its ENI is recorded by a branch, so the WarmBranch reconciler drops the record.
    clock.advance(3_600_000);
    expect(await warmReconciler.reconcile(eniId, ctx())).toEqual({});
    expect(warmRecords()).toEqual([]);
    await branches.reconcile('catalog/new', ctx());
    expect(JSON.parse(annotationOf('new') ?? '[]')[0]?.eniId).toBe(eniId);
    expect(ec2.eni(eniId)).toBeDefined();
    expect(ec2.callsOf('deleteNetworkInterface')).not.toContain(eniId);
  });

  test('a takeover whose status write fails leaves the ENI warm, to be taken by the next pod', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    kube.failNext('mergePatchStatus', new Error('apiserver unavailable'));
    await expect(branches.reconcile('catalog/new', ctx())).rejects.toThrow('apiserver unavailable');
    expect(claims.claimantOf(eniId)).toBeUndefined();
    expect(await warmReconciler.reconcile(eniId, ctx())).toEqual({ requeueAfterMs: 600_000 });
    expect(warmRecords().map((warm) => warm.spec.eniId)).toEqual([eniId]);

    await branches.reconcile('catalog/new', ctx());
    expect(JSON.parse(annotationOf('new') ?? '[]')[0]?.eniId).toBe(eniId);
  });

  test('a branch released while the record of its own takeover lingers parks once that record is gone', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    await branches.reconcile('catalog/new', ctx());
    kube.remove(Kinds.Pod, 'catalog/new');
    await branches.reconcile('catalog/new', ctx()); // CoolingDown
    clock.advance(COOLDOWN_MS);
    // Not patched into the previous holder's record (the WarmBranch reconciler may be dropping it right now).
    await expect(branches.reconcile('catalog/new', ctx())).rejects.toThrow("still the previous holder's");
    expect(warmRecords().map((warm) => warm.spec.previousPod)).toEqual(['catalog/old']);

    await warmReconciler.reconcile(eniId, ctx());
    expect(warmRecords()).toEqual([]);
    ec2.reset();
    await branches.reconcile('catalog/new', ctx());
    expect(ec2.calls).toEqual([]);
    expect(warmRecords().map((warm) => [warm.spec.eniId, warm.spec.previousPod])).toEqual([[eniId, 'catalog/new']]);
  });

  test('a crash after parking but before the old BranchInterface went: the repeat only drops it', async () => {
    kube.seed(Kinds.Pod, pod('old', 'uid-old'));
    kube.seed(Kinds.BranchInterface, branch('old', 'uid-old', [rdsGroup()]));
    await branches.reconcile('catalog/old', ctx());
    const eniId = kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/old')?.status?.eniId ?? '';
    kube.remove(Kinds.Pod, 'catalog/old');
    await branches.reconcile('catalog/old', ctx());
    clock.advance(COOLDOWN_MS);
    kube.failNext('delete', new Error('killed'));
    await expect(branches.reconcile('catalog/old', ctx())).rejects.toThrow('killed');
    expect(warmRecords()).toHaveLength(1);

    claims = new WarmClaims();
    build();
    ec2.reset();
    await branches.reconcile('catalog/old', ctx());
    expect(ec2.calls).toEqual([]);
    expect(kube.stored(Kinds.BranchInterface, 'catalog/old')).toBeUndefined();
    expect(warmRecords().map((warm) => warm.spec.eniId)).toEqual([eniId]);
  });
});

describe('the pool', () => {
  test('an ENI idle past the maximum is deleted, then its record', async () => {
    settings = { limitPerNode: 2, maxIdleMs: 60_000 };
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    expect(await warmReconciler.reconcile(eniId, ctx())).toEqual({ requeueAfterMs: 60_000 });
    clock.advance(60_000);
    ec2.reset();
    await warmReconciler.reconcile(eniId, ctx());
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([eniId]);
    expect(ec2.eni(eniId)).toBeUndefined();
    expect(warmRecords()).toEqual([]);
    expect(recorder.reasons()).toContain('WarmBranchENIReleased');
  });

  test('a reconcile while the cache still shows the released record neither deletes nor reports it again', async () => {
    settings = { limitPerNode: 2, maxIdleMs: 60_000 };
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    clock.advance(60_000);
    kube.freezeCache();
    ec2.reset();
    await warmReconciler.reconcile(eniId, ctx());
    expect(await warmReconciler.reconcile(eniId, ctx())).toEqual({});
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([eniId]);
    expect(recorder.reasons().filter((reason) => reason === 'WarmBranchENIReleased')).toHaveLength(1);
  });

  test('lowering the limit releases the oldest first', async () => {
    const [first = '', second = ''] = await parkedEnis(
      [
        { name: 'a', groups: [rdsGroup()] },
        { name: 'b', groups: [rdsGroup()] },
      ],
      1_000,
    );
    settings = { limitPerNode: 1, maxIdleMs: 600_000 };
    ec2.reset();
    await warmReconciler.reconcile(second, ctx());
    await warmReconciler.reconcile(first, ctx());
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([first]);
    expect(warmRecords().map((warm) => warm.spec.eniId)).toEqual([second]);
  });

  test('a cordoned node releases its warm ENIs', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    kube.seed(Kinds.Node, node(true));
    await warmReconciler.reconcile(eniId, ctx());
    expect(ec2.eni(eniId)).toBeUndefined();
    expect(warmRecords()).toEqual([]);
  });

  test('a warm ENI a branch is taking over is never released; its record goes once the branch records it', async () => {
    settings = { limitPerNode: 2, maxIdleMs: 60_000 };
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    claims.tryClaim(eniId, 'uid-of-a-branch-being-written');
    clock.advance(120_000);
    // Claimed, status write in flight: neither released nor dropped (that write may still fail).
    expect(await warmReconciler.reconcile(eniId, ctx())).toEqual({ requeueAfterMs: 1_000 });
    expect(warmRecords().map((warm) => warm.spec.eniId)).toEqual([eniId]);
    claims.markRecorded(eniId, 'uid-of-a-branch-being-written');
    await warmReconciler.reconcile(eniId, ctx());
    expect(ec2.eni(eniId)).toBeDefined();
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([]);
    expect(warmRecords()).toEqual([]);
  });

  test('a node full of running pods and a warm ENI: the next pod takes the warm ENI instead of waiting', async () => {
    for (let i = 0; i < 8; i++) {
      kube.seed(Kinds.Pod, pod(`run-${i}`, `uid-run-${i}`));
      kube.seed(Kinds.BranchInterface, branch(`run-${i}`, `uid-run-${i}`, [rdsGroup()]));
      await branches.reconcile(`catalog/run-${i}`, ctx());
    }
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    // 8 in use + 1 warm = the m5.large's 9 branch ENIs.
    ec2.reset();
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [apiGroup()]));
    await branches.reconcile('catalog/new', ctx());
    expect(ec2.calls.map((call) => call.method)).toEqual(['setSecurityGroups']);
    expect(JSON.parse(annotationOf('new') ?? '[]')[0]?.eniId).toBe(eniId);
    expect(recorder.reasons()).not.toContain('BranchENICapacityReached');
  });

  test('after an ENIConfig edit a warm ENI in the old subnet is not given to a pod, and is released', async () => {
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    // What the trunk controller records when the node's ENIConfig names another subnet (docs/networks.md).
    const edited = ec2.control.addSubnet({
      vpcId: vpc.vpcId,
      cidrBlock: '10.0.1.0/24',
      availabilityZone: 'us-west-2a',
    });
    const moved = trunk();
    kube.seed(Kinds.TrunkInterface, {
      ...moved,
      status: { ...moved.status, branchSubnet: { subnetId: edited.id, cidrBlock: '10.0.1.0/24' } },
    });
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    await branches.reconcile('catalog/new', ctx());
    const status = kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/new')?.status;
    expect(status?.eniId).not.toBe(eniId);
    expect(status?.reusedFrom).toBeUndefined();
    expect(ec2.eni(status?.eniId ?? '')?.subnetId).toBe(edited.id);
    expect(JSON.parse(annotationOf('new') ?? '[]')[0]?.subnetCidr).toBe('10.0.1.0/24');

    ec2.reset();
    await warmReconciler.reconcile(eniId, ctx());
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([eniId]);
    expect(ec2.eni(eniId)).toBeUndefined();
    expect(warmRecords()).toEqual([]);
    expect(recorder.events.map((event) => [event.reason, event.message])).toContainEqual([
      'WarmBranchENIReleased',
      expect.stringContaining(`is in subnet ${vpc.subnetId}, where node node-a's new branch ENIs no longer go`),
    ]);
  });

  test('a record being retired is not handed to a pod', async () => {
    settings = { limitPerNode: 2, maxIdleMs: 60_000 };
    const eniId = await parkedEniOf('old', [rdsGroup()]);
    expect(claims.tryRetire(eniId)).toBe(true);
    kube.seed(Kinds.Pod, pod('new', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branch('new', 'uid-new', [rdsGroup()]));
    await branches.reconcile('catalog/new', ctx());
    const status = kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/new')?.status;
    expect(status?.eniId).not.toBe(eniId);
    expect(status?.vlanId).toBe(2); // the warm ENI still holds VLAN 1
  });
});
