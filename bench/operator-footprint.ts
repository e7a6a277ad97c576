/**
 * Footprint: the operator binary (operator/main.ts as a child process, so RSS and CPU are its own) started
 * against a kube-apiserver that already holds many Nodes and Pods, measured while it lists them into its
 * caches and then while idle. The objects are created through the API with bounded concurrency; nodes do
 * not opt in to trunking and pods do not ask for a branch ENI, so no EC2 work is involved (the operator
 * still creates a CNINode per node, as in production).
 *
 * Figures: time until /readyz answers 200 (caches synced, leader elected), RSS peak and at the end, CPU
 * seconds used until ready, CPU % while idle over `--idle-seconds` (default 20) after ready.
 *
 *   node bench/operator-footprint.ts [--nodes 500] [--pods 5000] [--idle-seconds 20] [--full]
 *                                    [--node-options='--max-semi-space-size=2'] [--heap-snapshot-dir DIR]
 *                                    [--controller sgp-operator|eks --eks-controller-bin PATH]
 *   (default 500 nodes / 5,000 pods; --full: 5,000 nodes / 50,000 pods; --node-options: V8/Node flags for
 *   the operator process, e.g. GC sizing; --heap-snapshot-dir writes the operator's heap snapshot after the
 *   idle period there, for Chrome DevTools' Memory tab)
 *
 * With `--controller eks`, EKS's VPC resource controller binary is measured the same way (its own defaults;
 * it has no readiness endpoint, so `readySeconds` is its health endpoint's first 200). The figure both share is
 * `cniNodesSeconds`: start → a CNINode exists for every Node (both controllers create one per node once they
 * have listed the cluster), with `cpuSecondsUntilCniNodes`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePorts } from '../hack/control-plane/control-plane.ts';
import { Kinds } from '../operator/api/kinds.ts';
import type { KubeObject } from '../operator/framework/index.ts';
import { CONTROLLER_OPTIONS, controllerArgs } from './lib/controller.ts';
import { EKS_DEFAULTS, startEksController } from './lib/eks-controller.ts';
import { CLUSTER } from './lib/operator.ts';
import { emit, progress } from './lib/report.ts';
import { mapBounded, round } from './lib/stats.ts';
import { REGION, createDefaultServiceAccount, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    pods: { type: 'string' },
    'idle-seconds': { type: 'string', default: '20' },
    'node-options': { type: 'string', default: '' },
    'heap-snapshot-dir': { type: 'string' },
    full: { type: 'boolean', default: false },
    ...CONTROLLER_OPTIONS,
  },
});
const which = controllerArgs(values);
const nodes = Number(values.nodes ?? (values.full ? 5000 : 500));
const pods = Number(values.pods ?? (values.full ? 50_000 : 5_000));
const idleMs = Number(values['idle-seconds']) * 1000;
const heapSnapshotDir = values['heap-snapshot-dir'];
const nodeOptions = values['node-options'].split(' ').filter(Boolean);
const NAMESPACES = 20;
const MAIN = fileURLToPath(new URL('../operator/main.ts', import.meta.url));
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function sample(pid: number): { rssBytes: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return { rssBytes: rssKiB * 1024, cpuSeconds: ticks / TICKS_PER_SECOND };
}

const world = await startWorld({ throttling: false, latency: false });
try {
  progress(`creating ${nodes} nodes and ${pods} pods`);
  const nodeNames = await world.addNodes(nodes, { concurrency: 64, prefix: 'idle' });
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `app-${i}`);
  for (const name of namespaces) {
    await world.client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await createDefaultServiceAccount(world.client, name);
  }
  await mapBounded(
    Array.from({ length: pods }, (_, i) => i),
    64,
    (i) =>
      world.client.create(
        Kinds.Pod,
        plainPod(namespaces[i % NAMESPACES] ?? '', `pod-${i}`, nodeNames[i % nodes] ?? ''),
      ),
  );
  progress(`objects created; starting ${which.controller}`);
  const [healthPort, metricsPort] = await freePorts(2);
  const started = performance.now();
  const subject = which.controller === 'eks' ? await startEks() : startSgpOperator(healthPort ?? 0, metricsPort ?? 0);
  const { pid } = subject;
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, sample(pid).rssBytes);
  }, 250);
  try {
    for (;;) {
      if (await subject.isReady()) break;
      if (subject.exitCode() !== null)
        throw new Error(`operator exited with ${subject.exitCode()} before it was ready`);
      if (performance.now() - started > 600_000) throw new Error('operator not ready after 10 min');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const readyMs = performance.now() - started;
    const atReady = sample(pid);
    progress(`ready after ${Math.round(readyMs)} ms; waiting for a CNINode per Node`);
    for (;;) {
      const cniNodes = await world.client.list(Kinds.CNINode);
      if (cniNodes.length >= nodes) break;
      if (performance.now() - started > 600_000) throw new Error(`${cniNodes.length}/${nodes} CNINodes after 10 min`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const cniNodesMs = performance.now() - started;
    const atCniNodes = sample(pid);
    progress(`CNINodes after ${Math.round(cniNodesMs)} ms; idle for ${idleMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const atEnd = sample(pid);
    const heap = subject.child === undefined ? undefined : await heapFigures(`http://127.0.0.1:${metricsPort}/metrics`);
    if (heapSnapshotDir && subject.child)
      await writeHeapSnapshot(subject.child, heapSnapshotDir, `http://127.0.0.1:${healthPort}/readyz`);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
    const result = {
      benchmark: 'operator-footprint',
      controller: which.controller,
      controllerSettings: subject.settings,
      nodes,
      pods,
      nodeOptions,
      readySeconds: round(readyMs / 1000),
      cniNodesSeconds: round(cniNodesMs / 1000),
      cpuSecondsUntilCniNodes: round(atCniNodes.cpuSeconds),
      rssMiB: {
        peak: mib(Math.max(peakRss, atEnd.rssBytes)),
        atReady: mib(atReady.rssBytes),
        afterIdle: mib(atEnd.rssBytes),
      },
      // After the idle period, from the operator's own process metrics: what of the RSS is V8's heap.
      heapMiB: heap
        ? { total: mib(heap.totalBytes), used: mib(heap.usedBytes), external: mib(heap.externalBytes) }
        : null,
      cpuSecondsUntilReady: round(atReady.cpuSeconds),
      idleCpuPercent: round(((atEnd.cpuSeconds - atReady.cpuSeconds) / (idleMs / 1000)) * 100, 1),
      idleSeconds: idleMs / 1000,
      targets: { rssMiBAtMostAt5000Nodes50000Pods: 250 },
    };
    emit(result, {
      controller: which.controller,
      objects: `${nodes} nodes, ${pods} pods`,
      'node options': nodeOptions.join(' ') || '(none)',
      'ready after': `${result.readySeconds} s (CPU ${result.cpuSecondsUntilReady} s)`,
      'RSS peak / after idle': `${result.rssMiB.peak} / ${result.rssMiB.afterIdle} MiB (target ≤ 250 MB at full scale)`,
      'CNINode per Node after': `${result.cniNodesSeconds} s (CPU ${result.cpuSecondsUntilCniNodes} s)`,
      'V8 heap after idle': result.heapMiB
        ? `${result.heapMiB.used} used of ${result.heapMiB.total} MiB; external ${result.heapMiB.external} MiB`
        : '— (Go process)',
      'idle CPU': `${result.idleCpuPercent} % of one core`,
    });
  } finally {
    clearInterval(sampler);
    await subject.stop();
  }
} finally {
  await world.stop();
}

interface Subject {
  pid: number;
  settings: string;
  /** sgp-operator's process (for heap figures and snapshots); undefined for EKS's controller. */
  child?: ChildProcess;
  isReady(): Promise<boolean>;
  exitCode(): number | null;
  stop(): Promise<void>;
}

