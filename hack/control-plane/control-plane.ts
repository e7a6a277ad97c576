/**
 * A real local Kubernetes control plane for integration tests and the demo: etcd + kube-apiserver and nothing
 * else, the pair controller-runtime's envtest runs (docs/architecture.md#how-it-is-tested). No scheduler, no
 * kubelet, no controller manager: tests create Nodes and bound Pods themselves, and namespaces never finish
 * deleting.
 *
 * Binaries come from KUBEBUILDER_ASSETS, else from hack/control-plane/build.sh (builds once into a cache).
 * USE_EXISTING_CLUSTER=true with KUBECONFIG starts nothing and hands back that cluster.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse as parseYaml } from 'yaml';

import { ensureCertificates, type CertificatePaths } from './certs.ts';
import { ControlPlaneError } from './errors.ts';
import { ManagedProcess, waitUntil } from './process.ts';

export { ControlPlaneError } from './errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface ControlPlaneOptions {
  /** Folder holding `etcd` and `kube-apiserver`; default env KUBEBUILDER_ASSETS, else build.sh's cache. */
  assetsDir?: string;
  /** Persistent data dir (etcd data, certificates, logs, kubeconfig); default a fresh temp dir removed on stop. */
  dataDir?: string;
  /** Fixed ports (the demo); default free loopback ports. */
  apiServerPort?: number;
  etcdPort?: number;
  /** Environment to read KUBEBUILDER_ASSETS / USE_EXISTING_CLUSTER / KUBECONFIG / TEST_CLUSTER from. */
  env?: NodeJS.ProcessEnv;
  /** Keep the temp data dir (logs) after stop. Crashes keep it anyway. */
  keepDataDir?: boolean;
}

export interface ControlPlane {
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Data dir holding logs (etcd.log, kube-apiserver.log); undefined for an existing cluster. */
  readonly dataDir: string | undefined;
  /** Process ids, for measurements (RSS); undefined for an existing cluster. */
  pids(): { etcd: number; apiServer: number | undefined } | undefined;
  /** Stops kube-apiserver then etcd and removes the temp data dir (unless kept). Idempotent. */
  stop(): Promise<void>;
  /** Stops kube-apiserver only (etcd keeps the data), to test clients across an apiserver outage. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port and waits until it is ready. */
  startApiServer(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const env = options.env ?? process.env;
  if (env.USE_EXISTING_CLUSTER === 'true') return existingCluster(env);
  if (env.TEST_CLUSTER && env.TEST_CLUSTER !== 'local') {
    const { startK3s } = await import('./k3s.ts');
    return startK3s(env);
  }
  const assetsDir = options.assetsDir ?? (await resolveAssets(env));
  // A port picked as free can be taken before etcd binds it: retry with new ports (only when we chose them).
  const attempts = options.apiServerPort !== undefined && options.etcdPort !== undefined ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocal(assetsDir, options);
    } catch (error) {
      const portClash = error instanceof ControlPlaneError && /address already in use/.test(error.message);
      if (!portClash || attempt >= attempts) throw error;
    }
  }
}

/** KUBEBUILDER_ASSETS, else the folder build.sh prints (it builds on first use and exits 3 without Go). */
export async function resolveAssets(env: NodeJS.ProcessEnv): Promise<string> {
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets) {
    for (const binary of ['etcd', 'kube-apiserver']) {
      if (!existsSync(join(assets, binary))) {
        throw new ControlPlaneError(
          `KUBEBUILDER_ASSETS=${assets} has no ${binary}; point it at a folder holding etcd and kube-apiserver, or unset it to build them with hack/control-plane/build.sh`,
        );
      }
    }
    return assets;
  }
  return await new Promise((resolvePath, reject) => {
    execFile(join(here, 'build.sh'), { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const lines = stderr.trim().split('\n');
        const last = lines[lines.length - 1]?.replace(/^control-plane: /, '') || error.message;
        reject(new ControlPlaneError(last, { cause: error }));
        return;
      }
      resolvePath(stdout.trim().split('\n').pop() ?? '');
    });
  });
}

async function existingCluster(env: NodeJS.ProcessEnv): Promise<ControlPlane> {
  const kubeconfigPath = env.KUBECONFIG?.split(':')[0];
  if (!kubeconfigPath || !existsSync(kubeconfigPath)) {
    throw new ControlPlaneError(
      'USE_EXISTING_CLUSTER=true needs KUBECONFIG pointing at a kubeconfig file of the cluster to use',
    );
  }
  const config = parseYaml(await readFile(kubeconfigPath, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string } }[];
    clusters?: { name: string; cluster: { server: string } }[];
  };
  const context = config.contexts?.find((c) => c.name === config['current-context']) ?? config.contexts?.[0];
  const cluster = config.clusters?.find((c) => c.name === context?.context.cluster) ?? config.clusters?.[0];
  const unsupported = (what: string) => () =>
    Promise.reject(new ControlPlaneError(`${what} is not possible with USE_EXISTING_CLUSTER=true`));
  return {
    kubeconfigPath,
    server: cluster?.cluster.server ?? '',
    dataDir: undefined,
    pids: () => undefined,
    stop: () => Promise.resolve(),
    stopApiServer: unsupported('stopping the apiserver'),
    startApiServer: unsupported('starting the apiserver'),
  };
}

