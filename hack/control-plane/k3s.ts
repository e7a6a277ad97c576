/**
 * TEST_CLUSTER=k3s: a real single-node cluster in a container through @testcontainers/k3s, for machines with
 * a Docker engine. The package is not a dependency of this project (no machine we run on has Docker), so this
 * path probes for an engine first and refuses in one line, fast, when none answers; it never waits on a
 * socket that is not there.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';

import { ControlPlaneError } from './errors.ts';
import type { ControlPlane } from './control-plane.ts';

const K3S_IMAGE = 'rancher/k3s:v1.36.2-k3s1';

function dockerSocket(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) return undefined;
  return existsSync('/var/run/docker.sock') ? '/var/run/docker.sock' : undefined;
}

/** GET /_ping on the engine's unix socket, 2 s at most. */
function dockerAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startK3s(env: NodeJS.ProcessEnv): Promise<ControlPlane> {
  if (env.TEST_CLUSTER !== 'k3s') {
    throw new ControlPlaneError(
      `TEST_CLUSTER=${env.TEST_CLUSTER} is not known; use k3s, or unset it for the local kube-apiserver + etcd`,
    );
  }
  const socket = dockerSocket(env);
  if (!socket || !(await dockerAnswers(socket))) {
    throw new ControlPlaneError(
      `TEST_CLUSTER=k3s needs a Docker engine and none answers (${socket ?? env.DOCKER_HOST ?? 'no /var/run/docker.sock'}); unset TEST_CLUSTER to use the local kube-apiserver + etcd`,
    );
  }
  const moduleName = '@testcontainers/k3s';
  let k3s: { K3sContainer: new (image: string) => { start(): Promise<StartedK3s> } };
  try {
    k3s = (await import(moduleName)) as typeof k3s;
  } catch (error) {
    throw new ControlPlaneError(
      `TEST_CLUSTER=k3s needs ${moduleName}: npm install --save-dev --save-exact ${moduleName}`,
      { cause: error },
    );
  }
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const container = await new k3s.K3sContainer(K3S_IMAGE).start();
  const dir = await mkdtemp(join(tmpdir(), 'sgp-k3s-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const yaml = container.getKubeConfig();
  await writeFile(kubeconfigPath, yaml, { mode: 0o600 });
  const server = /server:\s*(\S+)/.exec(yaml)?.[1] ?? '';
  const unsupported = () => Promise.reject(new ControlPlaneError('restarting the apiserver is not possible with k3s'));
  return {
    kubeconfigPath,
    server,
    dataDir: dir,
    pids: () => undefined,
    stop: async () => {
      await container.stop();
      await rm(dir, { recursive: true, force: true });
    },
    stopApiServer: unsupported,
    startApiServer: unsupported,
  };
}

interface StartedK3s {
  getKubeConfig(): string;
  stop(): Promise<unknown>;
}
