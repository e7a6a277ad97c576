/**
 * The live branch ENI cooldown from ConfigMap kube-system/amazon-vpc-cni, key branch-eni-cooldown, against a
 * real API server: read at once, changed at run time, raised to the minimum, announced on managed nodes.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import { createCooldownSource } from '../../../operator/controllers/branchinterface/index.ts';
import type { CooldownSource } from '../../../operator/controllers/deps.ts';
import {
  createEventRecorder,
  createManager,
  type FlushableEventRecorder,
  type FrameworkManager,
  type KubeObject,
} from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { eventually } from '../harness/index.ts';
import { startPodWorld, type PodWorld } from './fixture.ts';

let world: PodWorld;
let manager: FrameworkManager;
let recorder: FlushableEventRecorder;
let source: CooldownSource;
let running: Promise<void>;

beforeAll(async () => {
  world = await startPodWorld();
  manager = createManager({ client: world.client, log: silentLogger });
  recorder = createEventRecorder({ client: world.client, log: silentLogger });
  // A real minimum (30 s): this test checks the floor, so it does not lower it.
  source = createCooldownSource({ manager, recorder, log: silentLogger, defaultMs: 60_000 });
  running = manager.start(new AbortController().signal);
  await eventually(() => expect(manager.isReady()).toBe(true), { waitingFor: 'cooldown source caches synced' });
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  await running;
  await recorder?.flush();
  await world?.stop();
});

test('branch-eni-cooldown: default, live change with an event on managed nodes, raised to the 30 s minimum', async () => {
  const node = await world.addManagedNode('cooldown');
  expect(source.currentMs()).toBe(60_000);

  await world.client.create(Kinds.ConfigMap, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
    data: { 'branch-eni-cooldown': '90' },
  } as KubeObject);
  await eventually(() => expect(source.currentMs()).toBe(90_000), { waitingFor: 'cooldown 90 s from the ConfigMap' });
  await eventually(
    async () => {
      const events = await world.client.list<
        KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }
      >(Kinds.Event, { namespace: 'default' });
      expect(events.filter((e) => e.involvedObject?.name === node).map((e) => [e.reason, e.message])).toContainEqual([
        'BranchENICoolDownPeriodUpdated',
        'Branch ENI cool down period has been updated to 1m30s',
      ]);
    },
    { waitingFor: 'BranchENICoolDownPeriodUpdated on the managed node' },
  );

  await world.client.mergePatch(Kinds.ConfigMap, 'kube-system/amazon-vpc-cni', {
    data: { 'branch-eni-cooldown': '5' },
  });
  await eventually(() => expect(source.currentMs()).toBe(30_000), {
    waitingFor: 'cooldown raised to the 30 s minimum',
  });

  await world.client.mergePatch(Kinds.ConfigMap, 'kube-system/amazon-vpc-cni', {
    data: { 'branch-eni-cooldown': null },
  });
  await eventually(
    async () => {
      const cm = await world.client.get<KubeObject & { data?: Record<string, string> }>(
        Kinds.ConfigMap,
        'kube-system/amazon-vpc-cni',
      );
      expect(cm?.data?.['branch-eni-cooldown']).toBeUndefined();
    },
    { waitingFor: 'key removed' },
  );
  expect(source.currentMs()).toBe(30_000); // a removed key keeps the current value, as on EKS
});
