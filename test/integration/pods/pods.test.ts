/**
 * Security groups for pods end to end: a real kube-apiserver + etcd, the EC2 emulator over HTTP through the
 * real SDK, and the whole operator from its composition root. Each test makes its own namespace and its own
 * node(s), so tests do not share VLANs or capacity. Warm reuse is off here (`--warm-branch-enis-per-node=0`):
 * these tests pin EKS's lifecycle exactly, every released ENI deleted; warm-reuse.test.ts has it on.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { TAG } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, PodEniAnnotationEntry, SecurityGroupPolicy } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { eventually } from '../harness/index.ts';
import {
  createTestPod,
  eventsOf as objectEvents,
  startPodWorld,
  testPolicy,
  waitAnnotated as waitPodAnnotated,
  type ObjectEvent,
  type PodWorld,
} from './fixture.ts';

let world: PodWorld;

beforeAll(async () => {
  world = await startPodWorld(() => ({ warmBranchEnisPerNode: 0 }));
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

const ANNOTATION = 'vpc.amazonaws.com/pod-eni';
const SERVICE = { 'app.kubernetes.io/component': 'service' };

function group(name: string): string {
  const id = world.groups[name];
  if (!id) throw new Error(`no seeded group ${name}`);
  return id;
}

async function annotationOf(namespace: string, name: string): Promise<string | undefined> {
  const pod = await world.client.get<KubeObject>(Kinds.Pod, `${namespace}/${name}`);
  return pod?.metadata.annotations?.[ANNOTATION];
}

const waitAnnotated = (namespace: string, name: string): Promise<PodEniAnnotationEntry> =>
  waitPodAnnotated(world.client, namespace, name);

function eni(id: string) {
  return world.emulator.control.dump().networkInterfaces.find((e) => e.id === id);
}

const eventsOf = (namespace: string, name: string): Promise<ObjectEvent[]> =>
  objectEvents(world.client, namespace, name);

async function createPolicy(policy: SecurityGroupPolicy): Promise<void> {
  await world.client.create(Kinds.SecurityGroupPolicy, policy);
}

/**
 * Returns once the pod controller has finished a reconcile of the pod that began after this call, so that what
 * it did, or would wrongly have done, for the pod as it stands is visible: an absence checked after this is not
 * luck. A reconcile first removes a pod-eni annotation the operator did not write, so the helper forges one and
 * waits for its removal, twice: a key is never reconciled twice at once, so the second removal comes after the
 * first reconcile has finished all its steps.
 */
async function podReconciledAgain(namespace: string, name: string): Promise<void> {
  for (const round of [1, 2]) {
    await world.client.mergePatch(Kinds.Pod, `${namespace}/${name}`, {
      metadata: { annotations: { [ANNOTATION]: `forged by the test, round ${round}` } },
    });
    await eventually(async () => expect(await annotationOf(namespace, name)).toBeUndefined(), {
      waitingFor: `forged annotation ${round} removed from pod ${namespace}/${name}`,
    });
  }
}

