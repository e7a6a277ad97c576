/**
 * startControlPlane for tests that need their own apiserver: restart it (clients across an outage) and stop
 * it without leaving a process behind. Skipped against an existing cluster, which has no processes of ours.
 */
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

import { startControlPlane, type ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { eventually, uniqueName } from '../harness/index.ts';

const isLocal = process.env.USE_EXISTING_CLUSTER !== 'true';
/** Start-up takes seconds, more on a loaded machine (the control plane waits up to 60 s per step). */
const START_TIMEOUT_MS = 150_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

(isLocal ? describe : describe.skip)('a private control plane', () => {
  let plane: ControlPlane;
  let core: CoreV1Api;

  beforeAll(async () => {
    plane = await startControlPlane();
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await plane?.stop();
  }, START_TIMEOUT_MS);

  test(
    'data survives an apiserver restart, and requests fail while it is down',
    async () => {
      const name = uniqueName('survivor');
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { k: 'v' } } });

      await plane.stopApiServer();
      expect(plane.pids()?.apiServer).toBeUndefined();
      const whileDown = await core.readNamespacedConfigMap({ namespace: 'default', name }).then(
        () => 'answered',
        (error: unknown) => (error as { cause?: { code?: string } }).cause?.code ?? String(error),
      );
      expect(whileDown).toBe('ECONNREFUSED');

      await plane.startApiServer();
      const read = await eventually(() => core.readNamespacedConfigMap({ namespace: 'default', name }), {
        waitingFor: 'the ConfigMap after the restart',
      });
      expect(read.data).toEqual({ k: 'v' });
    },
    START_TIMEOUT_MS,
  );

  test(
    'stop ends etcd and kube-apiserver and removes the temporary data dir',
    async () => {
      const pids = plane.pids();
      const dataDir = plane.dataDir;
      expect(pids?.apiServer).toBeDefined();
      await plane.stop();
      expect([isAlive(pids?.etcd ?? 0), isAlive(pids?.apiServer ?? 0)]).toEqual([false, false]);
      expect(existsSync(dataDir ?? '')).toBe(false);
    },
    START_TIMEOUT_MS,
  );
});
