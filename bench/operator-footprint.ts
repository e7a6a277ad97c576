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
 *                                    [--controller sgp-operator|eks --eks-controller-bin PATH]
 *   (default 500 nodes / 5,000 pods; --full: 5,000 nodes / 50,000 pods; --node-options: V8/Node flags for
 *   the operator process instead of the ones the image's ENTRYPOINT sets, '' for none; the baseline gets the
 *   same unless --baseline-node-options says otherwise; --heap-snapshot-dir writes the operator's heap snapshot
 *   after the idle period there, for Chrome DevTools' Memory tab)
 *
 * With `--controller eks`, EKS's VPC resource controller binary is measured the same way (its own defaults;
 * it has no readiness endpoint, so `readySeconds` is its health endpoint's first 200; no --baseline). The
 * figure both share is `cniNodesSeconds`: start → a CNINode exists for every Node (both controllers create one
 * per node once they have listed the cluster), with `cpuSecondsUntilCniNodes`; after --baseline's warm-up run
 * the CNINodes exist already, so there it is only the time until the operator has confirmed them.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kinds } from '../operator/api/kinds.ts';
import type { KubeObject } from '../operator/framework/index.ts';
import { CONTROLLER_OPTIONS, controllerArgs } from './lib/controller.ts';
import { EKS_DEFAULTS, startEksController } from './lib/eks-controller.ts';
import { operatorBinary, REPO_ROOT, sampleProcess, startOperatorProcess } from './lib/operator-process.ts';
import { emit, progress } from './lib/report.ts';
import { imageNodeFlags } from './lib/runtime-flags.ts';
import { mapBounded, round } from './lib/stats.ts';
import { CLUSTER } from './lib/operator.ts';
import { createDefaultServiceAccount, startWorld } from './lib/world.ts';

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
    ...CONTROLLER_OPTIONS,
  },
});
const which = controllerArgs(values);
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
if (which.controller === 'eks' && values.baseline !== undefined) {
  throw new Error('--baseline compares two checkouts of sgp-operator; it does not combine with --controller eks');
}
const MAIN = which.controller === 'eks' ? '' : operatorBinary(REPO_ROOT, { source: values.source });

/** One build's figures from one run. */
interface RunFigures {
  readySeconds: number;
  cniNodesSeconds: number;
  cpuSecondsUntilCniNodes: number;
  rssMiB: { peak: number; atReady: number; afterIdle: number };
  /** null for EKS's controller (a Go process). */
  heapMiB: { total: number; used: number; external: number } | null;
  cpuSecondsUntilReady: number;
  idleCpuPercent: number;
}

const world = await startWorld({ throttling: false, latency: false });
try {
  progress(`creating ${nodes} nodes and ${pods} pods`);
  const nodeNames = await world.addNodes(nodes, { concurrency: 64, prefix: 'idle', optIn: false });
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
  progress('objects created');
  const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
  const describe = (figures: RunFigures) => ({
    'ready after': `${figures.readySeconds} s (CPU ${figures.cpuSecondsUntilReady} s)`,
    'RSS peak / after idle': `${figures.rssMiB.peak} / ${figures.rssMiB.afterIdle} MiB (target ≤ 250 MB at full scale)`,
    'CNINode per Node after': `${figures.cniNodesSeconds} s (CPU ${figures.cpuSecondsUntilCniNodes} s)`,
    'V8 heap after idle': figures.heapMiB
      ? `${figures.heapMiB.used} used of ${figures.heapMiB.total} MiB; external ${figures.heapMiB.external} MiB`
      : '— (Go process)',
    'idle CPU': `${figures.idleCpuPercent} % of one core`,
  });
  const common = {
    benchmark: 'operator-footprint',
    controller: which.controller,
    controllerSettings:
      which.controller === 'eks'
        ? EKS_DEFAULTS
        : `${values.source ? 'operator/main.ts' : 'compiled'}, option defaults${nodeOptions.length ? `, node ${nodeOptions.join(' ')}` : ''}`,
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
        controller: which.controller,
        objects: `${nodes} nodes, ${pods} pods; ${which.controller === 'eks' ? 'EKS controller' : common.binary}`,
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
      heapUsed: mine.heapMiB && theirs.heapMiB ? ratio(mine.heapMiB.used, theirs.heapMiB.used) : null,
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

  /**
   * Starts `main` as the operator binary (or EKS's controller), waits for it to be ready and for a CNINode per
   * Node, idles, and stops it again.
   */
  async function measure(
    main: string,
    flags: readonly string[],
    snapshotDir: string | undefined,
    idleForMs = idleMs,
  ): Promise<RunFigures> {
    const subject = await startSubject(main, flags, snapshotDir);
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, subject.sample().rssBytes);
    }, 250);
    try {
      const readyMs = await subject.waitReady(600_000);
      const atReady = subject.sample();
      progress(`ready after ${Math.round(readyMs)} ms; waiting for a CNINode per Node`);
      for (;;) {
        const cniNodes = await world.client.list(Kinds.CNINode);
        if (cniNodes.length >= nodes) break;
        if (performance.now() - subject.startedAt > 600_000) {
          throw new Error(`${cniNodes.length}/${nodes} CNINodes after 10 min`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const cniNodesMs = performance.now() - subject.startedAt;
      const atCniNodes = subject.sample();
      progress(`CNINodes after ${Math.round(cniNodesMs)} ms; idle for ${idleForMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, idleForMs));
      const atEnd = subject.sample();
      // Writing a heap snapshot takes memory of its own: not the operator's footprint.
      clearInterval(sampler);
      const heap = await subject.heap();
      if (snapshotDir) progress(`heap snapshot: ${await subject.writeHeapSnapshot()}`);
      const figures: RunFigures = {
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
        idleCpuPercent:
          idleForMs > 0 ? round(((atEnd.cpuSeconds - atReady.cpuSeconds) / (idleForMs / 1000)) * 100, 1) : 0,
      };
      progress(`  ${JSON.stringify(figures)}`);
      return figures;
    } finally {
      clearInterval(sampler);
      await subject.stop();
    }
  }

  /** The process under test, sgp-operator's or EKS's, behind the calls `measure` makes. */
  async function startSubject(main: string, flags: readonly string[], snapshotDir: string | undefined) {
    const startedAt = performance.now();
    if (which.controller === 'eks') {
      const running = await startEksController(world, { binary: which.eksControllerBin ?? '', cluster: CLUSTER });
      return {
        startedAt,
        sample: () => sampleProcess(running.pid),
        waitReady: () => Promise.resolve(running.readyAfterMs),
        heap: () => Promise.resolve(undefined),
        writeHeapSnapshot: () => Promise.reject(new Error('EKS controller: no heap snapshots (a Go process)')),
        stop: () => running.stop(),
      };
    }
    const operator = await startOperatorProcess(world, {
      main,
      nodeFlags: flags,
      ...(snapshotDir ? { snapshotDir } : {}),
    });
    return { startedAt, ...operator, sample: () => operator.sample(), heap: () => operator.heap() };
  }
} finally {
  await world.stop();
}

/**
 * The run with the median peak RSS (an actual run, so its figures belong together); of an even number of runs,
 * the higher of the two middle ones.
 */
function medianRun(runs: readonly RunFigures[]): RunFigures {
  const sorted = [...runs].sort((a, b) => a.rssMiB.peak - b.rssMiB.peak);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error('no runs');
  return median;
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
