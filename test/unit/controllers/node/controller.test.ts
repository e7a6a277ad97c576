import { beforeEach, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { CNINode, TrunkInterface } from '../../../../operator/api/types.ts';
import { createLimitsProvider } from '../../../../operator/limits/index.ts';
import { NodeReconciler } from '../../../../operator/controllers/node/controller.ts';
import { NodeEvents } from '../../../../operator/controllers/node/events.ts';
import type { NodeObject } from '../../../../operator/controllers/node/node-object.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';
import { DEFAULT_POD_NETWORK } from '../../../../operator/controllers/podnetwork/index.ts';

const NODE = 'node-a';
const R = 'vpc.amazonaws.com/pod-eni';

let kube: FakeKube;
let ec2: EmulatedEc2;
let vpc: TestVpc;
let instanceId: string;
let recorder: FakeRecorder;
let reconciler: NodeReconciler;

function seedNode(labels: Record<string, string> = {}, instanceType = 'm5.large'): NodeObject {
  return kube.seed<NodeObject>(Kinds.Node, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE,
      labels: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': instanceType, ...labels },
    },
    spec: { providerID: `aws:///us-west-2a/${instanceId}` },
    status: { capacity: { cpu: '2' }, allocatable: { cpu: '2' } },
  });
}

beforeEach(() => {
  kube = new FakeKube();
  ec2 = new EmulatedEc2();
  vpc = ec2.seedVpc();
  instanceId = ec2.launchNode(vpc);
  recorder = new FakeRecorder();
  reconciler = new NodeReconciler({
    client: kube,
    ec2,
    limits: createLimitsProvider({ ec2, overrides: () => ({}) }),
    cluster: { clusterName: 'prod', vpcId: vpc.vpcId, podNetwork: DEFAULT_POD_NETWORK },
    events: new NodeEvents(recorder),
    nodes: kube.reader<NodeObject>(Kinds.Node),
    cniNodes: kube.reader<CNINode>(Kinds.CNINode),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
  });
});

const get = <T extends NodeObject | CNINode | TrunkInterface>(kind: (typeof Kinds)[keyof typeof Kinds]) =>
  kube.get<T>(kind, NODE);

