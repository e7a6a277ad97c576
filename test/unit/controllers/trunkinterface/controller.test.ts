import { beforeEach, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, CNINode, ENIConfig, TrunkInterface } from '../../../../operator/api/types.ts';
import { Ec2RetryableError, Ec2UnauthorizedError } from '../../../../operator/aws/index.ts';
import { DEFAULT_POD_NETWORK } from '../../../../operator/controllers/podnetwork/index.ts';
import { OutsideFixError } from '../../../../operator/errors.ts';
import type { KubeObject } from '../../../../operator/framework/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import { createLimitsProvider } from '../../../../operator/limits/index.ts';
import {
  BRANCHES_BY_NODE,
  TrunkInterfaceReconciler,
} from '../../../../operator/controllers/trunkinterface/controller.ts';
import { TrunkEvents } from '../../../../operator/controllers/trunkinterface/events.ts';
import { CREATE_ATTEMPT_ANNOTATION } from '../../../../operator/controllers/trunkinterface/attempts.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';
import { FakeSubnetDirectory } from '../../../kit/subnets.ts';

const NODE = 'node-a';

let kube: FakeKube;
let ec2: EmulatedEc2;
let vpc: TestVpc;
let instanceId: string;
let recorder: FakeRecorder;
let reconciler: TrunkInterfaceReconciler;
let clock: FakeClock;
let subnets: FakeSubnetDirectory;

function trunkInterface(
  creationTimestamp: string,
  ownerReferences: KubeObject['metadata']['ownerReferences'],
): TrunkInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: {
      name: NODE,
      creationTimestamp,
      ownerReferences,
      finalizers: ['trunking.sgp-operator.io/trunk-cleanup'],
    },
    spec: { nodeName: NODE, instanceId, instanceType: 'm5.large' },
  };
}

