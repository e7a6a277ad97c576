/**
 * The safety rule of docs/lifecycle.md, end to end: a running pod's branch ENI goes only when the pod ends
 * or its Node does. Deleting the node's TrunkInterface, or the node's CNINode losing (then regaining) the
 * SecurityGroupsForPods feature, must leave running pods with the same ENI, VLAN and annotation, and the
 * EC2 emulator's mutation log must show no call on their ENIs. Absence is proved after a later positive
 * event: the trunk Ready again, a new pod on the node served.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { POD_ENI_ANNOTATION, POD_ENI_RESOURCE } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, CNINode, TrunkInterface } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, eventsOf, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;

beforeAll(async () => {
  world = await startPodWorld();
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

const SERVICE = { app: 'service' };

interface RunningPod {
  name: string;
  eniId: string;
  annotation: string;
  branch: BranchInterface['status'];
}

/** A node with a policy and two annotated pods on it. */
async function nodeWithRunningPods(prefix: string): Promise<{ ns: string; node: string; pods: RunningPod[] }> {
  const ns = await world.namespace(prefix);
  const node = await world.addManagedNode(prefix);
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'service', [world.groups['rds-access'] ?? ''], { podSelector: { matchLabels: SERVICE } }),
  );
  const pods: RunningPod[] = [];
  for (const name of ['running-0', 'running-1']) {
    await createTestPod(world.client, ns, name, { nodeName: node, labels: SERVICE });
  }
  for (const name of ['running-0', 'running-1']) {
    const entry = await waitAnnotated(world.client, ns, name);
    const pod = await world.client.get<KubeObject>(Kinds.Pod, `${ns}/${name}`);
    const branch = await eventually(
      async () => {
        const found = (await world.client.list<BranchInterface>(Kinds.BranchInterface, { namespace: ns })).find(
          (b) => b.spec.podName === name && b.status?.phase === 'Ready',
        );
        if (!found) throw new Error('no Ready BranchInterface');
        return found;
      },
      { waitingFor: `BranchInterface of ${ns}/${name} Ready` },
    );
    pods.push({
      name,
      eniId: entry.eniId,
      annotation: pod?.metadata.annotations?.[POD_ENI_ANNOTATION] ?? '',
      branch: branch.status,
    });
  }
  return { ns, node, pods };
}

/** Mutating EC2 calls since `fromSeq` that touched one of `eniIds` (delete, disassociate, anything). */
function callsOn(eniIds: readonly string[], fromSeq: number): string[] {
  return world.emulator.control
    .mutations()
    .filter((call) => call.seq > fromSeq && eniIds.includes(call.networkInterfaceId ?? ''))
    .map((call) => `${call.action} ${call.networkInterfaceId}`);
}

const lastSeq = (): number => world.emulator.control.mutations().at(-1)?.seq ?? 0;

/** The pods, their annotations and their BranchInterface status are exactly as they were. */
async function expectUntouched(ns: string, pods: readonly RunningPod[]): Promise<void> {
  const now = [];
  for (const pod of pods) {
    const object = await world.client.get<KubeObject>(Kinds.Pod, `${ns}/${pod.name}`);
    const branch = (await world.client.list<BranchInterface>(Kinds.BranchInterface, { namespace: ns })).find(
      (b) => b.spec.podName === pod.name,
    );
    now.push({
      name: pod.name,
      eniId: pod.eniId,
      annotation: object?.metadata.annotations?.[POD_ENI_ANNOTATION] ?? '',
      branch: branch?.status,
    });
  }
  expect(now).toEqual(pods);
  const enis = world.emulator.control.dump().networkInterfaces;
  const associations = world.emulator.control.dump().associations;
  for (const pod of pods) {
    expect(enis.some((eni) => eni.id === pod.eniId)).toBe(true);
    expect(associations.find((a) => a.branchInterfaceId === pod.eniId)?.vlanId).toBe(pod.branch?.vlanId);
  }
}

async function trunkOf(node: string): Promise<TrunkInterface | undefined> {
  return world.client.get<TrunkInterface>(Kinds.TrunkInterface, node);
}

