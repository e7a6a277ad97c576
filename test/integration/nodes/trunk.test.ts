/**
 * Nodes and trunk ENIs end to end: a real kube-apiserver + etcd, the EC2 emulator over HTTP through the real
 * SDK, and the node and trunk controllers on the real Manager.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { eventually, uniqueName } from '../harness/index.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { CNINode, TrunkInterface } from '../../../operator/api/types.ts';
import { TAG } from '../../../operator/api/constants.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import type { NodeObject } from '../../../operator/controllers/node/index.ts';
import { CLUSTER, startNodeWorld, type NodeWorld } from './fixture.ts';

let world: NodeWorld;

beforeAll(async () => {
  world = await startNodeWorld();
  await world.startOperator();
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

function trunkEnisOf(instanceId: string) {
  return world.emulator.control
    .dump()
    .networkInterfaces.filter((eni) => eni.interfaceType === 'trunk' && eni.tags[TAG.instanceId] === instanceId);
}

async function trunkInterface(name: string): Promise<TrunkInterface | undefined> {
  return world.client.get<TrunkInterface>(Kinds.TrunkInterface, name);
}

async function waitReady(name: string): Promise<TrunkInterface> {
  return eventually(
    async () => {
      const trunk = await trunkInterface(name);
      expect(trunk?.status?.state).toBe('Ready');
      return trunk as TrunkInterface;
    },
    { waitingFor: `TrunkInterface ${name} Ready`, timeoutMs: 60_000 },
  );
}

interface EventObject extends KubeObject {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { kind?: string; name?: string };
}

async function nodeEvents(name: string): Promise<EventObject[]> {
  const events = await world.client.list<EventObject>(Kinds.Event, { namespace: 'default' });
  return events.filter((event) => event.involvedObject?.kind === 'Node' && event.involvedObject.name === name);
}

/**
 * Returns once the node controller has reconciled `name` again, so that everything an earlier reconcile of it
 * did, or would wrongly have done, is visible: an absence checked after this is not luck. It strips a tag from
 * the CNINode, which the controller repairs; a key is never reconciled twice at once, so the repair comes after
 * every reconcile that had started; the caller has seen the first one act (its CNINode, its event).
 */
async function nodeReconciledAgain(name: string): Promise<void> {
  await world.client.mergePatch(Kinds.CNINode, name, { spec: { tags: { [TAG.clusterName]: null } } });
  await eventually(
    async () =>
      expect((await world.client.get<CNINode>(Kinds.CNINode, name))?.spec?.tags?.[TAG.clusterName]).toBe(CLUSTER),
    { waitingFor: `CNINode ${name} tags repaired by the node controller` },
  );
}

async function enableSgp(name: string): Promise<void> {
  // What the VPC CNI's ipamd does with ENABLE_POD_ENI=true: patch the feature into the CNINode.
  await eventually(() => world.client.get<CNINode>(Kinds.CNINode, name).then((c) => expect(c).toBeDefined()), {
    waitingFor: `CNINode ${name} created by the operator`,
  });
  await world.client.mergePatch(Kinds.CNINode, name, { spec: { features: [{ name: 'SecurityGroupsForPods' }] } });
}