beforeEach(() => {
  kube = new FakeKube();
  subnets = new FakeSubnetDirectory();
  clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'));
  ec2 = new EmulatedEc2({ clock });
  vpc = ec2.seedVpc();
  instanceId = ec2.launchNode(vpc);
  recorder = new FakeRecorder();
  const node = kube.seed<KubeObject>(Kinds.Node, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
  kube.seed<TrunkInterface>(
    Kinds.TrunkInterface,
    trunkInterface('2026-03-01T00:00:00Z', [
      { apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata.uid ?? '', controller: true },
    ]),
  );
  reconciler = new TrunkInterfaceReconciler({
    client: kube,
    ec2,
    limits: createLimitsProvider({ ec2, overrides: () => ({}) }),
    clock,
    cluster: { clusterName: 'prod', vpcId: vpc.vpcId, podNetwork: DEFAULT_POD_NETWORK },
    events: new TrunkEvents(recorder),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    nodes: kube.reader<KubeObject>(Kinds.Node),
    branches: kube.reader<BranchInterface>(Kinds.BranchInterface, { [BRANCHES_BY_NODE]: (b) => [b.spec.nodeName] }),
    cniNodes: kube.reader<CNINode>(Kinds.CNINode),
    eniConfigs: kube.reader<ENIConfig>(Kinds.ENIConfig),
    network: DEFAULT_POD_NETWORK,
    subnets,
  });
});

const trunk = async (): Promise<TrunkInterface | undefined> => kube.get<TrunkInterface>(Kinds.TrunkInterface, NODE);
const trunkEnis = () => ec2.enis().filter((eni) => eni.interfaceType === 'trunk');

describe('TrunkInterfaceReconciler', () => {
  test('creates the trunk with the primary ENI groups and our tags, attaches it at the highest free index, and reports Ready', async () => {
    const result = await reconciler.reconcile(NODE, reconcileContext());

    expect(ec2.mutatingCalls()).toEqual(['createNetworkInterface', 'attachNetworkInterface', 'setDeleteOnTermination']);
    expect(ec2.callsOf('createNetworkInterface')[0]).toMatchObject({
      subnetId: vpc.subnetId,
      securityGroupIds: [vpc.nodeGroupId],
      description: 'aws-k8s-trunk-eni',
      interfaceType: 'trunk',
      tags: {
        'eks:eni:owner': 'sgp-operator',
        'kubernetes.io/cluster/prod': 'owned',
        'cluster.k8s.amazonaws.com/name': 'prod',
        'node.k8s.amazonaws.com/instance_id': instanceId,
        'trunking.sgp-operator.io/node-name': NODE,
      },
    });
    expect(ec2.callsOf('attachNetworkInterface')[0]).toMatchObject({ instanceId, deviceIndex: 2, networkCardIndex: 0 });
    const [created] = trunkEnis();
    expect(created?.attachment).toMatchObject({ instanceId, deviceIndex: 2, deleteOnTermination: true });
    const status = (await trunk())?.status;
    expect(status).toMatchObject({
      state: 'Ready',
      eniId: created?.id,
      subnetId: vpc.subnetId,
      subnetCidr: '10.0.0.0/24',
      availabilityZone: 'us-west-2a',
      securityGroups: [vpc.nodeGroupId],
      branchCapacity: 9,
      branchesUsed: 0,
      observedGeneration: 1,
      branchSubnet: { subnetId: vpc.subnetId, cidrBlock: '10.0.0.0/24' },
      primaryInterface: { securityGroups: [vpc.nodeGroupId] },
    });
    expect(status?.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', reason: 'TrunkAttached' }),
      expect.objectContaining({ type: 'PodNetworkReady', status: 'True', reason: 'NodeSubnet' }),
    ]);
    expect(recorder.reasons()).toEqual(['NodeTrunkInitiated']);
    expect(result).toEqual({ requeueAfterMs: 15 * 60_000 });
  });

  test("the trunk is created with the primary ENI's connection tracking, which status records for the branches", async () => {
    const tracking = { tcpEstablishedTimeout: 3600, udpStreamTimeout: 120, udpTimeout: 45 };
    const tracked = ec2.launchNode(vpc, { connectionTracking: tracking });
    await kube.mergePatch<TrunkInterface>(Kinds.TrunkInterface, NODE, { spec: { instanceId: tracked } });

    await reconciler.reconcile(NODE, reconcileContext());
    const status = (await trunk())?.status;
    expect(ec2.eni(status?.eniId ?? '')?.connectionTracking).toEqual(tracking);
    expect(status?.primaryInterface).toEqual({ securityGroups: [vpc.nodeGroupId], connectionTracking: tracking });
  });

  test('a settled Ready trunk costs no EC2 call on the next reconcile', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    const callsBefore = ec2.calls.length;
    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.calls.length).toBe(callsBefore);
  });

  test('adopts a trunk already attached to the instance instead of creating one', async () => {
    const existing = await ec2.addTrunk(vpc, instanceId);

    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.mutatingCalls()).toEqual([]);
    expect((await trunk())?.status).toMatchObject({ state: 'Ready', eniId: existing });
  });

  test('a failed attach deletes the ENI it created, counts the attempt, and the retry uses a new ClientToken', async () => {
    ec2.failNext(
      'attachNetworkInterface',
      new Ec2RetryableError('boom', { code: 'InternalError', action: 'AttachNetworkInterface' }),
    );

    await expect(reconciler.reconcile(NODE, reconcileContext())).rejects.toThrow(
      /attaching trunk ENI eni-[0-9a-f]+ for node node-a: boom/,
    );
    expect(trunkEnis()).toEqual([]);
    const failed = await trunk();
    expect(failed?.metadata.annotations?.[CREATE_ATTEMPT_ANNOTATION]).toBe('1');
    expect(failed?.status).toMatchObject({ state: 'Failed' });
    expect(failed?.status?.eniId).toBeUndefined();
    expect(recorder.reasons()).toEqual(['TrunkENICreationFailed', 'NodeTrunkFailedInit']);
    expect(recorder.events[0]?.message).toMatch(
      /^Failed to create trunk interface: Error Code: InternalError \(AttachNetworkInterface\)/,
    );

    // EC2 answers a reused ClientToken with the ENI it first made, deleted or not: only a new token gets a new one.
    await reconciler.reconcile(NODE, reconcileContext());
    const tokens = ec2.callsOf('createNetworkInterface').map((input) => (input as { clientToken: string }).clientToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect((await trunk())?.status?.state).toBe('Ready');
    expect(trunkEnis().map((eni) => eni.id)).toEqual([(await trunk())?.status?.eniId]);
  });

  test('trunking not enabled for the account: the event carries the IAM and allow-list hint, and the reconcile waits on the long backoff for the fix', async () => {
    ec2.control.setTrunkingEnabled(false);
    const failure = reconciler.reconcile(NODE, reconcileContext());
    await expect(failure).rejects.toBeInstanceOf(OutsideFixError);
    await expect(failure).rejects.toThrow(/UnauthorizedOperation/);
    expect(recorder.events[0]).toMatchObject({
      kind: 'Node',
      name: NODE,
      type: 'Warning',
      reason: 'TrunkENICreationFailed',
    });
    expect(recorder.events[0]?.message).toContain('Error Code: UnauthorizedOperation');
    expect(recorder.events[0]?.message).toContain('AmazonEKSVPCResourceController');
    expect(recorder.events[0]?.message).toContain('allow-listed for ENI trunking');
    expect((await trunk())?.status?.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'TrunkENICreationFailed',
    });
    // AWS enables the account; no watch reports it, and the long-backoff retry finds it.
    ec2.control.setTrunkingEnabled(true);
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await trunk())?.status?.state).toBe('Ready');
  });

  test('node gone: every branch ENI on the trunk is disassociated and deleted, then the TrunkInterface goes; the trunk stays', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    const trunkEniId = (await trunk())?.status?.eniId ?? '';
    for (const vlanId of [1, 2]) {
      const branch = await ec2.prepare.createNetworkInterface({
        subnetId: vpc.subnetId,
        securityGroupIds: [vpc.podGroupIds[0] ?? ''],
        description: 'aws-k8s-branch-eni',
        tags: { 'vpcresources.k8s.aws/trunk-eni-id': trunkEniId },
        clientToken: `b${vlanId}`,
      });
      await ec2.prepare.associateTrunkInterface({
        branchInterfaceId: branch.id,
        trunkInterfaceId: trunkEniId,
        vlanId,
        clientToken: `a${vlanId}`,
      });
    }
    await kube.delete(Kinds.Node, NODE);
    ec2.reset();

    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.mutatingCalls().sort()).toEqual([
      'deleteNetworkInterface',
      'deleteNetworkInterface',
      'disassociateTrunkInterface',
      'disassociateTrunkInterface',
    ]);
    // Every ENI but the instance's primary: the trunk alone.
    const notPrimary = ec2.enis().filter((eni) => eni.attachment?.deviceIndex !== 0);
    expect(notPrimary.map((eni) => eni.id)).toEqual([trunkEniId]);
    expect(ec2.associations()).toEqual([]);
    expect(await trunk()).toBeUndefined();
  });

  test('a TrunkInterface deleted while its node lives lets go without touching EC2', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.delete(Kinds.TrunkInterface, NODE);
    ec2.reset();
    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.calls).toEqual([]);
    expect(await trunk()).toBeUndefined();
  });

  test('the TrunkInterface re-created for a live node adopts the attached trunk: same ENI, no mutating call', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    const first = await trunk();
    await kube.delete(Kinds.TrunkInterface, NODE);
    await reconciler.reconcile(NODE, reconcileContext()); // finalizer goes, nothing else
    // The node controller re-creates it (a new object, a new UID, so a new ClientToken for any create).
    kube.seed<TrunkInterface>(
      Kinds.TrunkInterface,
      trunkInterface('2026-03-01T00:05:00Z', first?.metadata.ownerReferences ?? []),
    );
    ec2.reset();

    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.mutatingCalls()).toEqual([]);
    const second = await trunk();
    expect(second?.metadata.uid).not.toBe(first?.metadata.uid);
    expect(second?.status).toMatchObject({
      state: 'Ready',
      eniId: first?.status?.eniId,
      subnetId: first?.status?.subnetId,
      securityGroups: first?.status?.securityGroups,
    });
    expect(trunkEnis().map((eni) => eni.id)).toEqual([first?.status?.eniId]);
  });
});