describe('a running pod keeps its branch ENI', () => {
  test('TrunkInterface deleted while the node lives: re-created, adopts the same trunk, pods untouched, new pods served', async () => {
    const { ns, node, pods } = await nodeWithRunningPods('trunk-deleted');
    const before = await trunkOf(node);
    const trunkEniId = before?.status?.eniId ?? '';
    const mark = lastSeq();

    await world.client.delete(Kinds.TrunkInterface, node, before?.metadata.uid ? { uid: before.metadata.uid } : {});
    // A pod arriving in the gap waits for the trunk; it must not fail or take a VLAN already in use.
    await createTestPod(world.client, ns, 'in-the-gap', { nodeName: node, labels: SERVICE });

    const after = await eventually(
      async () => {
        const trunk = await trunkOf(node);
        if (!trunk || trunk.metadata.uid === before?.metadata.uid) throw new Error('not re-created yet');
        if (trunk.status?.state !== 'Ready') throw new Error(`re-created, ${trunk.status?.state ?? 'no status'}`);
        return trunk;
      },
      { waitingFor: `TrunkInterface ${node} re-created and Ready`, timeoutMs: 60_000 },
    );
    expect(after.status?.eniId).toBe(trunkEniId);

    const gapPod = await waitAnnotated(world.client, ns, 'in-the-gap');
    await createTestPod(world.client, ns, 'after-the-gap', { nodeName: node, labels: SERVICE });
    const laterPod = await waitAnnotated(world.client, ns, 'after-the-gap');

    expect(callsOn([...pods.map((p) => p.eniId), trunkEniId], mark)).toEqual([]);
    const created = world.emulator.control
      .mutations()
      .filter((call) => call.seq > mark && call.action === 'CreateNetworkInterface');
    expect(created).toHaveLength(2); // the two new pods' ENIs; no second trunk
    const vlans = [...pods.map((p) => p.branch?.vlanId), gapPod.vlanId, laterPod.vlanId];
    expect(new Set(vlans).size).toBe(4);
    await expectUntouched(ns, pods);
    const trunks = world.emulator.control
      .dump()
      .networkInterfaces.filter(
        (eni) =>
          eni.interfaceType === 'trunk' && eni.tags['node.k8s.amazonaws.com/instance_id'] === before?.spec.instanceId,
      );
    expect(trunks.map((eni) => eni.id)).toEqual([trunkEniId]);
    const warnings = (await eventsOf(world.client, ns, 'in-the-gap')).filter((event) => event.type === 'Warning');
    expect(warnings).toEqual([]);
  });

  test('CNINode feature flap: capacity withdrawn and restored, running pods untouched, new pods served after', async () => {
    const { ns, node, pods } = await nodeWithRunningPods('cninode-flap');
    const trunkEniId = (await trunkOf(node))?.status?.eniId ?? '';
    const mark = lastSeq();
    const capacity = async () =>
      (await world.client.get<KubeObject & { status?: { capacity?: Record<string, string> } }>(Kinds.Node, node))
        ?.status?.capacity?.[POD_ENI_RESOURCE];

    await world.client.mergePatch(Kinds.CNINode, node, { spec: { features: null } });
    await eventually(
      async () => {
        const value = await capacity();
        if (value !== undefined) throw new Error(`capacity still ${value}`);
      },
      { waitingFor: `${POD_ENI_RESOURCE} capacity withdrawn from ${node}` },
    );
    await eventually(
      async () => {
        const reasons = (await eventsOf(world.client, 'default', node)).map((event) => event.reason);
        if (!reasons.includes('NodeTrunkUnmanaged')) throw new Error(`events: ${reasons.join(', ')}`);
      },
      { waitingFor: `NodeTrunkUnmanaged event on ${node}` },
    );

    await world.client.mergePatch(Kinds.CNINode, node, { spec: { features: [{ name: 'SecurityGroupsForPods' }] } });
    await eventually(
      async () => {
        const value = await capacity();
        if (value === undefined) throw new Error('no capacity yet');
      },
      { waitingFor: `${POD_ENI_RESOURCE} capacity advertised again on ${node}` },
    );
    await createTestPod(world.client, ns, 'after-the-flap', { nodeName: node, labels: SERVICE });
    const laterPod = await waitAnnotated(world.client, ns, 'after-the-flap');

    expect(callsOn([...pods.map((p) => p.eniId), trunkEniId], mark)).toEqual([]);
    expect(pods.map((p) => p.branch?.vlanId)).not.toContain(laterPod.vlanId);
    await expectUntouched(ns, pods);
    const cniNode = await world.client.get<CNINode>(Kinds.CNINode, node);
    expect(cniNode?.spec?.features).toEqual([{ name: 'SecurityGroupsForPods' }]);
  });
});
