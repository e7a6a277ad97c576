/**
 * An operator restart with warm branch ENIs parked and a pod in the middle of taking one over
 * (docs/warm-branches.md#who-owns-the-eni-at-each-instant). The first operator is stopped while EC2 refuses
 * the ModifyNetworkInterfaceAttribute of a takeover, so the pod's BranchInterface already records the warm ENI
 * (phase Reusing), its WarmBranch is gone, and the pod is not announced yet. A fresh operator, with nothing of
 * the first one's memory, must adopt what was recorded: it finishes the takeover with exactly that one modify
 * and serves the pod; it makes no EC2 mutation on the warm ENIs, and its leak sweeper, sweeping every second,
 * deletes none of them; a pod created after the restart takes a warm ENI with no EC2 call at all. The
 * emulator's mutation log is the proof of every absence.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, WarmBranch } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { gcSweepsTotal } from '../../../operator/observability/metrics.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;
const WEB = { app: 'web' };
const CACHE = { tier: 'cache' };

beforeAll(async () => {
  world = await startPodWorld(() => ({
    warmBranchEnisPerNode: 4,
    warmBranchMaxIdleSeconds: 600,
    leakSweepIntervalSeconds: 1,
    leakSweepInitialDelaySeconds: 0,
  }));
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

async function warmOn(node: string): Promise<WarmBranch[]> {
  const all = await world.client.list<WarmBranch>(Kinds.WarmBranch);
  return all.filter((warm) => warm.spec.nodeName === node);
}

async function successfulSweeps(): Promise<number> {
  const metric = await gcSweepsTotal.get();
  return metric.values.find((value) => value.labels.result === 'success')?.value ?? 0;
}

/** The mutating EC2 calls that took effect since `from` (an index into the log), as "Action eni". */
function mutationsSince(from: number): string[] {
  return world.emulator.control
    .mutations()
    .slice(from)
    .map((call) => `${call.action} ${call.networkInterfaceId ?? ''}`.trim());
}

test('a restarted operator adopts parked warm ENIs and a half-done takeover: one modify, no other mutation, no sweep', async () => {
  const ns = await world.namespace('warm-restart');
  const node = await world.addManagedNode('warm-restart');
  const group = (name: string) => world.groups[name] ?? '';
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'web', [group('rds-access')], { podSelector: { matchLabels: WEB } }),
  );
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'cache', [group('cache-access')], { podSelector: { matchLabels: CACHE } }),
  );

  // Three pods come and go: their ENIs are parked warm, with the web group.
  const names = ['a', 'b', 'c'];
  for (const name of names) await createTestPod(world.client, ns, name, { nodeName: node, labels: WEB });
  const parked = await Promise.all(names.map((name) => waitAnnotated(world.client, ns, name)));
  for (const name of names) await world.deletePod(ns, name);
  await eventually(
    async () =>
      expect((await warmOn(node)).map((warm) => warm.spec.eniId).sort()).toEqual(
        parked.map((entry) => entry.eniId).sort(),
      ),
    { waitingFor: 'the three ENIs kept warm', timeoutMs: 30_000 },
  );

  // A cache pod takes one over (other groups), and EC2 refuses the modify: the takeover is recorded, not done.
  world.emulator.control.setFaults([
    { action: 'ModifyNetworkInterfaceAttribute', code: 'InternalError', probability: 1 },
  ]);
  await createTestPod(world.client, ns, 'mover', { nodeName: node, labels: CACHE });
  const midway = await eventually(
    async () => {
      const branch = (await world.client.list<BranchInterface>(Kinds.BranchInterface, { namespace: ns })).find(
        (candidate) => candidate.spec.podName === 'mover',
      );
      const warm = (await warmOn(node)).map((record) => record.spec.eniId);
      if (branch?.status?.phase !== 'Reusing' || branch.status.eniId === undefined) {
        throw new Error(`branch of mover is ${branch?.status?.phase ?? 'missing'}`);
      }
      if (warm.includes(branch.status.eniId)) throw new Error('the WarmBranch of the taken ENI is still there');
      if ((world.emulator.control.counters().ModifyNetworkInterfaceAttribute?.errors ?? 0) === 0) {
        throw new Error('no modify refused yet');
      }
      return { eniId: branch.status.eniId, warm };
    },
    { waitingFor: 'mover to record its takeover and EC2 to refuse the modify', timeoutMs: 30_000 },
  );
  expect(parked.map((entry) => entry.eniId)).toContain(midway.eniId);
  expect(midway.warm).toHaveLength(2);
  const mover = await world.client.get<KubeObject>(Kinds.Pod, `${ns}/mover`);
  expect(mover?.metadata.annotations?.['vpc.amazonaws.com/pod-eni']).toBeUndefined();

  // The operator goes; EC2 heals; a fresh operator starts from what was recorded.
  await world.stopOperator();
  world.emulator.control.setFaults([]);
  const mark = world.emulator.control.mutations().length;
  await world.startOperator();
  const sweepsAtStart = await successfulSweeps();

  const moved = await waitAnnotated(world.client, ns, 'mover');
  expect(moved.eniId).toBe(midway.eniId);
  const enis = () => new Map(world.emulator.control.dump().networkInterfaces.map((eni) => [eni.id, eni]));
  expect(enis().get(midway.eniId)?.securityGroupIds).toEqual([group('cache-access')]);

  // Three sweeps: past the sweeper's two-strike rule, with every warm ENI's tagged pod long gone.
  await eventually(
    async () => {
      if ((await successfulSweeps()) < sweepsAtStart + 3) throw new Error('fewer than 3 sweeps since the restart');
    },
    { waitingFor: 'three leak sweeps by the new operator', timeoutMs: 30_000 },
  );

  // A web pod after the restart takes a warm ENI as it is: no EC2 call.
  await createTestPod(world.client, ns, 'next', { nodeName: node, labels: WEB });
  const next = await waitAnnotated(world.client, ns, 'next');
  expect(midway.warm).toContain(next.eniId);

  expect(mutationsSince(mark)).toEqual([`ModifyNetworkInterfaceAttribute ${midway.eniId}`]);
  const left = midway.warm.filter((eniId) => eniId !== next.eniId);
  expect((await warmOn(node)).map((warm) => warm.spec.eniId)).toEqual(left);
  for (const eniId of [...left, next.eniId]) expect(enis().get(eniId)?.securityGroupIds).toEqual([group('rds-access')]);
}, 150_000);