describe('nodes and trunk ENIs', () => {
  test('a node whose CNINode has SecurityGroupsForPods gets an attached trunk, a Ready TrunkInterface and capacity 9 on m5.large', async () => {
    const name = uniqueName('sgp-node');
    const { instanceId } = await world.addNode(name);

    const cniNode = await eventually(
      async () => {
        const c = await world.client.get<CNINode>(Kinds.CNINode, name);
        expect(c).toBeDefined();
        return c as CNINode;
      },
      { waitingFor: `CNINode ${name}` },
    );
    expect(cniNode.metadata.finalizers).toEqual(['trunking.sgp-operator.io/resource-cleanup']);
    expect(cniNode.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name, controller: true });
    expect(cniNode.spec?.tags).toEqual({ [TAG.clusterName]: 'nodes-it', [TAG.instanceId]: instanceId });
    await nodeReconciledAgain(name);
    expect(await trunkInterface(name)).toBeUndefined(); // not opted in yet
    expect(trunkEnisOf(instanceId)).toEqual([]);

    await enableSgp(name);
    const trunk = await waitReady(name);

    const enis = trunkEnisOf(instanceId);
    expect(enis).toHaveLength(1);
    const eni = enis[0];
    expect(eni).toMatchObject({
      id: trunk.status?.eniId,
      description: 'aws-k8s-trunk-eni',
      subnetId: world.subnetId,
      securityGroupIds: [world.nodeGroupId],
      attachment: { instanceId, deviceIndex: 2, status: 'attached', deleteOnTermination: true },
    });
    expect(trunk.status).toMatchObject({
      state: 'Ready',
      subnetId: world.subnetId,
      subnetCidr: '10.0.0.0/24',
      availabilityZone: 'us-west-2a',
      securityGroups: [world.nodeGroupId],
      branchCapacity: 9,
      branchesUsed: 0,
    });
    expect(trunk.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'TrunkAttached',
    });

    const node = await eventually(
      async () => {
        const n = await world.client.get<NodeObject>(Kinds.Node, name);
        expect(n?.status?.capacity?.['vpc.amazonaws.com/pod-eni']).toBe('9');
        return n as NodeObject;
      },
      { waitingFor: `node ${name} advertising vpc.amazonaws.com/pod-eni` },
    );
    expect(node.status?.allocatable?.['vpc.amazonaws.com/pod-eni']).toBe('9');
    await eventually(
      async () => expect((await nodeEvents(name)).map((e) => e.reason)).toContain('NodeTrunkInitiated'),
      {
        waitingFor: `NodeTrunkInitiated event on ${name}`,
      },
    );

    // A kubelet restart drops the extended resource: it is repaired.
    await world.client.mergePatchStatus(Kinds.Node, name, {
      capacity: { 'vpc.amazonaws.com/pod-eni': null },
      allocatable: { 'vpc.amazonaws.com/pod-eni': null },
    });
    await eventually(
      async () =>
        expect(
          (await world.client.get<NodeObject>(Kinds.Node, name))?.status?.capacity?.['vpc.amazonaws.com/pod-eni'],
        ).toBe('9'),
      { waitingFor: `pod-eni capacity of ${name} repaired` },
    );
  });

  test('the legacy label vpc.amazonaws.com/has-trunk-attached opts a node in', async () => {
    const name = uniqueName('legacy-node');
    const { instanceId } = await world.addNode(name, { labels: { 'vpc.amazonaws.com/has-trunk-attached': 'false' } });
    await waitReady(name);
    expect(trunkEnisOf(instanceId)).toHaveLength(1);
  });

  test('a t3 node gets an Unsupported event and no trunk', async () => {
    const name = uniqueName('t3-node');
    const { instanceId } = await world.addNode(name, {
      instanceType: 't3.medium',
      labels: { 'vpc.amazonaws.com/has-trunk-attached': 'false' },
    });
    const event = await eventually(
      async () => {
        const found = (await nodeEvents(name)).find((e) => e.reason === 'Unsupported');
        expect(found).toBeDefined();
        return found as EventObject;
      },
      { waitingFor: `Unsupported event on ${name}` },
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('instance type t3.medium of node');
    expect(event.message).toContain('does not support ENI trunking');
    await nodeReconciledAgain(name);
    expect(await trunkInterface(name)).toBeUndefined();
    expect(trunkEnisOf(instanceId)).toEqual([]);
    expect(
      (await world.client.get<NodeObject>(Kinds.Node, name))?.status?.capacity?.['vpc.amazonaws.com/pod-eni'],
    ).toBeUndefined();
  });

  test('after an operator restart the trunk is adopted, never created twice', async () => {
    const name = uniqueName('restart-node');
    const { instanceId } = await world.addNode(name);
    await enableSgp(name);
    const before = await waitReady(name);

    await world.stopOperator();
    // Forget everything the status said, so the restarted operator must find the trunk in EC2.
    await world.client.mergePatchStatus(Kinds.TrunkInterface, name, {
      state: 'Pending',
      eniId: null,
      attachmentId: null,
      subnetCidr: null,
    });
    const createsBefore = world.emulator.control.counters()['CreateNetworkInterface']?.calls ?? 0;
    await world.startOperator();

    const after = await waitReady(name);
    expect(after.status?.eniId).toBe(before.status?.eniId);
    expect(trunkEnisOf(instanceId)).toHaveLength(1);
    expect(world.emulator.control.counters()['CreateNetworkInterface']?.calls ?? 0).toBe(createsBefore);
  });

  test('a deleted node has its branch ENIs released in EC2 and its objects finalized', async () => {
    const name = uniqueName('deleted-node');
    const { instanceId } = await world.addNode(name);
    await enableSgp(name);
    const trunk = await waitReady(name);
    const trunkEniId = trunk.status?.eniId ?? '';

    // Two branch ENIs on the trunk, as the branch controller would leave them for running pods.
    const branchIds: string[] = [];
    for (const vlanId of [1, 2]) {
      const branch = await world.ec2.createNetworkInterface({
        subnetId: world.subnetId,
        securityGroupIds: [world.nodeGroupId],
        description: 'aws-k8s-branch-eni',
        tags: {
          [TAG.owner]: 'sgp-operator',
          [TAG.instanceId]: instanceId,
          [TAG.trunkEniId]: trunkEniId,
          [TAG.vlanId]: String(vlanId),
        },
        clientToken: `${name}-branch-${vlanId}`,
      });
      await world.ec2.associateTrunkInterface({
        branchInterfaceId: branch.id,
        trunkInterfaceId: trunkEniId,
        vlanId,
        clientToken: `${name}-assoc-${vlanId}`,
      });
      branchIds.push(branch.id);
    }

    await world.client.delete(Kinds.Node, name);
    await eventually(
      () => {
        const left = world.emulator.control.dump().networkInterfaces.filter((eni) => branchIds.includes(eni.id));
        expect(left).toEqual([]);
      },
      { waitingFor: `branch ENIs of deleted node ${name} deleted in EC2`, timeoutMs: 60_000 },
    );
    expect(world.emulator.control.dump().associations.filter((a) => a.trunkInterfaceId === trunkEniId)).toEqual([]);
    await eventually(
      async () => {
        expect(await trunkInterface(name)).toBeUndefined();
        expect(await world.client.get(Kinds.CNINode, name)).toBeUndefined();
      },
      { waitingFor: `TrunkInterface and CNINode of ${name} finalized and gone`, timeoutMs: 60_000 },
    );
    // The trunk of the still-running instance is not ours to delete (EC2 deletes it at termination).
    expect(trunkEnisOf(instanceId).map((eni) => eni.id)).toEqual([trunkEniId]);
  });

  test('failures on attach leave no orphan trunk ENI behind', async () => {
    const name = uniqueName('fault-node');
    const { instanceId } = await world.addNode(name);
    // Two reconciles' worth of attach failures (the SDK tries each call 3 times).
    world.emulator.control.setFaults([{ action: 'AttachNetworkInterface', code: 'InternalError', count: 6 }]);
    const createsBefore = world.emulator.control.counters()['CreateNetworkInterface']?.calls ?? 0;
    try {
      await enableSgp(name);
      await waitReady(name);
    } finally {
      world.emulator.control.setFaults([]);
    }
    const enis = trunkEnisOf(instanceId);
    expect(enis).toHaveLength(1);
    expect(enis[0]?.attachment?.status).toBe('attached');
    // Each failed attempt created an ENI and deleted it again.
    expect((world.emulator.control.counters()['CreateNetworkInterface']?.calls ?? 0) - createsBefore).toBe(3);
    const available = world.emulator.control
      .dump()
      .networkInterfaces.filter((eni) => eni.status === 'available' && eni.tags[TAG.instanceId] === instanceId);
    expect(available).toEqual([]);
    await eventually(
      async () => expect((await nodeEvents(name)).map((e) => e.reason)).toContain('TrunkENICreationFailed'),
      {
        waitingFor: `TrunkENICreationFailed event on ${name}`,
      },
    );
  });
});
