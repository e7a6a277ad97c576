import { beforeEach, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { CNINode, TrunkInterface } from '../../../../operator/api/types.ts';
import { createLimitsProvider } from '../../../../operator/limits/index.ts';
import { NodeReconciler } from '../../../../operator/controllers/node/controller.ts';
import { NodeEvents } from '../../../../operator/controllers/node/events.ts';
import type { NodeObject } from '../../../../operator/controllers/node/node-object.ts';
import { NodeFakeEc2 } from '../fakes/node-ec2.ts';
import { NodeFakeKube, NodeFakeRecorder, reconcileContext } from '../fakes/node-kube.ts';

const NODE = 'node-a';
const INSTANCE = 'i-0123456789abcdef0';
const R = 'vpc.amazonaws.com/pod-eni';

let kube: NodeFakeKube;
let ec2: NodeFakeEc2;
let recorder: NodeFakeRecorder;
let reconciler: NodeReconciler;

function seedNode(labels: Record<string, string> = {}, instanceType = 'm5.large'): NodeObject {
  return kube.seed<NodeObject>(Kinds.Node, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE,
      labels: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': instanceType, ...labels },
    },
    spec: { providerID: `aws:///us-west-2a/${INSTANCE}` },
    status: { capacity: { cpu: '2' }, allocatable: { cpu: '2' } },
  });
}

beforeEach(() => {
  kube = new NodeFakeKube();
  ec2 = new NodeFakeEc2();
  recorder = new NodeFakeRecorder();
  reconciler = new NodeReconciler({
    client: kube,
    ec2,
    limits: createLimitsProvider({ ec2, overrides: () => ({}) }),
    cluster: { clusterName: 'prod', vpcId: 'vpc-1' },
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
      'node.k8s.amazonaws.com/instance_id': INSTANCE,
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
      instanceId: INSTANCE,
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
    expect(ec2.calls.filter((call) => !call.method.startsWith('describe'))).toEqual([]);
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
    const leaked = await ec2.createNetworkInterface({
      subnetId: 'subnet-1',
      securityGroupIds: [],
      description: 'aws-k8s-branch-eni',
      tags: { 'eks:eni:owner': 'sgp-operator', 'node.k8s.amazonaws.com/instance_id': INSTANCE },
      clientToken: 'x',
    });
    const otherInstance = await ec2.createNetworkInterface({
      subnetId: 'subnet-1',
      securityGroupIds: [],
      description: 'x',
      tags: { 'eks:eni:owner': 'sgp-operator', 'node.k8s.amazonaws.com/instance_id': 'i-other' },
      clientToken: 'y',
    });
    await kube.delete(Kinds.Node, NODE);

    await reconciler.reconcile(NODE, reconcileContext()); // deletes the CNINode (finalizer holds it)
    expect((await get<CNINode>(Kinds.CNINode))?.metadata.deletionTimestamp).toBeDefined();
    await reconciler.reconcile(NODE, reconcileContext()); // the finalizer's cleanup
    expect(await get(Kinds.CNINode)).toBeUndefined();
    expect([...ec2.enis.keys()]).toEqual([otherInstance.id]);
    expect(ec2.enis.has(leaked.id)).toBe(false);
  });
});
