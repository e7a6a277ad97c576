/**
 * Level-triggered reconciling against a real apiserver: while one reconcile of a key runs, a thousand
 * updates of that object collapse into a single follow-up reconcile that sees the latest state.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createKubeClient, createManager } from '../../../operator/framework/index.ts';
import type { FrameworkManager, KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { eventually, clusterAccess, testNamespace, uniqueName } from '../harness/index.ts';

const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
type ConfigMap = KubeObject & { data?: Record<string, string> };

const UPDATES = 1000;
let namespace: string;
let manager: FrameworkManager;
const stop = new AbortController();
let running: Promise<void> | undefined;
let releaseFirst: () => void = () => undefined;

beforeAll(async () => {
  namespace = await testNamespace('fw-level');
});

afterAll(async () => {
  releaseFirst();
  stop.abort();
  await running;
});

test(`${UPDATES} rapid updates of one object produce far fewer reconciles, and the last state wins`, async () => {
  const client = createKubeClient(clusterAccess());
  const name = uniqueName('counter');
  await client.create<ConfigMap>(CONFIG_MAP, { metadata: { name, namespace }, data: { n: '-1' } });

  manager = createManager({ client, log: silentLogger });
  const configMaps = manager.informer<ConfigMap>({ kind: CONFIG_MAP, namespace });
  const seen: string[] = [];
  // The first reconcile is slow (it waits for the test to finish writing), as a real one doing EC2 calls
  // would be; every update that arrives meanwhile only marks the key dirty.
  const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
  const controller = manager.controller({
    name: uniqueName('level'),
    reconciler: {
      async reconcile(key) {
        seen.push(configMaps.get(key)?.data?.n ?? 'gone');
        if (seen.length === 1) await firstMayFinish;
      },
    },
  });
  controller.watch(configMaps);
  running = manager.start(stop.signal);

  await eventually(() => expect(seen).toEqual(['-1']), { waitingFor: 'the first reconcile' });
  for (let i = 0; i < UPDATES; i++) {
    await client.mergePatch(CONFIG_MAP, `${namespace}/${name}`, { data: { n: String(i) } });
  }
  await eventually(() => expect(configMaps.get(`${namespace}/${name}`)?.data?.n).toBe(String(UPDATES - 1)), {
    waitingFor: 'the informer cache to see the last update',
  });
  releaseFirst();

  await eventually(() => expect(seen.at(-1)).toBe(String(UPDATES - 1)), {
    waitingFor: 'a reconcile that sees the last state',
  });
  // One reconcile in flight + one follow-up for everything that arrived meanwhile.
  expect(seen).toEqual(['-1', String(UPDATES - 1)]);
}, 120_000);
