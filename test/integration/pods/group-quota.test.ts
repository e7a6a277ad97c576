/**
 * The per-ENI security group quota, end to end: two policies whose union is more groups than EC2 (the
 * emulator, default quota 5) lets one ENI carry. The pod gets a Warning event and its BranchInterface a
 * condition, both naming the policies and the quota; the operator does not retry while the policies stay as
 * they are; narrowing them lets the pod get its ENI. Real kube-apiserver + etcd, the emulator over HTTP, the
 * whole operator.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface } from '../../../operator/api/types.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, eventsOf, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;

beforeAll(async () => {
  world = await startPodWorld();
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

const APP = { app: 'ledger' };

describe('security groups over the per-ENI quota', () => {
  test('a condition and an event name the policies and the quota; no retry until a policy changes', async () => {
    const extra = ['audit', 'metrics', 'backup'].map(
      (name) => world.emulator.control.addSecurityGroup({ vpcId: world.vpcId, name }).id,
    );
    const wide = [world.groups['rds-access'] ?? '', world.groups['cache-access'] ?? '', world.groups.payments ?? ''];
    const node = await world.addManagedNode('quota');
    const ns = await world.namespace('quota');
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'ledger-data', wide, { podSelector: { matchLabels: APP } }),
    );
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'ledger-ops', extra, { podSelector: { matchLabels: APP } }),
    );
    await createTestPod(world.client, ns, 'ledger-0', { nodeName: node, labels: APP });

    const warning = await eventually(
      async () => {
        const event = (await eventsOf(world.client, ns, 'ledger-0')).find(
          (e) => e.reason === 'SecurityGroupQuotaExceeded',
        );
        if (!event) throw new Error('no SecurityGroupQuotaExceeded event yet');
        return event;
      },
      { waitingFor: 'the SecurityGroupQuotaExceeded event on pod ledger-0', timeoutMs: 60_000 },
    );
    expect(warning).toMatchObject({ type: 'Warning' });
    expect(warning.message).toContain(`6 security groups [${[...wide, ...extra].sort().join(' ')}]`);
    expect(warning.message).toContain('from policies [ledger-data ledger-ops]');
    expect(warning.message).toContain("exceed the account's quota of 5 security groups per network interface");
    const branch = await world.client.get<BranchInterface>(Kinds.BranchInterface, `${ns}/ledger-0`);
    expect(branch?.status?.conditions?.find((c) => c.type === 'SecurityGroupsApplied')).toMatchObject({
      status: 'False',
      reason: 'SecurityGroupQuotaExceeded',
      message: warning.message,
      observedGeneration: branch?.metadata.generation,
    });
    const refusedCreates = world.emulator.control.counters().CreateNetworkInterface?.errors ?? 0;

    // Pod updates reach the branch controller; with the policies unchanged, none of them calls EC2 again.
    await world.client.mergePatch(Kinds.Pod, `${ns}/ledger-0`, { metadata: { labels: { touched: '1' } } });
    await world.client.mergePatch(Kinds.Pod, `${ns}/ledger-0`, { metadata: { labels: { touched: '2' } } });

    // A policy narrows: the pod's groups change, the block lifts, the ENI is made with the five that remain.
    await world.client.mergePatch(Kinds.SecurityGroupPolicy, `${ns}/ledger-ops`, {
      spec: { securityGroups: { groupIds: extra.slice(0, 2) } },
    });
    const entry = await waitAnnotated(world.client, ns, 'ledger-0');
    const eni = world.emulator.control.dump().networkInterfaces.find((e) => e.id === entry.eniId);
    expect(eni?.securityGroupIds.slice().sort()).toEqual([...wide, ...extra.slice(0, 2)].sort());
    // The later success is the proof that the touches in between made no refused call: still the one error.
    expect(world.emulator.control.counters().CreateNetworkInterface?.errors ?? 0).toBe(refusedCreates);
    await eventually(
      async () => {
        const ready = await world.client.get<BranchInterface>(Kinds.BranchInterface, `${ns}/ledger-0`);
        expect(ready?.status?.conditions?.find((c) => c.type === 'SecurityGroupsApplied')).toMatchObject({
          status: 'True',
          reason: 'Applied',
        });
      },
      { waitingFor: 'SecurityGroupsApplied=True on BranchInterface ledger-0' },
    );
  }, 120_000);
});
