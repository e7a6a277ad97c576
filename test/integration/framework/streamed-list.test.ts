/**
 * How the informer lists: streamed through one watch (`sendInitialEvents`) where the API server offers it,
 * in pages where it refuses (the WatchList feature gate off, as on Kubernetes 1.30–1.31). Both against real
 * kube-apiservers: the run's, and a private one started with the gate off. The requests the informer sends
 * are recorded by a transport wrapper, so the test sees which way it listed.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startControlPlane, type ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { clientOver } from '../../../operator/framework/client.ts';
import {
  createKubeTransport,
  createManager,
  keyOf,
  loadKubeconfigFiles,
  type ClusterAccess,
  type KubeObject,
  type KubeTransport,
} from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { clusterAccess, eventually, testNamespace, uniqueName } from '../harness/index.ts';

const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

/** A transport that records each request as `VERB path?sendInitialEvents` (enough to tell lists apart). */
function recording(access: ClusterAccess): { transport: KubeTransport; sent: string[] } {
  const inner = createKubeTransport(access);
  const sent: string[] = [];
  const describe = (method: string, path: string, query: Record<string, unknown> | undefined) =>
    `${method} ${path}${query?.watch ? ' watch' : ''}${query?.sendInitialEvents ? ' sendInitialEvents' : ''}`;
  return {
    sent,
    transport: {
      access,
      request: (method, path, what, options) => {
        sent.push(describe(method, path, options?.query));
        return inner.request(method, path, what, options);
      },
      stream: (path, what, options) => {
        sent.push(describe('GET', path, options.query));
        return inner.stream(path, what, options);
      },
    },
  };
}

/**
 * Syncs an informer over ConfigMaps in `namespace`, then creates one more and waits for its event. The listed
 * objects' adds are marked as the initial list (their keys queue at low priority); the watched one's is not.
 */
async function listAndWatch(access: ClusterAccess, namespace: string): Promise<{ sent: string[]; names: string[] }> {
  const { transport, sent } = recording(access);
  const client = clientOver(transport);
  for (const name of ['a', 'b', 'c']) {
    await client.create(CONFIG_MAP, { metadata: { name, namespace } } as KubeObject);
  }
  const manager = createManager({ client, log: silentLogger });
  const informer = manager.informer<KubeObject>({ kind: CONFIG_MAP, namespace });
  const added: string[] = [];
  informer.onEvent((event) => {
    if (event.type === 'add') added.push(`${keyOf(event.object)}${event.isInitialList ? ' (listed)' : ''}`);
  });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  try {
    await informer.waitForSync();
    expect(added.sort()).toEqual([`${namespace}/a (listed)`, `${namespace}/b (listed)`, `${namespace}/c (listed)`]);
    await client.create(CONFIG_MAP, { metadata: { name: 'd', namespace } } as KubeObject);
    await eventually(() => expect(added).toContain(`${namespace}/d`), { waitingFor: 'the watch event of d' });
    return {
      sent: sent.filter((line) => line.includes('/configmaps') && !line.startsWith('POST')),
      names: informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    };
  } finally {
    stop.abort();
    await running;
  }
}

let withoutWatchList: ControlPlane;

beforeAll(async () => {
  withoutWatchList = await startControlPlane({ featureGates: { WatchList: false } });
});

afterAll(async () => {
  await withoutWatchList.stop();
});

test('where the API server streams lists, the informer lists through its watch and sends no LIST', async () => {
  const namespace = await testNamespace('streamed-list');
  const { sent, names } = await listAndWatch(clusterAccess(), namespace);
  expect(names).toEqual(['a', 'b', 'c', 'd']);
  expect(sent).toEqual([`GET /api/v1/namespaces/${namespace}/configmaps watch sendInitialEvents`]);
});

test('where the API server refuses sendInitialEvents, the informer lists in pages, then watches', async () => {
  const access = await loadKubeconfigFiles([withoutWatchList.kubeconfigPath]);
  const namespace = uniqueName('paged-list');
  await clientOver(createKubeTransport(access)).create(
    { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
    { metadata: { name: namespace } } as KubeObject,
  );
  const { sent, names } = await listAndWatch(access, namespace);
  expect(names).toEqual(['a', 'b', 'c', 'd']);
  expect(sent).toEqual([
    `GET /api/v1/namespaces/${namespace}/configmaps watch sendInitialEvents`,
    `GET /api/v1/namespaces/${namespace}/configmaps`,
    `GET /api/v1/namespaces/${namespace}/configmaps watch`,
  ]);
});