describe('security groups for pods', () => {
  test('workshop: every catalog service pod gets a branch ENI with exactly the policy groups, unique VLANs, a CNI-readable annotation', async () => {
    const ns = await world.namespace('catalog');
    const node = await world.addManagedNode('workshop');
    await createPolicy(
      testPolicy(ns, 'catalog-rds-access', [group('rds-access')], { podSelector: { matchLabels: SERVICE } }),
    );
    const names = ['catalog-0', 'catalog-1', 'catalog-2'];
    for (const name of names) await createTestPod(world.client, ns, name, { nodeName: node, labels: SERVICE });
    await createTestPod(world.client, ns, 'ui', { nodeName: node, labels: { app: 'ui' }, podEni: false });

    const entries = [];
    for (const name of names) entries.push(await waitAnnotated(ns, name));
    const raw = await annotationOf(ns, 'catalog-0');
    expect(Object.keys((JSON.parse(raw ?? '[]') as object[])[0] ?? {})).toEqual([
      'eniId',
      'ifAddress',
      'privateIp',
      'ipv6Addr',
      'vlanId',
      'subnetCidr',
      'subnetV6Cidr',
      'associationID',
    ]);
    const associations = world.emulator.control.dump().associations;
    for (const entry of entries) {
      const branch = eni(entry.eniId);
      expect(branch?.securityGroupIds).toEqual([group('rds-access')]);
      expect(branch?.description).toBe('aws-k8s-branch-eni');
      expect(branch?.macAddress).toBe(entry.ifAddress);
      expect(branch?.privateIpAddress).toBe(entry.privateIp);
      expect(entry.subnetCidr).toBe('10.0.0.0/24');
      expect(typeof entry.vlanId).toBe('number');
      expect(associations.find((a) => a.associationId === entry.associationID)).toMatchObject({
        branchInterfaceId: entry.eniId,
        vlanId: entry.vlanId,
      });
    }
    expect(new Set(entries.map((e) => e.vlanId)).size).toBe(names.length);
    expect(entries.every((e) => e.vlanId >= 1 && e.vlanId <= 120)).toBe(true);

    // The pod that neither matches nor requests pod-eni gets no branch ENI.
    await podReconciledAgain(ns, 'ui');
    expect(await world.client.get(Kinds.BranchInterface, `${ns}/ui`)).toBeUndefined();
    const policy = await eventually(
      async () => {
        const p = await world.client.get<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `${ns}/catalog-rds-access`);
        expect(p?.status?.matchedPods).toBe(3);
        return p;
      },
      { waitingFor: 'policy status with 3 matched pods' },
    );
    expect(policy?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const namespace = await world.client.get<KubeObject>(Kinds.Namespace, ns);
    expect(namespace?.metadata.labels?.['trunking.sgp-operator.io/has-policies']).toBe('true');
    expect((await eventsOf(ns, 'catalog-0')).map((e) => e.reason)).toEqual(
      expect.arrayContaining(['SecurityGroupRequested', 'ResourceAllocated']),
    );
  });

  test('a ServiceAccount-selector policy and a pod-selector policy are unioned', async () => {
    const ns = await world.namespace('orders');
    const node = await world.addManagedNode('union');
    await world.client.create(Kinds.ServiceAccount, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'payments-sa', namespace: ns, labels: { team: 'payments' } },
    } as KubeObject);
    await createPolicy(
      testPolicy(ns, 'by-pod', [group('rds-access')], { podSelector: { matchLabels: { app: 'orders' } } }),
    );
    await createPolicy(
      testPolicy(ns, 'by-sa', [group('payments')], { serviceAccountSelector: { matchLabels: { team: 'payments' } } }),
    );
    await createTestPod(world.client, ns, 'both', {
      nodeName: node,
      labels: { app: 'orders' },
      serviceAccountName: 'payments-sa',
    });
    await createTestPod(world.client, ns, 'sa-only', {
      nodeName: node,
      labels: { app: 'other' },
      serviceAccountName: 'payments-sa',
    });

    const both = await waitAnnotated(ns, 'both');
    const saOnly = await waitAnnotated(ns, 'sa-only');
    expect(eni(both.eniId)?.securityGroupIds.sort()).toEqual([group('rds-access'), group('payments')].sort());
    expect(eni(saOnly.eniId)?.securityGroupIds).toEqual([group('payments')]);
  });

  test('a deleted pod’s ENI is deleted after the cooldown; a completed Job pod is released too', async () => {
    const ns = await world.namespace('release');
    const node = await world.addManagedNode('release');
    await createPolicy(testPolicy(ns, 'all', [group('cache-access')], { podSelector: {} }));
    await createTestPod(world.client, ns, 'web', { nodeName: node });
    await createTestPod(world.client, ns, 'job', { nodeName: node });
    const web = await waitAnnotated(ns, 'web');
    const job = await waitAnnotated(ns, 'job');

    await world.deletePod(ns, 'web');
    await world.client.mergePatchStatus(Kinds.Pod, `${ns}/job`, { phase: 'Succeeded' });

    for (const [name, entry] of [
      ['web', web],
      ['job', job],
    ] as const) {
      await eventually(
        async () => {
          expect(eni(entry.eniId)).toBeUndefined();
          expect(
            world.emulator.control.dump().associations.find((a) => a.branchInterfaceId === entry.eniId),
          ).toBeUndefined();
          expect(await world.client.get<BranchInterface>(Kinds.BranchInterface, `${ns}/${name}`)).toBeUndefined();
        },
        { waitingFor: `branch ENI of ${name} released`, timeoutMs: 60_000 },
      );
    }
  });

  test('a policy edit reaches the running pods’ ENIs in EC2, without a new ENI', async () => {
    const ns = await world.namespace('edit');
    const node = await world.addManagedNode('edit');
    await createPolicy(testPolicy(ns, 'svc', [group('rds-access')], { podSelector: { matchLabels: SERVICE } }));
    await createTestPod(world.client, ns, 'svc-0', { nodeName: node, labels: SERVICE });
    const before = await waitAnnotated(ns, 'svc-0');

    await world.client.mergePatch(Kinds.SecurityGroupPolicy, `${ns}/svc`, {
      spec: { securityGroups: { groupIds: [group('rds-access'), group('cache-access')] } },
    });

    await eventually(
      () =>
        expect(eni(before.eniId)?.securityGroupIds.sort()).toEqual([group('rds-access'), group('cache-access')].sort()),
      { waitingFor: 'branch ENI carrying the edited groups', timeoutMs: 60_000 },
    );
    expect(await annotationOf(ns, 'svc-0')).toBe(JSON.stringify([before]));
    await eventually(
      async () => expect((await eventsOf(ns, 'svc-0')).map((e) => e.reason)).toContain('SecurityGroupsUpdated'),
      { waitingFor: 'SecurityGroupsUpdated event' },
    );
  });

  test('capacity: 10 pods on an m5.large (9 branches) → 9 annotated; the 10th gets one after a deletion and the cooldown', async () => {
    const ns = await world.namespace('capacity');
    const node = await world.addManagedNode('capacity');
    await createPolicy(testPolicy(ns, 'all', [group('rds-access')], { podSelector: {} }));
    const names = Array.from({ length: 10 }, (_, i) => `pod-${i}`);
    for (const name of names) await createTestPod(world.client, ns, name, { nodeName: node });

    const annotated = await eventually(
      async () => {
        const done = [];
        for (const name of names) if (await annotationOf(ns, name)) done.push(name);
        expect(done).toHaveLength(9);
        return done;
      },
      { waitingFor: '9 of 10 pods annotated', timeoutMs: 90_000 },
    );
    const waiting = names.find((name) => !annotated.includes(name)) ?? '';
    await eventually(
      async () => expect((await eventsOf(ns, waiting)).map((e) => e.reason)).toContain('BranchENICapacityReached'),
      { waitingFor: `capacity event on ${waiting}` },
    );

    const freed = await waitAnnotated(ns, annotated[0] ?? '');
    await world.deletePod(ns, annotated[0] ?? '');
    const entry = await waitAnnotated(ns, waiting);
    expect(eni(entry.eniId)?.securityGroupIds).toEqual([group('rds-access')]);
    // EC2's log: the waiting pod's ENI joined the trunk once, and only after the deleted pod's ENI was gone
    // (the annotation comes after the association).
    const log = world.emulator.control.mutations();
    const freedAt = log.find((m) => m.action === 'DeleteNetworkInterface' && m.networkInterfaceId === freed.eniId);
    const joined = log.filter(
      (m) =>
        m.action === 'AssociateTrunkInterface' && m.tags?.[TAG.podNamespace] === ns && m.tags[TAG.podName] === waiting,
    );
    expect(joined.map((m) => m.networkInterfaceId)).toEqual([entry.eniId]);
    expect(joined[0]?.seq).toBeGreaterThan(freedAt?.seq ?? Infinity);
  });

  test('an invalid policy says why; other policies are unaffected; its pods wait with an event', async () => {
    const ns = await world.namespace('invalid');
    const node = await world.addManagedNode('invalid');
    const missing = 'sg-0123456789abcdef0';
    await createPolicy(testPolicy(ns, 'broken', [missing], { podSelector: { matchLabels: { app: 'broken' } } }));
    await createPolicy(
      testPolicy(ns, 'fine', [group('rds-access')], { podSelector: { matchLabels: { app: 'fine' } } }),
    );
    await createPolicy(
      testPolicy(ns, 'foreign', [group('elsewhere')], { podSelector: { matchLabels: { app: 'foreign' } } }),
    );
    await createTestPod(world.client, ns, 'fine-0', { nodeName: node, labels: { app: 'fine' } });
    await createTestPod(world.client, ns, 'broken-0', { nodeName: node, labels: { app: 'broken' } });

    const valid = await eventually(
      async () => {
        const p = await world.client.get<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `${ns}/broken`);
        const condition = p?.status?.conditions?.find((c) => c.type === 'Valid');
        expect(condition?.status).toBe('False');
        return condition;
      },
      { waitingFor: 'Valid=False on the broken policy' },
    );
    expect(valid).toMatchObject({
      reason: 'GroupsNotFound',
      message: `SecurityGroupPolicy ${ns}/broken names ${missing}, which does not exist in ${world.vpcId}; fix spec.securityGroups.groupIds or create the group`,
    });
    const foreign = await eventually(
      async () => {
        const p = await world.client.get<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `${ns}/foreign`);
        const condition = p?.status?.conditions?.find((c) => c.type === 'Valid');
        expect(condition?.status).toBe('False');
        return condition;
      },
      { waitingFor: 'Valid=False on the policy naming another VPC’s group' },
    );
    expect(foreign?.reason).toBe('GroupsInOtherVpc');

    const fine = await waitAnnotated(ns, 'fine-0');
    expect(eni(fine.eniId)?.securityGroupIds).toEqual([group('rds-access')]);
    await eventually(
      async () => expect((await eventsOf(ns, 'broken-0')).map((e) => e.reason)).toContain('SecurityGroupPolicyInvalid'),
      { waitingFor: 'SecurityGroupPolicyInvalid event on the held pod' },
    );
    expect(await annotationOf(ns, 'broken-0')).toBeUndefined();
    expect(await world.client.get(Kinds.BranchInterface, `${ns}/broken-0`)).toBeUndefined();
  });
});
