/**
 * Footprint: the operator binary (compiled as the image ships it, dist/operator/main.js, in a child process so
 * RSS and CPU are its own; `--source` runs operator/main.ts with type stripping as `make run` does) started
 * against a kube-apiserver that already holds many Nodes and Pods, measured while it lists them into its
 * caches and then while idle. The objects are created through the API with bounded concurrency; nodes do
 * not opt in to trunking (no `vpc.amazonaws.com/has-trunk-attached` label: its presence, whatever the value,
 * opts in) and pods do not ask for a branch ENI, so no EC2 work is involved (the operator still creates a
 * CNINode per node, as in production).
 *
 * Figures: time until /readyz answers 200 (caches synced), RSS peak and at the end, CPU seconds used until
 * ready, CPU % while idle over `--idle-seconds` (default 20) after ready.
 *
 * Before/after in one run: `--baseline DIR` names another checkout of the operator (e.g. `git archive main
 * operator hack/ec2-emulator package.json tsconfig.json tsconfig.build.json | tar -x -C DIR`, with
 * DIR/node_modules linked to ours). Both
 * builds then run against the same objects, alternating `--rounds` times (baseline first), after one unmeasured
 * warm-up run of this tree that creates the CNINodes — so every measured run is a restart over an existing
 * cluster, and load from other work on the machine falls on both builds alike. The figures are then this
 * tree's median run, plus the baseline's median and the ratios this/baseline.
 *
 *   node bench/operator-footprint.ts [--nodes 500] [--pods 5000] [--idle-seconds 20] [--full]
 *                                    [--node-options='--max-semi-space-size=2'] [--heap-snapshot-dir DIR]
 *                                    [--baseline DIR [--rounds 2] [--baseline-node-options=…]] [--source]
 *   (default 500 nodes / 5,000 pods; --full: 5,000 nodes / 50,000 pods; --node-options: V8/Node flags for
 *   the operator process instead of the ones the image's ENTRYPOINT sets, '' for none; the baseline gets the
 *   same unless --baseline-node-options says otherwise; --heap-snapshot-dir writes the operator's heap snapshot
 *   after the idle period there, for Chrome DevTools' Memory tab)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePorts } from '../hack/control-plane/control-plane.ts';
import { Kinds } from '../operator/api/kinds.ts';
import type { KubeObject } from '../operator/framework/index.ts';
import { emit, progress } from './lib/report.ts';
import { imageNodeFlags } from './lib/runtime-flags.ts';
import { mapBounded, round } from './lib/stats.ts';
import { REGION, startWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    pods: { type: 'string' },
    'idle-seconds': { type: 'string', default: '20' },
    'node-options': { type: 'string' },
    'heap-snapshot-dir': { type: 'string' },
    baseline: { type: 'string' },
    'baseline-node-options': { type: 'string' },
    rounds: { type: 'string', default: '1' },
    source: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes ?? (values.full ? 5000 : 500));
const pods = Number(values.pods ?? (values.full ? 50_000 : 5_000));
const idleMs = Number(values['idle-seconds']) * 1000;
const heapSnapshotDir = values['heap-snapshot-dir'];
const splitFlags = (flags: string) => flags.split(' ').filter(Boolean);
// Default: the flags the image runs with (its ENTRYPOINT).
const nodeOptions = values['node-options'] === undefined ? imageNodeFlags() : splitFlags(values['node-options']);
const baselineDir = values.baseline === undefined ? undefined : resolve(values.baseline);
const baselineNodeOptions =
  values['baseline-node-options'] === undefined ? nodeOptions : splitFlags(values['baseline-node-options']);
const rounds = Number(values.rounds);
const NAMESPACES = 20;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

/**
 * The operator binary of the checkout at `root`: operator/main.ts itself with --source, else compiled as the
 * Dockerfile does (tsconfig.build.json, the limits table copied beside the compiled module) into
 * `root/.bench-results/dist`, from where package.json and node_modules resolve as in the image.
 */
