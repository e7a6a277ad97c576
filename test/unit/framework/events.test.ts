import { expect, test } from '@jest/globals';
import { FakeClock } from '../../../operator/framework/clock.ts';
import { EVENT_BURST_PER_OBJECT, createEventRecorder } from '../../../operator/framework/events.ts';
import type { KubeClient, KubeObject } from '../../../operator/framework/types.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';

type Written = KubeObject & { count?: number; involvedObject?: Record<string, string>; reason?: string };

function recordingClient() {
  const creates: Written[] = [];
  const patches: { key: string; body: object }[] = [];
  const client = {
    create: async (_kind: unknown, object: Written) => {
      creates.push(object);
      return object;
    },
    mergePatch: async (_kind: unknown, key: string, body: object) => {
      patches.push({ key, body });
      return {};
    },
  } as unknown as KubeClient;
  return { client, creates, patches };
}

const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ip-10-0-0-1', uid: 'node-uid' } };
const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: 'pod-uid' } };

test('repeats are aggregated into one Event whose count grows', async () => {
  const { client, creates, patches } = recordingClient();
  const recorder = createEventRecorder({ client, clock: new FakeClock(), log: silentLogger });
  recorder.event(pod, 'Warning', 'BranchENIFailed', 'no free VLAN');
  await recorder.flush();
  recorder.event(pod, 'Warning', 'BranchENIFailed', 'no free VLAN');
  await recorder.flush();
  // Repeats arriving before the queued write starts ride on it: three calls, one more write.
  for (let i = 0; i < 3; i++) recorder.event(pod, 'Warning', 'BranchENIFailed', 'no free VLAN');
  await recorder.flush();
  expect(creates.map((c) => [c.metadata.namespace, c.reason, c.count])).toEqual([['shop', 'BranchENIFailed', 1]]);
  expect(patches.map((p) => [p.key, (p.body as { count: number }).count])).toEqual([
    [`shop/${creates[0]?.metadata.name}`, 2],
    [`shop/${creates[0]?.metadata.name}`, 5],
  ]);
});

test('a Node event lives in default with no involvedObject namespace, as kubectl describe node expects', async () => {
  const { client, creates } = recordingClient();
  const recorder = createEventRecorder({ client, clock: new FakeClock(), log: silentLogger });
  recorder.event(node, 'Normal', 'TrunkReady', 'trunk eni-1 attached');
  await recorder.flush();
  expect(creates[0]?.metadata.namespace).toBe('default');
  expect(creates[0]?.involvedObject).toEqual({ apiVersion: 'v1', kind: 'Node', name: 'ip-10-0-0-1', uid: 'node-uid' });
});

test('a hot loop on one object is cut off after the burst, and refills slowly', async () => {
  const { client, creates, patches } = recordingClient();
  const clock = new FakeClock();
  const recorder = createEventRecorder({ client, clock, log: silentLogger });
  for (let i = 0; i < 1000; i++) recorder.event(pod, 'Warning', 'Failed', `attempt ${i}`);
  await recorder.flush();
  expect(creates.length + patches.length).toBe(EVENT_BURST_PER_OBJECT);
  recorder.event(node, 'Normal', 'Other', 'another object is not affected');
  clock.advance(300_000); // one token back after 5 minutes
  recorder.event(pod, 'Warning', 'Failed', 'after the pause');
  recorder.event(pod, 'Warning', 'Failed', 'dropped again');
  await recorder.flush();
  expect(
    creates
      .map((c) => c.reason)
      .slice(-2)
      .sort(),
  ).toEqual(['Failed', 'Other']);
  expect(creates.length + patches.length).toBe(EVENT_BURST_PER_OBJECT + 2);
});

test('a forgotten object leaves nothing behind: its next event passes the spam filter as a new Event', async () => {
  const { client, creates, patches } = recordingClient();
  const recorder = createEventRecorder({ client, clock: new FakeClock(), log: silentLogger });
  for (let i = 0; i < EVENT_BURST_PER_OBJECT + 5; i++) recorder.event(pod, 'Warning', 'Failed', `attempt ${i}`);
  recorder.event(node, 'Normal', 'Other', 'kept');
  await recorder.flush();
  const podCreates = () => creates.filter((c) => c.involvedObject?.name === 'web');
  expect(podCreates()).toHaveLength(EVENT_BURST_PER_OBJECT); // the spam filter cut the rest off

  recorder.forget('Pod', 'shop', 'web');
  recorder.event(pod, 'Warning', 'Failed', 'attempt 0');
  recorder.event(node, 'Normal', 'Other', 'kept');
  await recorder.flush();
  // A fresh bucket and no aggregation left: a new Event with count 1, not a patch of the old one.
  expect(podCreates()).toHaveLength(EVENT_BURST_PER_OBJECT + 1);
  expect(podCreates().at(-1)).toMatchObject({ message: 'attempt 0', count: 1 });
  // The node's aggregation is kept: its repeat is a patch.
  expect(creates.filter((c) => c.reason === 'Other')).toHaveLength(1);
  expect(patches.map((p) => p.body)).toEqual([expect.objectContaining({ count: 2 })]);
});
