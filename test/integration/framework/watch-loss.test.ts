/**
 * Watch loss on a private control plane: the informer talks to kube-apiserver through a TCP proxy the
 * test can cut. While the informer is cut off, objects are deleted, changed and created, and the
 * apiserver itself is restarted (its watch cache starts empty, so resuming from the old resourceVersion
 * is answered with 410 Gone and the informer must relist). The cache must converge and the deletes must
 * be delivered as delete events.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { startControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { createKubeClient, createManager, keyOf, loadKubeconfigFiles } from '../../../operator/framework/index.ts';
import type { FrameworkManager, KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { informerRelistsTotal } from '../../../operator/observability/metrics.ts';

const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
type ConfigMap = KubeObject & { data?: Record<string, string> };

/** A loopback TCP proxy that can drop every connection and refuse new ones until restored. */
function tcpProxy(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let isCut = false;
  const server: Server = createServer((client) => {
    if (isCut) return client.destroy();
    const target = connect(targetPort, '127.0.0.1');
    for (const s of [client, target]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A reset on one side (the apiserver stopping, the test cutting) closes the other side too.
      s.on('error', () => undefined);
      s.on('close', () => (s === client ? target : client).destroy());
    }
    client.pipe(target).pipe(client);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        port,
        cut() {
          isCut = true;
          for (const s of sockets) s.destroy();
        },
        restore() {
          isCut = false;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

let plane: ControlPlane;
let proxy: Awaited<ReturnType<typeof tcpProxy>>;
let manager: FrameworkManager | undefined;
const stop = new AbortController();
let running: Promise<void> | undefined;
/** Deletes the test's own namespace (it stays Terminating here: no kube-controller-manager to empty it). */
let deleteNamespace: (() => Promise<void>) | undefined;

beforeAll(async () => {
  plane = await startControlPlane();
  proxy = await tcpProxy(Number(new URL(plane.server).port));
}, 120_000);

afterAll(async () => {
  stop.abort();
  await running;
  await deleteNamespace?.();
  await proxy?.close();
  await plane?.stop();
}, 60_000);

test('after a watch outage and an apiserver restart the cache converges and missed deletes are delivered', async () => {
  const direct = await loadKubeconfigFiles([plane.kubeconfigPath]);
  const client = createKubeClient(direct);
  const viaProxy = { ...direct, server: `https://127.0.0.1:${proxy.port}` };

  const namespace = uniqueName('watch-loss');
  await client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  deleteNamespace = () => client.delete(Kinds.Namespace, namespace);
  const label = uniqueName('watch-loss');
  const create = (name: string) =>
    client.create<ConfigMap>(CONFIG_MAP, { metadata: { name, namespace, labels: { test: label } }, data: { v: '1' } });
  await create('keep');
  await create('change');
  await create('remove');

  manager = createManager({ client: createKubeClient(viaProxy), log: silentLogger });
  const informer = manager.informer<ConfigMap>({ kind: CONFIG_MAP, namespace, labelSelector: `test=${label}` });
  const deleted: string[] = [];
  informer.onEvent((event) => {
    if (event.type === 'delete') deleted.push(keyOf(event.object));
  });
  running = manager.start(stop.signal);
  await informer.waitForSync();
  const names = () =>
    informer
      .list()
      .map((o) => o.metadata.name)
      .sort();
  expect(names()).toEqual(['change', 'keep', 'remove']);

  proxy.cut();
  await client.delete(CONFIG_MAP, `${namespace}/remove`);
  await client.mergePatch(CONFIG_MAP, `${namespace}/change`, { data: { v: '2' } });
  await create('added');
  await plane.stopApiServer();
  await plane.startApiServer();
  proxy.restore();

  await eventually(
    () => {
      expect(names()).toEqual(['added', 'change', 'keep']);
      expect(informer.get(`${namespace}/change`)?.data).toEqual({ v: '2' });
    },
    { timeoutMs: 60_000, waitingFor: 'the informer cache to converge after the outage' },
  );
  expect(deleted).toEqual([`${namespace}/remove`]);
  const relists = (await informerRelistsTotal.get()).values.find((v) => v.labels.kind === 'ConfigMap')?.value;
  // The restarted apiserver answered the resumed watch with 410 Gone, so the deletes came from a relist.
  expect(relists).toBeGreaterThanOrEqual(1);

  // And it keeps watching: a change after recovery arrives.
  await client.delete(CONFIG_MAP, `${namespace}/keep`);
  await eventually(() => expect(names()).toEqual(['added', 'change']), {
    timeoutMs: 30_000,
    waitingFor: 'a delete after recovery to reach the cache',
  });
}, 180_000);