function operatorBinary(root: string): string {
  if (values.source) return join(root, 'operator', 'main.ts');
  const outDir = join(root, '.bench-results', 'dist');
  progress(`compiling ${root} into ${outDir}`);
  execFileSync(TSC, ['-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  copyFileSync(
    join(root, 'operator', 'limits', 'instance-types.json'),
    join(outDir, 'operator', 'limits', 'instance-types.json'),
  );
  return join(outDir, 'operator', 'main.js');
}
const MAIN = operatorBinary(ROOT);
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

/** One build's figures from one run. */
interface RunFigures {
  readySeconds: number;
  rssMiB: { peak: number; atReady: number; afterIdle: number };
  heapMiB: { total: number; used: number; external: number };
  cpuSecondsUntilReady: number;
  idleCpuPercent: number;
}

const world = await startWorld({ throttling: false, latency: false });
try {
  progress(`creating ${nodes} nodes and ${pods} pods`);
  const nodeNames = await world.addNodes(nodes, { concurrency: 64, prefix: 'idle', optIn: false });
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
  progress('objects created');
  const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
  const describe = (figures: RunFigures) => ({
    'ready after': `${figures.readySeconds} s (CPU ${figures.cpuSecondsUntilReady} s)`,
    'RSS peak / after idle': `${figures.rssMiB.peak} / ${figures.rssMiB.afterIdle} MiB (target ≤ 250 MB at full scale)`,
    'V8 heap after idle': `${figures.heapMiB.used} used of ${figures.heapMiB.total} MiB; external ${figures.heapMiB.external} MiB`,
    'idle CPU': `${figures.idleCpuPercent} % of one core`,
  });
  const common = {
    benchmark: 'operator-footprint',
    nodes,
    pods,
    binary: values.source ? 'operator/main.ts (type stripping)' : 'compiled (dist/operator/main.js)',
    nodeOptions,
    idleSeconds: idleMs / 1000,
    targets: { rssMiBAtMostAt5000Nodes50000Pods: 250 },
  };
  if (baselineDir === undefined) {
    const figures = await measure(MAIN, nodeOptions, heapSnapshotDir);
    emit(
      { ...common, ...figures },
      {
        objects: `${nodes} nodes, ${pods} pods; ${common.binary}`,
        'node options': nodeOptions.join(' ') || '(none)',
        ...describe(figures),
      },
    );
  } else {
    const baselineMain = operatorBinary(baselineDir);
    progress('warm-up run of this tree (creates the CNINodes; not measured)');
    await measure(MAIN, nodeOptions, undefined, 0);
    const current: RunFigures[] = [];
    const baseline: RunFigures[] = [];
    for (let round = 1; round <= rounds; round++) {
      progress(`round ${round}/${rounds}: baseline ${baselineDir}`);
      baseline.push(await measure(baselineMain, baselineNodeOptions, undefined));
      progress(`round ${round}/${rounds}: this tree`);
      current.push(await measure(MAIN, nodeOptions, round === rounds ? heapSnapshotDir : undefined));
    }
    const mine = medianRun(current);
    const theirs = medianRun(baseline);
    const ratio = (a: number, b: number) => (b === 0 ? null : round(a / b, 3));
    const ratios = {
      rssPeak: ratio(mine.rssMiB.peak, theirs.rssMiB.peak),
      rssAfterIdle: ratio(mine.rssMiB.afterIdle, theirs.rssMiB.afterIdle),
      readySeconds: ratio(mine.readySeconds, theirs.readySeconds),
      cpuSecondsUntilReady: ratio(mine.cpuSecondsUntilReady, theirs.cpuSecondsUntilReady),
      heapUsed: ratio(mine.heapMiB.used, theirs.heapMiB.used),
    };
    emit(
      {
        ...common,
        ...mine,
        rounds,
        runs: current,
        baseline: { dir: baselineDir, nodeOptions: baselineNodeOptions, ...theirs, runs: baseline },
        ratios,
      },
      {
        objects: `${nodes} nodes, ${pods} pods; ${common.binary}; ${rounds} alternating round(s), medians`,
        'node options': `${nodeOptions.join(' ') || '(none)'} (baseline: ${baselineNodeOptions.join(' ') || '(none)'})`,
        ...Object.fromEntries(Object.entries(describe(mine)).map(([key, value]) => [`${key}`, value])),
        ...Object.fromEntries(Object.entries(describe(theirs)).map(([key, value]) => [`baseline ${key}`, value])),
        'ratios this/baseline': Object.entries(ratios)
          .map(([key, value]) => `${key} ${value}`)
          .join(', '),
      },
    );
  }

  /** Starts `main` as the operator binary, waits for /readyz, idles, and stops it again. */
  async function measure(
    main: string,
    flags: readonly string[],
    snapshotDir: string | undefined,
    idleForMs = idleMs,
  ): Promise<RunFigures> {
    const [healthPort, metricsPort] = await freePorts(2);
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...flags,
        ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []),
        main,
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
        `127.0.0.1:${metricsPort}`,
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
      progress(`ready after ${Math.round(readyMs)} ms; idle for ${idleForMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, idleForMs));
      const atEnd = sample(pid);
      // Writing a heap snapshot takes memory of its own: not the operator's footprint.
      clearInterval(sampler);
      const heap = await heapFigures(`http://127.0.0.1:${metricsPort}/metrics`);
      if (snapshotDir) await writeHeapSnapshot(child, snapshotDir, `http://127.0.0.1:${healthPort}/readyz`);
      const figures: RunFigures = {
        readySeconds: round(readyMs / 1000),
        rssMiB: {
          peak: mib(Math.max(peakRss, atEnd.rssBytes)),
          atReady: mib(atReady.rssBytes),
          afterIdle: mib(atEnd.rssBytes),
        },
        // After the idle period, from the operator's own process metrics: what of the RSS is V8's heap.
        heapMiB: { total: mib(heap.totalBytes), used: mib(heap.usedBytes), external: mib(heap.externalBytes) },
        cpuSecondsUntilReady: round(atReady.cpuSeconds),
        idleCpuPercent:
          idleForMs > 0 ? round(((atEnd.cpuSeconds - atReady.cpuSeconds) / (idleForMs / 1000)) * 100, 1) : 0,
      };
      progress(`  ${JSON.stringify(figures)}`);
      return figures;
    } finally {
      clearInterval(sampler);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
} finally {
  await world.stop();
}

/** The run with the median peak RSS (an actual run, so its figures belong together). */
function medianRun(runs: readonly RunFigures[]): RunFigures {
  const sorted = [...runs].sort((a, b) => a.rssMiB.peak - b.rssMiB.peak);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('no runs');
  return median;
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
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  } as KubeObject;
}
