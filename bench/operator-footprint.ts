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
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import type { KubeObject } from '../operator/framework/index.ts';
import { operatorBinary, REPO_ROOT, startOperatorProcess } from './lib/operator-process.ts';
import { emit, progress } from './lib/report.ts';
import { imageNodeFlags } from './lib/runtime-flags.ts';
import { mapBounded, round } from './lib/stats.ts';
import { startWorld } from './lib/world.ts';

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
const MAIN = operatorBinary(REPO_ROOT, { source: values.source });

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
    const baselineMain = operatorBinary(baselineDir, { source: values.source });
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
    const operator = await startOperatorProcess(world, {
      main,
      nodeFlags: flags,
      ...(snapshotDir ? { snapshotDir } : {}),
    });
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, operator.sample().rssBytes);
    }, 250);
    try {
      const readyMs = await operator.waitReady(600_000);
      const atReady = operator.sample();
      progress(`ready after ${Math.round(readyMs)} ms; idle for ${idleForMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, idleForMs));
      const atEnd = operator.sample();
      // Writing a heap snapshot takes memory of its own: not the operator's footprint.
      clearInterval(sampler);
      const heap = await operator.heap();
      if (snapshotDir) progress(`heap snapshot: ${await operator.writeHeapSnapshot()}`);
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
      await operator.stop();
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

function plainPod(namespace: string, name: string, nodeName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: `app-${name.length % 7}`, 'pod-template-hash': '5d8f7c9b6' } },
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  } as KubeObject;
}