describe('TrunkInterfaceReconciler with an ENIConfig (custom networking)', () => {
  let podSubnetA: string;
  let podSubnetB: string;
  let podGroupA: string;
  let podGroupB: string;
  const eniConfig = (subnet: string, securityGroups: string[]): ENIConfig => ({
    apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
    kind: 'ENIConfig',
    metadata: { name: 'pods-a' },
    spec: { subnet, securityGroups },
  });

  beforeEach(() => {
    ec2.control.addVpcCidr(vpc.vpcId, '100.64.0.0/16');
    podSubnetA = ec2.control.addSubnet({
      vpcId: vpc.vpcId,
      cidrBlock: '100.64.0.0/24',
      availabilityZone: 'us-west-2a',
    }).id;
    podSubnetB = ec2.control.addSubnet({
      vpcId: vpc.vpcId,
      cidrBlock: '100.64.1.0/24',
      availabilityZone: 'us-west-2a',
    }).id;
    podGroupA = ec2.control.addSecurityGroup({ vpcId: vpc.vpcId, name: 'pods-a' }).id;
    podGroupB = ec2.control.addSecurityGroup({ vpcId: vpc.vpcId, name: 'pods-b' }).id;
    kube.seed<ENIConfig>(Kinds.ENIConfig, eniConfig(podSubnetA, [podGroupA]));
    // What ipamd writes once it resolved the node's ENIConfig: EKS's signal, followed in every mode but off.
    kube.seed<CNINode>(Kinds.CNINode, {
      apiVersion: 'vpcresources.k8s.aws/v1alpha1',
      kind: 'CNINode',
      metadata: { name: NODE },
      spec: { features: [{ name: 'CustomNetworking', value: 'pods-a' }] },
    });
  });

  test('creates the trunk in the ENIConfig subnet with its groups, and sends branches there', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.callsOf('createNetworkInterface')[0]).toMatchObject({
      subnetId: podSubnetA,
      securityGroupIds: [podGroupA],
    });
    const status = (await trunk())?.status;
    expect(ec2.eni(status?.eniId ?? '')).toMatchObject({ subnetId: podSubnetA, securityGroupIds: [podGroupA] });
    expect(status).toMatchObject({
      state: 'Ready',
      eniConfig: 'pods-a',
      branchSubnet: { subnetId: podSubnetA, cidrBlock: '100.64.0.0/24' },
      securityGroups: [podGroupA],
    });
  });

  test('an edit changes the trunk groups in place and moves new branches, with one describe of the new subnet', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    const trunkEniId = (await trunk())?.status?.eniId ?? '';
    await kube.mergePatch(Kinds.ENIConfig, 'pods-a', { spec: { subnet: podSubnetB, securityGroups: [podGroupB] } });
    ec2.reset();

    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.calls.map((c) => c.method)).toEqual(['describeSubnets', 'setSecurityGroups']);
    expect(ec2.eni(trunkEniId)).toMatchObject({ subnetId: podSubnetA, securityGroupIds: [podGroupB] });
    expect((await trunk())?.status).toMatchObject({
      eniId: trunkEniId,
      branchSubnet: { subnetId: podSubnetB, cidrBlock: '100.64.1.0/24' },
      securityGroups: [podGroupB],
    });
    expect(recorder.reasons()).toContain('PodNetworkChanged');
  });

  test('EC2 refusing the trunk groups: new branches move anyway, a Warning, and a look again within a minute', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.mergePatch(Kinds.ENIConfig, 'pods-a', { spec: { subnet: podSubnetB, securityGroups: [podGroupB] } });
    ec2.failNext(
      'setSecurityGroups',
      new Ec2UnauthorizedError('You are not authorized', {
        code: 'UnauthorizedOperation',
        action: 'ModifyNetworkInterfaceAttribute',
      }),
    );

    const result = await reconciler.reconcile(NODE, reconcileContext());
    expect(result).toEqual({ requeueAfterMs: 60_000 });
    const status = (await trunk())?.status;
    expect(status).toMatchObject({ branchSubnet: { subnetId: podSubnetB }, securityGroups: [podGroupA] });
    expect(status?.conditions?.find((c) => c.type === 'PodNetworkReady')).toMatchObject({
      status: 'False',
      reason: 'SecurityGroupsUpdateFailed',
    });
    expect(recorder.reasons()).toContain('SecurityGroupsUpdateFailed');

    await reconciler.reconcile(NODE, reconcileContext());
    expect((await trunk())?.status?.securityGroups).toEqual([podGroupB]);
    expect(ec2.eni((await trunk())?.status?.eniId ?? '')?.securityGroupIds).toEqual([podGroupB]);
  });

  test('a missing ENIConfig: no trunk, a Warning naming it, Pending, a look again within a minute', async () => {
    await kube.delete(Kinds.ENIConfig, 'pods-a');
    const result = await reconciler.reconcile(NODE, reconcileContext());
    expect(result).toEqual({ requeueAfterMs: 60_000 });
    expect(ec2.mutatingCalls()).toEqual([]);
    const status = (await trunk())?.status;
    expect(status?.state).toBe('Pending');
    expect(status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'WaitingForPodNetwork' }),
        expect.objectContaining({ type: 'PodNetworkReady', status: 'False', reason: 'ENIConfigNotFound' }),
      ]),
    );
    expect(recorder.events).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'ENIConfigNotFound',
        message: expect.stringContaining('pods-a'),
      }),
    );

    kube.seed<ENIConfig>(Kinds.ENIConfig, eniConfig(podSubnetA, [podGroupA]));
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await trunk())?.status).toMatchObject({ state: 'Ready', subnetId: podSubnetA });
  });

  test('a missing ENIConfig does not stop a trunk already attached from being adopted; branches wait for a subnet', async () => {
    await kube.delete(Kinds.ENIConfig, 'pods-a');
    const existing = await ec2.addTrunk(vpc, instanceId);

    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.mutatingCalls()).toEqual([]);
    const status = (await trunk())?.status;
    expect(status).toMatchObject({ state: 'Ready', eniId: existing });
    expect(status?.branchSubnet).toBeUndefined();
    expect(status?.conditions?.find((c) => c.type === 'PodNetworkReady')).toMatchObject({
      status: 'False',
      reason: 'ENIConfigNotFound',
    });
  });
});