describe('NodeReconciler', () => {
  test('every node gets a CNINode; a node that did not opt in gets nothing else and no event', async () => {
    seedNode();
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await get<CNINode>(Kinds.CNINode))?.spec?.tags).toEqual({
      'cluster.k8s.amazonaws.com/name': 'prod',
      'node.k8s.amazonaws.com/instance_id': instanceId,
    });
    expect(await get(Kinds.TrunkInterface)).toBeUndefined();
    expect(recorder.events).toEqual([]);
  });

  test('a CNINode deleted while the Node exists is let go and recreated', async () => {
    seedNode();
    await reconciler.reconcile(NODE, reconcileContext());
    const first = await get<CNINode>(Kinds.CNINode);
    await kube.delete(Kinds.CNINode, NODE);
    await reconciler.reconcile(NODE, reconcileContext()); // removes the finalizer: the object goes
    expect(await get(Kinds.CNINode)).toBeUndefined();
    await reconciler.reconcile(NODE, reconcileContext());
    const second = await get<CNINode>(Kinds.CNINode);
    expect(second?.metadata.uid).not.toBe(first?.metadata.uid);
    expect(second?.metadata.finalizers).toEqual(['trunking.sgp-operator.io/resource-cleanup']);
  });

  test('legacy label: a TrunkInterface for the node; capacity only once the trunk is Ready', async () => {
    seedNode({ 'vpc.amazonaws.com/has-trunk-attached': 'false' });
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await get<TrunkInterface>(Kinds.TrunkInterface))?.spec).toEqual({
      nodeName: NODE,
      instanceId,
      instanceType: 'm5.large',
    });
    expect((await get<NodeObject>(Kinds.Node))?.status?.capacity?.[R]).toBeUndefined();

    await kube.mergePatchStatus(Kinds.TrunkInterface, NODE, { state: 'Ready' });
    await reconciler.reconcile(NODE, reconcileContext());
    const node = await get<NodeObject>(Kinds.Node);
    expect([node?.status?.capacity?.[R], node?.status?.allocatable?.[R]]).toEqual(['9', '9']);
  });

  test('a node that stops opting in loses the capacity (with an event) but keeps its trunk', async () => {
    seedNode({ 'vpc.amazonaws.com/has-trunk-attached': 'false' });
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.mergePatchStatus(Kinds.TrunkInterface, NODE, { state: 'Ready' });
    await reconciler.reconcile(NODE, reconcileContext());

    await kube.mergePatch(Kinds.Node, NODE, { metadata: { labels: { 'vpc.amazonaws.com/has-trunk-attached': null } } });
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await get<NodeObject>(Kinds.Node))?.status?.capacity?.[R]).toBeUndefined();
    expect(await get(Kinds.TrunkInterface)).toBeDefined();
    expect(recorder.reasons()).toEqual(['NodeTrunkUnmanaged']);
  });

  test('CNINode feature flap: capacity withdrawn then advertised again, on the same TrunkInterface', async () => {
    seedNode();
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.mergePatch(Kinds.CNINode, NODE, { spec: { features: [{ name: 'SecurityGroupsForPods' }] } });
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.mergePatchStatus(Kinds.TrunkInterface, NODE, { state: 'Ready' });
    await reconciler.reconcile(NODE, reconcileContext());
    const trunkUid = (await get<TrunkInterface>(Kinds.TrunkInterface))?.metadata.uid;

    await kube.mergePatch(Kinds.CNINode, NODE, { spec: { features: null } });
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await get<NodeObject>(Kinds.Node))?.status?.capacity?.[R]).toBeUndefined();
    expect((await get<TrunkInterface>(Kinds.TrunkInterface))?.metadata.uid).toBe(trunkUid);

    await kube.mergePatch(Kinds.CNINode, NODE, { spec: { features: [{ name: 'SecurityGroupsForPods' }] } });
    await reconciler.reconcile(NODE, reconcileContext());
    expect((await get<NodeObject>(Kinds.Node))?.status?.capacity?.[R]).toBe('9');
    expect((await get<TrunkInterface>(Kinds.TrunkInterface))?.metadata.uid).toBe(trunkUid);
    expect(recorder.reasons()).toEqual(['NodeTrunkUnmanaged']);
    expect(ec2.mutatingCalls()).toEqual([]);
  });

  test('a TrunkInterface deleted while its node lives is re-created; capacity stays advertised meanwhile', async () => {
    seedNode({ 'vpc.amazonaws.com/has-trunk-attached': 'false' });
    await reconciler.reconcile(NODE, reconcileContext());
    await kube.mergePatchStatus(Kinds.TrunkInterface, NODE, { state: 'Ready' });
    await reconciler.reconcile(NODE, reconcileContext());
    const first = await get<TrunkInterface>(Kinds.TrunkInterface);

    await kube.delete(Kinds.TrunkInterface, NODE);
    await reconciler.reconcile(NODE, reconcileContext()); // waits: the trunk controller finalizes it first
    expect((await get<TrunkInterface>(Kinds.TrunkInterface))?.metadata.uid).toBe(first?.metadata.uid);
    kube.objects.delete(`TrunkInterface/${NODE}`); // finalized: gone
    await reconciler.reconcile(NODE, reconcileContext());
    const second = await get<TrunkInterface>(Kinds.TrunkInterface);
    expect(second?.metadata.uid).not.toBe(first?.metadata.uid);
    expect(second?.spec).toEqual(first?.spec);
    expect(second?.metadata.finalizers).toEqual(['trunking.sgp-operator.io/trunk-cleanup']);
    expect((await get<NodeObject>(Kinds.Node))?.status?.capacity?.[R]).toBe('9');
    expect(recorder.reasons()).toEqual([]);
  });

  test('a t3 node that opted in: one Unsupported event however often it reconciles, nothing created', async () => {
    seedNode({ 'vpc.amazonaws.com/has-trunk-attached': 'false' }, 't3.medium');
    await reconciler.reconcile(NODE, reconcileContext());
    await reconciler.reconcile(NODE, reconcileContext());
    expect(recorder.events).toEqual([
      expect.objectContaining({ kind: 'Node', name: NODE, type: 'Warning', reason: 'Unsupported' }),
    ]);
    expect(await get(Kinds.TrunkInterface)).toBeUndefined();
  });

  test('node gone: the CNINode is deleted, then its finalizer deletes the available ENIs of the instance', async () => {
    seedNode();
    await reconciler.reconcile(NODE, reconcileContext());
    const otherInstanceId = ec2.launchNode(vpc);
    const leaked = await ec2.prepare.createNetworkInterface({
      subnetId: vpc.subnetId,
      securityGroupIds: [vpc.podGroupIds[0] ?? ''],
      description: 'aws-k8s-branch-eni',
      tags: { 'eks:eni:owner': 'sgp-operator', 'node.k8s.amazonaws.com/instance_id': instanceId },
      clientToken: 'x',
    });
    const otherInstance = await ec2.prepare.createNetworkInterface({
      subnetId: vpc.subnetId,
      securityGroupIds: [vpc.podGroupIds[0] ?? ''],
      description: 'x',
      tags: { 'eks:eni:owner': 'sgp-operator', 'node.k8s.amazonaws.com/instance_id': otherInstanceId },
      clientToken: 'y',
    });
    await kube.delete(Kinds.Node, NODE);

    await reconciler.reconcile(NODE, reconcileContext()); // deletes the CNINode (finalizer holds it)
    expect((await get<CNINode>(Kinds.CNINode))?.metadata.deletionTimestamp).toBeDefined();
    await reconciler.reconcile(NODE, reconcileContext()); // the finalizer's cleanup
    expect(await get(Kinds.CNINode)).toBeUndefined();
    expect(ec2.mutatingCalls()).toEqual(['deleteNetworkInterface']);
    expect(ec2.eni(leaked.id)).toBeUndefined();
    expect(ec2.eni(otherInstance.id)).toBeDefined();
  });
});
