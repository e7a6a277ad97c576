/**
 * A reconcile that keeps failing is retried with per-key exponential backoff, capped, against a real
 * apiserver; time is a FakeClock so the delays are asserted exactly, without sleeping.
 */
import { afterAll, expect, test } from '@jest/globals';
import { FakeClock, createKubeClient, createManager, keyOf } from '../../../operator/framework/index.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { eventually, clusterAccess, testNamespace, uniqueName } from '../harness/index.ts';

const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const stop = new AbortController();
let running: Promise<void> | undefined;

afterAll(async () => {
  stop.abort();
  await running;
});

test('a failing reconcile is retried with growing, capped delays, and success stops the retries', async () => {
  const namespace = await testNamespace('fw-retry');
  const client = createKubeClient(clusterAccess());
  const clock = new FakeClock();
  const manager = createManager({ client, log: silentLogger, clock });
  const configMaps = manager.informer<KubeObject>({ kind: CONFIG_MAP, namespace });
  const FAILURES = 6;
  const attemptsAt: number[] = [];
  const controller = manager.controller({
    name: uniqueName('retry'),
    backoffBaseMs: 1000,
    backoffMaxMs: 8000,
    reconciler: {
      async reconcile(key) {
        attemptsAt.push(clock.now());
        // Reads the real object like any reconciler; fails until the sixth retry.
        if (!(await client.get(CONFIG_MAP, key))) throw new Error(`${key} not found`);
        if (attemptsAt.length <= FAILURES) throw new Error(`simulated failure ${attemptsAt.length}`);
      },
    },
  });
  controller.watch(configMaps);
  running = manager.start(stop.signal);
  await client.create(CONFIG_MAP, { metadata: { name: uniqueName('flaky'), namespace } });

  const expectedDelays = [1000, 2000, 4000, 8000, 8000, 8000];
  await eventually(() => expect(attemptsAt).toHaveLength(1), { waitingFor: 'the first reconcile' });
  for (const [i, delay] of expectedDelays.entries()) {
    await eventually(() => expect(controller.queue.delayedCount).toBe(1), {
      waitingFor: `retry ${i + 1} to be scheduled`,
    });
    clock.advance(delay - 1);
    expect(attemptsAt).toHaveLength(i + 1); // not a millisecond early
    clock.advance(1);
    await eventually(() => expect(attemptsAt).toHaveLength(i + 2), { waitingFor: `retry ${i + 1}` });
  }
  const gaps = attemptsAt.slice(1).map((at, i) => at - (attemptsAt[i] ?? 0));
  expect(gaps).toEqual(expectedDelays);
  await eventually(() => expect(controller.queue.processingCount).toBe(0), {
    waitingFor: 'the successful reconcile to finish',
  });
  expect(controller.queue.delayedCount).toBe(0);
  expect(controller.queue.failures(keyOf(configMaps.list()[0] ?? { metadata: { name: '' } }))).toBe(0);
}, 120_000);