function startSgpOperator(healthPort: number, metricsPort: number): Subject {
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      ...(heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapSnapshotDir}`] : []),
      MAIN,
      '--kubeconfig',
      world.plane.kubeconfigPath,
      '--cluster-name',
      CLUSTER,
      '--region',
      REGION,
      '--vpc-id',
      world.vpcId,
      '--ec2-endpoint',
      world.emulator.endpoint,
      '--enable-webhooks=false',
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      // Plain HTTP: the heap figures are read from /metrics without a token.
      '--metrics-secure=false',
      '--health-probe-bind-address',
      `127.0.0.1:${healthPort}`,
      '--log-level',
      'error',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    },
  );
  return {
    pid: child.pid ?? 0,
    settings: `operator/main.ts, option defaults${nodeOptions.length ? `, node ${nodeOptions.join(' ')}` : ''}`,
    child,
    isReady: () =>
      fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    exitCode: () => child.exitCode,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function startEks(): Promise<Subject> {
  const running = await startEksController(world, { binary: which.eksControllerBin ?? '', cluster: CLUSTER });
  return {
    pid: running.pid,
    settings: EKS_DEFAULTS,
    isReady: () => Promise.resolve(true),
    exitCode: () => running.process.exitCode,
    stop: () => running.stop(),
  };
}

/** V8 heap figures from the operator's /metrics (prom-client's default process metrics). */
async function heapFigures(url: string): Promise<{ totalBytes: number; usedBytes: number; externalBytes: number }> {
  const text = await (await fetch(url)).text();
  const value = (name: string) => Number(new RegExp(`^nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    totalBytes: value('heap_size_total_bytes'),
    usedBytes: value('heap_size_used_bytes'),
    externalBytes: value('external_memory_bytes'),
  };
}

/**
 * Signals the child to write a heap snapshot and waits until it is complete: Node writes it synchronously on
 * the main thread, so once the file exists, the next /readyz answer means the write has finished.
 */
async function writeHeapSnapshot(child: ChildProcess, dir: string, readyzUrl: string): Promise<void> {
  const snapshots = async () => (await readdir(dir)).filter((name) => name.endsWith('.heapsnapshot'));
  const before = new Set(await snapshots());
  child.kill('SIGUSR2');
  for (;;) {
    const written = (await snapshots()).find((name) => !before.has(name));
    if (written) {
      await fetch(readyzUrl);
      return progress(`heap snapshot: ${dir}/${written}`);
    }
    if (child.exitCode !== null)
      throw new Error(`operator exited with ${child.exitCode} while writing a heap snapshot`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function plainPod(namespace: string, name: string, nodeName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: `app-${name.length % 7}`, 'pod-template-hash': '5d8f7c9b6' } },
    spec: {
      nodeName,
      serviceAccountName: 'default',
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
    },
  } as KubeObject;
}
