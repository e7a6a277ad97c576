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
 *   (default 500 nodes / 5,000 pods; --full: 5,000 nodes / 50,000 pods)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePorts } from '../hack/control-plane/control-plane.ts';
import { Kinds } from '../operator/api/kinds.ts';
import type { KubeObject } from '../operator/framework/index.ts';
import { emit, progress } from './lib/report.ts';
import { mapBounded, round } from './lib/stats.ts';
import { REGION, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    pods: { type: 'string' },
    'idle-seconds': { type: 'string', default: '20' },
    full: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes ?? (values.full ? 5000 : 500));
const pods = Number(values.pods ?? (values.full ? 50_000 : 5_000));
const idleMs = Number(values['idle-seconds']) * 1000;
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
  for (const name of namespaces)
    await world.client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await mapBounded(
    Array.from({ length: pods }, (_, i) => i),
    64,
    (i) =>
      world.client.create(
        Kinds.Pod,
        plainPod(namespaces[i % NAMESPACES] ?? '', `pod-${i}`, nodeNames[i % nodes] ?? ''),
      ),
  );
  progress('objects created; starting the operator binary');
  const [healthPort] = await freePorts(1);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--kubeconfig',
      world.plane.kubeconfigPath,
      '--cluster-name',
      'bench',
      '--region',
      REGION,
      '--vpc-id',
      world.vpcId,
      '--ec2-endpoint',
      world.emulator.endpoint,
      '--enable-webhooks=false',
      '--metrics-bind-address',
      '0',
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
  const pid = child.pid ?? 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, sample(pid).rssBytes);
  }, 250);
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null) throw new Error(`operator exited with ${child.exitCode} before it was ready`);
      if (performance.now() - started > 600_000) throw new Error('operator not ready after 10 min');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const readyMs = performance.now() - started;
    const atReady = sample(pid);
    progress(`ready after ${Math.round(readyMs)} ms; idle for ${idleMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const atEnd = sample(pid);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
    const result = {
      benchmark: 'operator-footprint',
      nodes,
      pods,
      readySeconds: round(readyMs / 1000),
      rssMiB: {
        peak: mib(Math.max(peakRss, atEnd.rssBytes)),
        atReady: mib(atReady.rssBytes),
        afterIdle: mib(atEnd.rssBytes),
      },
      cpuSecondsUntilReady: round(atReady.cpuSeconds),
      idleCpuPercent: round(((atEnd.cpuSeconds - atReady.cpuSeconds) / (idleMs / 1000)) * 100, 1),
      idleSeconds: idleMs / 1000,
      targets: { rssMiBAtMostAt5000Nodes50000Pods: 250 },
    };
    emit(result, {
      objects: `${nodes} nodes, ${pods} pods`,
      'ready after': `${result.readySeconds} s (CPU ${result.cpuSecondsUntilReady} s)`,
      'RSS peak / after idle': `${result.rssMiB.peak} / ${result.rssMiB.afterIdle} MiB (target ≤ 250 MB at full scale)`,
      'idle CPU': `${result.idleCpuPercent} % of one core`,
    });
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
} finally {
  await world.stop();
}

function plainPod(namespace: string, name: string, nodeName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: `app-${name.length % 7}`, 'pod-template-hash': '5d8f7c9b6' } },
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  } as KubeObject;
}
