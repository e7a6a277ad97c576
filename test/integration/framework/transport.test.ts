/**
 * The transport keeps connections to the API server alive (a new TLS connection per request once cost the
 * operator most of its CPU under load), and opens new ones only when the TLS material changes. The test
 * reaches the run's kube-apiserver through a loopback TCP proxy that counts connections, and reads its CA
 * from a file it can rotate, as kubelet rotates a projected ca.crt; credential files are re-read once a
 * minute, which the test's fake clock makes happen at once.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CREDENTIAL_FILE_REFRESH_MS,
  FakeClock,
  createKubeClient,
  type ClusterAccess,
} from '../../../operator/framework/index.ts';
import { clusterAccess, testNamespace } from '../harness/index.ts';

const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

interface CountingProxy {
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `targetPort` that counts the connections clients open through it. */
function countingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  let opened = 0;
  const server: Server = createServer((client) => {
    opened += 1;
    const target = connect(targetPort, '127.0.0.1');
    for (const s of [client, target]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // The test closing the proxy resets both sides; that is not a failure of the test.
      s.on('error', () => undefined);
      s.on('close', () => (s === client ? target : client).destroy());
    }
    client.pipe(target).pipe(client);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        connections: () => opened,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

let proxy: CountingProxy;
let dir: string;
let caFile: string;
let caPem: string;
let proxied: ClusterAccess;
let namespace: string;

beforeAll(async () => {
  const admin = clusterAccess();
  if (admin.ca === undefined || !('file' in admin.ca))
    throw new Error('the run kubeconfig has no certificate-authority file');
  proxy = await countingProxy(Number(new URL(admin.server).port));
  dir = await mkdtemp(join(tmpdir(), 'sgp-transport-'));
  caPem = await readFile(admin.ca.file, 'utf8');
  caFile = join(dir, 'ca.crt');
  await writeFile(caFile, caPem);
  proxied = { ...admin, server: `https://127.0.0.1:${proxy.port}`, ca: { file: caFile } };
  namespace = await testNamespace('transport');
});

afterAll(async () => {
  await proxy.close();
  await rm(dir, { recursive: true, force: true });
});

const listConfigMaps = (client: ReturnType<typeof createKubeClient>): Promise<unknown> =>
  client.list(CONFIG_MAP, { namespace });

test('sequential requests share one keep-alive connection', async () => {
  const client = createKubeClient(proxied);
  const before = proxy.connections();
  for (let i = 0; i < 20; i += 1) await listConfigMaps(client);
  expect(proxy.connections() - before).toBe(1);
});

test('a rotated CA bundle gets a new connection once the file is re-read, which later requests reuse', async () => {
  const clock = new FakeClock();
  const client = createKubeClient(proxied, { clock });
  const before = proxy.connections();
  await listConfigMaps(client);
  // A bundle during CA rotation holds the old and the new CA; here the same CA twice is different TLS
  // material that still verifies the apiserver.
  await writeFile(caFile, `${caPem.trimEnd()}\n${caPem}`);
  await listConfigMaps(client);
  expect(proxy.connections() - before).toBe(1);
  clock.advance(CREDENTIAL_FILE_REFRESH_MS);
  for (let i = 0; i < 5; i += 1) await listConfigMaps(client);
  expect(proxy.connections() - before).toBe(2);
});

test('a file re-read with the same content keeps the connection', async () => {
  const clock = new FakeClock();
  const client = createKubeClient(proxied, { clock });
  await listConfigMaps(client);
  const before = proxy.connections();
  clock.advance(CREDENTIAL_FILE_REFRESH_MS);
  await listConfigMaps(client);
  expect(proxy.connections() - before).toBe(0);
});