/** `count` distinct free loopback ports (all held open at once, so none is handed out twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolvePort, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              resolvePort(typeof address === 'object' && address ? address.port : 0);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  }
}

async function startLocal(assetsDir: string, options: ControlPlaneOptions): Promise<ControlPlane> {
  const isTempDir = options.dataDir === undefined;
  const dataDir = options.dataDir ? resolve(options.dataDir) : await mkdtemp(join(tmpdir(), 'sgp-control-plane-'));
  await mkdir(dataDir, { recursive: true });
  const [freeEtcd, peerPort, freeApiServer] = (await freePorts(3)) as [number, number, number];
  const etcdPort = options.etcdPort ?? freeEtcd;
  const apiServerPort = options.apiServerPort ?? freeApiServer;
  const server = `https://127.0.0.1:${apiServerPort}`;
  const certs = await ensureCertificates(join(dataDir, 'pki'));
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigYaml(server, certs), { mode: 0o600 });

  const etcd = new ManagedProcess({
    name: 'etcd',
    binary: join(assetsDir, 'etcd'),
    logFile: join(dataDir, 'etcd.log'),
    // etcd is stopped last, so its watchdog removes a temp data dir when the owning process died.
    ...(isTempDir && !options.keepDataDir ? { removeWhenOrphaned: dataDir } : {}),
    args: [
      `--data-dir=${join(dataDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--logger=zap',
      '--log-level=warn',
    ],
  });
  let apiServer: ManagedProcess | undefined;
  const stopAll = async () => {
    await apiServer?.stop();
    await etcd.stop();
  };

  const startApiServer = async () => {
    if (apiServer?.isRunning) return;
    apiServer = new ManagedProcess({
      name: 'kube-apiserver',
      binary: join(assetsDir, 'kube-apiserver'),
      logFile: join(dataDir, 'kube-apiserver.log'),
      args: apiServerArgs({ apiServerPort, etcdPort, certs }),
    });
    await waitUntil('kube-apiserver /readyz', () => get(`${server}/readyz`, certs).then((r) => r.status === 200), {
      timeoutMs: START_TIMEOUT_MS,
      processes: [etcd, apiServer],
    });
    // /readyz can pass a moment before the admin user's requests do (RBAC bootstrap); envtest waits the same way.
    await waitUntil(
      'the default namespace to be readable',
      () => get(`${server}/api/v1/namespaces/default`, certs).then((r) => r.status === 200),
      { timeoutMs: START_TIMEOUT_MS, processes: [etcd, apiServer] },
    );
  };

  try {
    await waitUntil(
      'etcd /health',
      () => getHttp(`http://127.0.0.1:${etcdPort}/health`).then((r) => r.status === 200),
      { timeoutMs: START_TIMEOUT_MS, processes: [etcd] },
    );
    await startApiServer();
  } catch (error) {
    await stopAll();
    const portClash = error instanceof ControlPlaneError && /address already in use/.test(error.message);
    if (portClash && isTempDir) await rm(dataDir, { recursive: true, force: true });
    throw error instanceof ControlPlaneError
      ? new ControlPlaneError(`${error.message} (data dir kept: ${dataDir})`, { cause: error })
      : error;
  }

  let stopped: Promise<void> | undefined;
  return {
    kubeconfigPath,
    server,
    dataDir,
    pids: () => ({ etcd: etcd.pid, apiServer: apiServer?.isRunning ? apiServer.pid : undefined }),
    stop: () => {
      stopped ??= (async () => {
        const crashed = [etcd, apiServer].some((p) => p && !p.isRunning && !p.wasStopped);
        await stopAll();
        if (isTempDir && !options.keepDataDir && !crashed) await rm(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
    stopApiServer: async () => {
      await apiServer?.stop();
    },
    startApiServer,
  };
}

function apiServerArgs(p: { apiServerPort: number; etcdPort: number; certs: CertificatePaths }): string[] {
  const { certs } = p;
  return [
    `--etcd-servers=http://127.0.0.1:${p.etcdPort}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${p.apiServerPort}`,
    // Without these two, a loopback bind makes the apiserver look up the default-route interface (fatal on a
    // host without one) and publish a loopback Endpoints address for default/kubernetes (rejected every 10 s).
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    `--service-account-issuer=https://127.0.0.1:${p.apiServerPort}/`,
    `--service-account-key-file=${certs.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // Nothing creates each namespace's default ServiceAccount without the controller manager.
    '--disable-admission-plugins=ServiceAccount',
    '--profiling=false',
    '--v=1',
  ];
}

function kubeconfigYaml(server: string, certs: CertificatePaths): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: sgp-local',
    '    cluster:',
    `      server: ${server}`,
    `      certificate-authority: ${certs.caCert}`,
    'users:',
    '  - name: admin',
    '    user:',
    `      client-certificate: ${certs.adminCert}`,
    `      client-key: ${certs.adminKey}`,
    'contexts:',
    '  - name: sgp-local',
    '    context:',
    '      cluster: sgp-local',
    '      user: admin',
    'current-context: sgp-local',
    '',
  ].join('\n');
}

interface Response {
  status: number;
  body: string;
}

async function get(url: string, certs: CertificatePaths): Promise<Response> {
  const [ca, cert, key] = await Promise.all([
    readFile(certs.caCert),
    readFile(certs.adminCert),
    readFile(certs.adminKey),
  ]);
  return await new Promise((resolveResponse, reject) => {
    const req = httpsRequest(url, { ca, cert, key, timeout: 5_000 }, (res) => collect(res, resolveResponse));
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

function getHttp(url: string): Promise<Response> {
  return new Promise((resolveResponse, reject) => {
    const req = httpRequest(url, { timeout: 5_000 }, (res) => collect(res, resolveResponse));
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

function collect(res: import('node:http').IncomingMessage, done: (r: Response) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (body += chunk));
  res.on('end', () => done({ status: res.statusCode ?? 0, body }));
}
