/**
 * Warm branch ENI reuse end to end (docs/warm-branches.md): the whole operator, a real API server and the EC2
 * emulator. A released pod's ENI is kept warm after the cooldown and taken over by the node's next pod: with
 * the same groups without any EC2 mutation, with other groups with exactly one ModifyNetworkInterfaceAttribute;
 * the pool's limit and idle age come from the live ConfigMap; a cordoned node gives its warm ENIs back.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { WarmBranch } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;
const APP = { app: 'web' };
const MUTATIONS = [
  'CreateNetworkInterface',
  'AssociateTrunkInterface',
  'DeleteNetworkInterface',
  'DisassociateTrunkInterface',
  'ModifyNetworkInterfaceAttribute',
  'CreateTags',
  'DeleteTags',
];

beforeAll(async () => {
  world = await startPodWorld(() => ({ warmBranchEnisPerNode: 2, warmBranchMaxIdleSeconds: 600 }));
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

function group(name: string): string {
  return world.groups[name] ?? '';
}

function mutationCounts(): Record<string, number> {
  const counters = world.emulator.control.counters();
  return Object.fromEntries(MUTATIONS.map((action) => [action, counters[action]?.calls ?? 0]));
}

function delta(before: Record<string, number>): Record<string, number> {
  const after = mutationCounts();
  return Object.fromEntries(
    MUTATIONS.map((action) => [action, (after[action] ?? 0) - (before[action] ?? 0)]).filter(([, n]) => n !== 0),
  );
}

async function warmOn(node: string): Promise<WarmBranch[]> {
  const all = await world.client.list<WarmBranch>(Kinds.WarmBranch);
  return all.filter((warm) => warm.spec.nodeName === node);
}

async function parkOne(ns: string, node: string, name: string): Promise<string> {
  await createTestPod(world.client, ns, name, { nodeName: node, labels: APP });
  const entry = await waitAnnotated(world.client, ns, name);
  await world.deletePod(ns, name);
  await eventually(async () => expect((await warmOn(node)).map((warm) => warm.spec.eniId)).toContain(entry.eniId), {
    waitingFor: `ENI ${entry.eniId} of ${name} kept warm`,
    timeoutMs: 30_000,
  });
  return entry.eniId;
}

test('same groups: the next pod takes the warm ENI (same VLAN and IP) with no EC2 mutation', async () => {
  const ns = await world.namespace('warm-same');
  const node = await world.addManagedNode('warm-same');
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'web', [group('rds-access')], { podSelector: { matchLabels: APP } }),
  );
  await createTestPod(world.client, ns, 'old', { nodeName: node, labels: APP });
  const old = await waitAnnotated(world.client, ns, 'old');
  await world.deletePod(ns, 'old');
  await eventually(async () => expect((await warmOn(node)).map((warm) => warm.spec.eniId)).toEqual([old.eniId]), {
    waitingFor: 'the old pod ENI kept warm',
    timeoutMs: 30_000,
  });

  const before = mutationCounts();
  await createTestPod(world.client, ns, 'new', { nodeName: node, labels: APP });
  const fresh = await waitAnnotated(world.client, ns, 'new');
  expect(fresh).toEqual({ ...old, associationID: old.associationID });
  expect(delta(before)).toEqual({});
  expect(world.emulator.control.dump().networkInterfaces.find((eni) => eni.id === old.eniId)?.securityGroupIds).toEqual(
    [group('rds-access')],
  );
  expect(await warmOn(node)).toEqual([]);
});

test('other groups: exactly one ModifyNetworkInterfaceAttribute, and the ENI carries the new groups when announced', async () => {
  const ns = await world.namespace('warm-other');
  const node = await world.addManagedNode('warm-other');
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'web', [group('rds-access')], { podSelector: { matchLabels: APP } }),
  );
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'cache', [group('cache-access')], { podSelector: { matchLabels: { tier: 'cache' } } }),
  );
  const eniId = await parkOne(ns, node, 'old');

  const before = mutationCounts();
  await createTestPod(world.client, ns, 'new', { nodeName: node, labels: { tier: 'cache' } });
  const fresh = await waitAnnotated(world.client, ns, 'new');
  expect(fresh.eniId).toBe(eniId);
  expect(delta(before)).toEqual({ ModifyNetworkInterfaceAttribute: 1 });
  expect(world.emulator.control.dump().networkInterfaces.find((eni) => eni.id === eniId)?.securityGroupIds).toEqual([
    group('cache-access'),
  ]);
});

test('the live ConfigMap bounds the pool (limit, idle age), and a cordoned node gives its warm ENIs back', async () => {
  const ns = await world.namespace('warm-pool');
  const node = await world.addManagedNode('warm-pool');
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'web', [group('rds-access')], { podSelector: { matchLabels: APP } }),
  );
  // Two pods at once, then both gone: two warm ENIs (the limit is 2).
  for (const name of ['a', 'b']) await createTestPod(world.client, ns, name, { nodeName: node, labels: APP });
  const a = await waitAnnotated(world.client, ns, 'a');
  const b = await waitAnnotated(world.client, ns, 'b');
  await world.deletePod(ns, 'a');
  await eventually(async () => expect((await warmOn(node)).length).toBe(1), {
    waitingFor: 'a warm',
    timeoutMs: 30_000,
  });
  await world.deletePod(ns, 'b');
  await eventually(async () => expect((await warmOn(node)).length).toBe(2), {
    waitingFor: 'b warm',
    timeoutMs: 30_000,
  });

  // The limit lowered to 1: the oldest (a's) is deleted in EC2.
  await world.client.create(Kinds.ConfigMap, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
    data: { 'warm-branch-eni-limit': '1' },
  } as KubeObject);
  await eventually(async () => expect((await warmOn(node)).map((warm) => warm.spec.eniId)).toEqual([b.eniId]), {
    waitingFor: 'the oldest warm ENI released',
    timeoutMs: 30_000,
  });
  const enis = () => new Set(world.emulator.control.dump().networkInterfaces.map((eni) => eni.id));
  expect(enis().has(a.eniId)).toBe(false);

  // A cordoned node releases the rest.
  await world.client.mergePatch(Kinds.Node, node, { spec: { unschedulable: true } });
  await eventually(async () => expect(await warmOn(node)).toEqual([]), {
    waitingFor: 'warm ENIs of the cordoned node released',
    timeoutMs: 30_000,
  });
  expect(enis().has(b.eniId)).toBe(false);
  await world.client.mergePatch(Kinds.Node, node, { spec: { unschedulable: false } });

  // Idle age 10 s: a warm ENI goes by itself.
  await world.client.mergePatch(Kinds.ConfigMap, 'kube-system/amazon-vpc-cni', {
    data: { 'warm-branch-eni-limit': '2', 'warm-branch-eni-max-idle': '10' },
  });
  const c = await parkOne(ns, node, 'c');
  await eventually(async () => expect(await warmOn(node)).toEqual([]), {
    waitingFor: 'idle warm ENI released',
    timeoutMs: 40_000,
  });
  expect(enis().has(c)).toBe(false);
  await world.client.delete(Kinds.ConfigMap, 'kube-system/amazon-vpc-cni');
}, 150_000);
