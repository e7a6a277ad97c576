import { beforeEach, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../../../../operator/api/types.ts';
import { Ec2RetryableError, Ec2UnauthorizedError } from '../../../../operator/aws/index.ts';
import { OutsideFixError } from '../../../../operator/errors.ts';
import type { KubeObject } from '../../../../operator/framework/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import { FakeSubnetDirectory } from '../fakes/subnets.ts';
import { createLimitsProvider } from '../../../../operator/limits/index.ts';
import {
  BRANCHES_BY_NODE,
  TrunkInterfaceReconciler,
} from '../../../../operator/controllers/trunkinterface/controller.ts';
import { TrunkEvents } from '../../../../operator/controllers/trunkinterface/events.ts';
import { CREATE_ATTEMPT_ANNOTATION } from '../../../../operator/controllers/trunkinterface/setup.ts';
import { NodeFakeEc2 } from '../fakes/node-ec2.ts';
import { NodeFakeKube, NodeFakeRecorder, reconcileContext } from '../fakes/node-kube.ts';

const NODE = 'node-a';
const INSTANCE = 'i-0123456789abcdef0';

let kube: NodeFakeKube;
let ec2: NodeFakeEc2;
let recorder: NodeFakeRecorder;
let reconciler: TrunkInterfaceReconciler;
let clock: FakeClock;
let subnets: FakeSubnetDirectory;

beforeEach(() => {
  kube = new NodeFakeKube();
  subnets = new FakeSubnetDirectory();
  ec2 = new NodeFakeEc2();
  recorder = new NodeFakeRecorder();
  clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'));
  ec2.addInstance(INSTANCE, ['sg-node']);
  const node = kube.seed<KubeObject>(Kinds.Node, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
  kube.seed<TrunkInterface>(Kinds.TrunkInterface, {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: {
      name: NODE,
      creationTimestamp: '2026-03-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata.uid ?? '', controller: true }],
      finalizers: ['trunking.sgp-operator.io/trunk-cleanup'],
    },
    spec: { nodeName: NODE, instanceId: INSTANCE, instanceType: 'm5.large' },
  });
  reconciler = new TrunkInterfaceReconciler({
    client: kube,
    ec2,
    limits: createLimitsProvider({ ec2, overrides: () => ({}) }),
    clock,
    cluster: { clusterName: 'prod', vpcId: 'vpc-1' },
    events: new TrunkEvents(recorder),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    nodes: kube.reader<KubeObject>(Kinds.Node),
    branches: kube.reader<BranchInterface>(Kinds.BranchInterface, { [BRANCHES_BY_NODE]: (b) => [b.spec.nodeName] }),
    subnets,
  });
});

const trunk = async (): Promise<TrunkInterface | undefined> => kube.get<TrunkInterface>(Kinds.TrunkInterface, NODE);
const mutations = () => ec2.calls.filter((c) => !c.method.startsWith('describe')).map((c) => c.method);

describe('TrunkInterfaceReconciler', () => {
  test('creates the trunk with the primary ENI groups and our tags, attaches it at the highest free index, and reports Ready', async () => {
    const result = await reconciler.reconcile(NODE, reconcileContext());

    expect(mutations()).toEqual(['createNetworkInterface', 'attachNetworkInterface', 'setDeleteOnTermination']);
    expect(ec2.callsOf('createNetworkInterface')[0]).toMatchObject({
      subnetId: 'subnet-1',
      securityGroupIds: ['sg-node'],
      description: 'aws-k8s-trunk-eni',
      interfaceType: 'trunk',
      tags: {
        'eks:eni:owner': 'sgp-operator',
        'kubernetes.io/cluster/prod': 'owned',
        'cluster.k8s.amazonaws.com/name': 'prod',
        'node.k8s.amazonaws.com/instance_id': INSTANCE,
        'trunking.sgp-operator.io/node-name': NODE,
      },
    });
    expect(ec2.callsOf('attachNetworkInterface')[0]).toMatchObject({
      instanceId: INSTANCE,
      deviceIndex: 2,
      networkCardIndex: 0,
    });
    const status = (await trunk())?.status;
    expect(status).toMatchObject({
      state: 'Ready',
      eniId: 'eni-0001',
      subnetId: 'subnet-1',
      subnetCidr: '10.0.0.0/24',
      availabilityZone: 'us-west-2a',
      securityGroups: ['sg-node'],
      branchCapacity: 9,
      branchesUsed: 0,
      observedGeneration: 1,
    });
    expect(status?.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', reason: 'TrunkAttached' }),
    ]);
    expect(recorder.reasons()).toEqual(['NodeTrunkInitiated']);
    expect(result).toEqual({ requeueAfterMs: 15 * 60_000 });
  });

  test('a settled Ready trunk costs no EC2 call on the next reconcile', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    const callsBefore = ec2.calls.length;
    await reconciler.reconcile(NODE, reconcileContext());
    expect(ec2.calls.length).toBe(callsBefore);
  });

  test('adopts a trunk already attached to the instance instead of creating one', async () => {
    const existing = await ec2.createNetworkInterface({
      subnetId: 'subnet-1',
      securityGroupIds: ['sg-node'],
      description: 'aws-k8s-trunk-eni',
      interfaceType: 'trunk',
      tags: {},
      clientToken: 'eks',
    });
    await ec2.attachNetworkInterface({ networkInterfaceId: existing.id, instanceId: INSTANCE, deviceIndex: 2 });
    await ec2.setDeleteOnTermination({ networkInterfaceId: existing.id, attachmentId: 'x', deleteOnTermination: true });
    ec2.calls.length = 0;

    await reconciler.reconcile(NODE, reconcileContext());
    expect(mutations()).toEqual([]);
    expect((await trunk())?.status).toMatchObject({ state: 'Ready', eniId: existing.id });
  });

  test('a failed attach deletes the ENI it created, counts the attempt, and the retry uses a new ClientToken', async () => {
    ec2.failNext(
      'attachNetworkInterface',
      new Ec2RetryableError('boom', { code: 'InternalError', action: 'AttachNetworkInterface' }),
    );

    await expect(reconciler.reconcile(NODE, reconcileContext())).rejects.toThrow(
      /attaching trunk ENI eni-0001 for node node-a: boom/,
    );
    expect(ec2.enis.size).toBe(0);
    const failed = await trunk();
    expect(failed?.metadata.annotations?.[CREATE_ATTEMPT_ANNOTATION]).toBe('1');
    expect(failed?.status).toMatchObject({ state: 'Failed' });
    expect(failed?.status?.eniId).toBeUndefined();
    expect(recorder.reasons()).toEqual(['TrunkENICreationFailed', 'NodeTrunkFailedInit']);
    expect(recorder.events[0]?.message).toMatch(
      /^Failed to create trunk interface: Error Code: InternalError \(AttachNetworkInterface\)/,
    );

    await reconciler.reconcile(NODE, reconcileContext());
    const tokens = ec2.callsOf('createNetworkInterface').map((input) => (input as { clientToken: string }).clientToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect((await trunk())?.status?.state).toBe('Ready');
    expect([...ec2.enis.values()].map((eni) => eni.id)).toEqual([(await trunk())?.status?.eniId]);
  });

  test('unauthorized: the event carries the IAM and allow-list hint, and the reconcile waits on the long backoff for the IAM fix', async () => {
    ec2.failNext(
      'createNetworkInterface',
      new Ec2UnauthorizedError('You are not authorized', {
        code: 'UnauthorizedOperation',
        action: 'CreateNetworkInterface',
      }),
    );
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
    // The IAM fix happens in AWS and no watch reports it; the long-backoff retry finds it.
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await trunk())?.status?.state).toBe('Ready');
  });

  test('node gone: every branch ENI on the trunk is disassociated and deleted, then the TrunkInterface goes; the trunk stays', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    const trunkEniId = (await trunk())?.status?.eniId ?? '';
    for (const vlanId of [1, 2]) {
      const branch = await ec2.createNetworkInterface({
        subnetId: 'subnet-1',
        securityGroupIds: ['sg-pod'],
        description: 'aws-k8s-branch-eni',
        tags: { 'vpcresources.k8s.aws/trunk-eni-id': trunkEniId },
        clientToken: `b${vlanId}`,
      });
      await ec2.associateTrunkInterface({
        branchInterfaceId: branch.id,
        trunkInterfaceId: trunkEniId,
        vlanId,
        clientToken: `a${vlanId}`,
      });
    }
    await kube.delete(Kinds.Node, NODE);
    ec2.calls.length = 0;

    await reconciler.reconcile(NODE, reconcileContext());
    expect(mutations().sort()).toEqual([
      'deleteNetworkInterface',
      'deleteNetworkInterface',
      'disassociateTrunkInterface',
      'disassociateTrunkInterface',
    ]);
    expect([...ec2.enis.keys()]).toEqual([trunkEniId]);
    expect(ec2.associations.size).toBe(0);
    expect(await trunk()).toBeUndefined();
  });

  test('a TrunkInterface deleted while its node lives lets go without touching EC2', async () => {
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.delete(Kinds.TrunkInterface, NODE);
    ec2.calls.length = 0;
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
    kube.seed<TrunkInterface>(Kinds.TrunkInterface, {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'TrunkInterface',
      metadata: {
        name: NODE,
        creationTimestamp: '2026-03-01T00:05:00Z',
        ownerReferences: first?.metadata.ownerReferences ?? [],
        finalizers: ['trunking.sgp-operator.io/trunk-cleanup'],
      },
      spec: { nodeName: NODE, instanceId: INSTANCE, instanceType: 'm5.large' },
    });
    ec2.calls.length = 0;

    await reconciler.reconcile(NODE, reconcileContext());
    expect(mutations()).toEqual([]);
    const second = await trunk();
    expect(second?.metadata.uid).not.toBe(first?.metadata.uid);
    expect(second?.status).toMatchObject({
      state: 'Ready',
      eniId: first?.status?.eniId,
      subnetId: first?.status?.subnetId,
      securityGroups: first?.status?.securityGroups,
    });
    expect([...ec2.enis.values()].filter((eni) => eni.interfaceType === 'trunk').map((eni) => eni.id)).toEqual([
      first?.status?.eniId,
    ]);
  });
});
