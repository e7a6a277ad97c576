/**
 * sgp-operator side by side with EKS's own VPC resource controller (hack/eks-controller/build.sh), on the same
 * world, in one run: every workload runs once per controller per round, alternating (sgp-operator, then EKS),
 * each in its own child process with a fresh kube-apiserver + etcd and a fresh EC2 emulator (AWS's buckets and
 * latencies on). Both controllers run with their own default settings; the benchmark JSON says which.
 *
 * Every figure is reported as median [min–max] over the rounds, and as a ratio sgp-operator ÷ EKS taken within
 * each round (the two runs of a round are minutes apart, so they share the machine's load), again median
 * [min–max]. Whether lower or higher is better is part of each figure's name.
 *
 *   node bench/side-by-side.ts --eks-controller-bin PATH [--rounds 3] [--only cold-burst-200]... [--full]
 *   make bench BENCH_ARGS='--with-anchor'       (builds the controller first, then runs this)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONTROLLERS, type ControllerName } from './lib/controller.ts';
import { parseFigures } from './lib/report.ts';

interface Figure {
  label: string;
  /** Dotted path into the benchmark's JSON. */
  path: string;
  better: 'lower' | 'higher';
}

interface Workload {
  name: string;
  script: string;
  args: string[];
  figures: Figure[];
}

const COLD_BURST_FIGURES: Figure[] = [
  { label: 'seconds until all annotated', path: 'secondsUntilAllAnnotated', better: 'lower' },
  { label: 'pods/s', path: 'podsPerSecond', better: 'higher' },
  { label: 'latency p50 ms', path: 'latency.p50Ms', better: 'lower' },
  { label: 'latency p95 ms', path: 'latency.p95Ms', better: 'lower' },
  { label: 'mutating EC2 calls per pod', path: 'ec2.mutatingCallsPerPod', better: 'lower' },
  { label: 'throttled EC2 responses', path: 'ec2.throttledResponses', better: 'lower' },
  { label: 'achieved / EC2 ceiling', path: 'ceiling.ratio', better: 'higher' },
];
const CHURN_FIGURES: Figure[] = [
  { label: 'replaced pods/s', path: 'replacedPodsPerSecond', better: 'higher' },
  { label: 'new-pod latency p95 ms', path: 'newPodLatency.p95Ms', better: 'lower' },
  { label: 'mutating EC2 calls per replaced pod', path: 'ec2.mutatingCallsPerReplacedPod', better: 'lower' },
  { label: 'throttled EC2 responses', path: 'ec2.throttledResponses', better: 'lower' },
  { label: 'seconds until old ENIs deleted', path: 'secondsUntilOldEnisReleased', better: 'lower' },
];
const RESTART_FIGURES: Figure[] = [
  { label: 'new pod served after restart, s', path: 'newPodServedSeconds', better: 'lower' },
  { label: 'EC2 calls in the first 60 s', path: 'ec2CallsInWindow', better: 'lower' },
  { label: 'EC2 calls until the new pod served', path: 'ec2CallsUntilServed', better: 'lower' },
];
const FOOTPRINT_FIGURES: Figure[] = [
  { label: 'RSS peak MiB', path: 'rssMiB.peak', better: 'lower' },
  { label: 'RSS after idle MiB', path: 'rssMiB.afterIdle', better: 'lower' },
  { label: 'CNINode for every Node after s', path: 'cniNodesSeconds', better: 'lower' },
  { label: 'CPU s until then', path: 'cpuSecondsUntilCniNodes', better: 'lower' },
  { label: 'idle CPU % of a core', path: 'idleCpuPercent', better: 'lower' },
];

const REDUCED: Workload[] = [
  { name: 'cold-burst-200', script: 'operator-cold-burst.ts', args: ['--pods', '200'], figures: COLD_BURST_FIGURES },
  {
    name: 'churn-100',
    script: 'operator-churn.ts',
    args: ['--pods', '100', '--window', '25', '--cooldown-seconds', '30'],
    figures: CHURN_FIGURES,
  },
  { name: 'restart-100-nodes', script: 'operator-restart.ts', args: [], figures: RESTART_FIGURES },
  { name: 'footprint-500-nodes', script: 'operator-footprint.ts', args: [], figures: FOOTPRINT_FIGURES },
];
const FULL: Workload[] = [
  { name: 'cold-burst-1000', script: 'operator-cold-burst.ts', args: ['--full'], figures: COLD_BURST_FIGURES },
  {
    name: 'churn-500',
    script: 'operator-churn.ts',
    args: ['--full', '--window', '25', '--cooldown-seconds', '30'],
    figures: CHURN_FIGURES,
  },
  { name: 'restart-1000-nodes', script: 'operator-restart.ts', args: ['--full'], figures: RESTART_FIGURES },
  { name: 'footprint-5000-nodes', script: 'operator-footprint.ts', args: ['--full'], figures: FOOTPRINT_FIGURES },
];

const { values } = parseArgs({
  options: {
    'eks-controller-bin': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', multiple: true },
    full: { type: 'boolean', default: false },
    'timeout-minutes': { type: 'string' },
  },
});
const HERE = dirname(fileURLToPath(import.meta.url));
const eksBin = values['eks-controller-bin'];
if (!eksBin) {
  process.stderr.write('bench/side-by-side.ts: --eks-controller-bin PATH is required (hack/eks-controller/build.sh)\n');
  process.exit(2);
}
const catalogue = values.full ? FULL : REDUCED;
const only = values.only ?? [];
const unknown = only.filter((name) => ![...REDUCED, ...FULL].some((w) => w.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench/side-by-side.ts: unknown workload ${unknown.join(', ')}; known: ${[...REDUCED, ...FULL].map((w) => w.name).join(', ')}\n`,
  );
  process.exit(2);
}
const workloads = only.length === 0 ? catalogue : [...REDUCED, ...FULL].filter((w) => only.includes(w.name));
const rounds = Number(values.rounds);
const timeoutMs = Number(values['timeout-minutes'] ?? (values.full ? 90 : 15)) * 60_000;

interface Run {
  controller: ControllerName;
  round: number;
  seconds: number;
  result: Record<string, unknown> | null;
  error?: string;
}

function runOnce(workload: Workload, controller: ControllerName, round: number): Promise<Run> {
  const args = [...workload.args, '--controller', controller, '--eks-controller-bin', eksBin ?? ''];
  process.stderr.write(
    `\n=== ${workload.name} · ${controller} · round ${round} (${workload.script} ${args.join(' ')})\n`,
  );
  const started = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a timeout ends the benchmark and whatever it started (apiserver, etcd, controller).
    const child = spawn(process.execPath, [join(HERE, workload.script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
      env: process.env,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stderr.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = parseFigures(stdout) as Record<string, unknown> | undefined;
      const error = timedOut
        ? `stopped after ${timeoutMs / 60_000} min`
        : code !== 0
          ? `exited with ${code}`
          : result === undefined
            ? 'printed no JSON figures'
            : undefined;
      resolve({
        controller,
        round,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        result: result ?? null,
        ...(error ? { error } : {}),
      });
    });
  });
}

function valueAt(result: Record<string, unknown> | null, path: string): number | undefined {
  let value: unknown = result;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === 'number' ? value : undefined;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};
const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
const spread = (xs: number[]): string =>
  xs.length === 0
    ? '—'
    : xs.length === 1
      ? fmt(xs[0] ?? NaN)
      : `${fmt(median(xs))} [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}]`;

interface FigureRow {
  workload: string;
  figure: string;
  better: Figure['better'];
  sgpOperator: number[];
  eks: number[];
  /** sgp-operator ÷ EKS per round (rounds where both produced the figure and EKS's is not 0). */
  ratios: number[];
}

const runs: Record<string, Run[]> = {};
for (const workload of workloads) {
  const list: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const controller of CONTROLLERS) list.push(await runOnce(workload, controller, round));
  }
  runs[workload.name] = list;
}

const rows: FigureRow[] = workloads.flatMap((workload) =>
  workload.figures.map((figure) => {
    const of = (controller: ControllerName) =>
      (runs[workload.name] ?? [])
        .filter((run) => run.controller === controller)
        .map((run) => ({ round: run.round, value: valueAt(run.result, figure.path) }));
    const sgp = of('sgp-operator');
    const eks = of('eks');
    const ratios = sgp.flatMap(({ round, value }) => {
      const other = eks.find((e) => e.round === round)?.value;
      return value === undefined || other === undefined || other === 0 ? [] : [value / other];
    });
    const values = (xs: { value: number | undefined }[]) =>
      xs.flatMap(({ value }) => (value === undefined ? [] : [value]));
    return {
      workload: workload.name,
      figure: `${figure.label} (${figure.better} is better)`,
      better: figure.better,
      sgpOperator: values(sgp),
      eks: values(eks),
      ratios,
    };
  }),
);

const now = new Date();
const report = {
  date: now.toISOString(),
  scale: values.full ? 'full' : 'reduced',
  rounds,
  machine: {
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage1mAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  },
  controllers: Object.fromEntries(
    CONTROLLERS.map((controller) => [
      controller,
      Object.values(runs)
        .flat()
        .find((run) => run.controller === controller && run.result)?.result?.controllerSettings ?? null,
    ]),
  ),
  ratio: 'sgp-operator ÷ EKS controller, per round (both runs of a round are back to back)',
  figures: rows,
  runs,
};
const dir = join(HERE, '..', '.bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${now.toISOString().slice(0, 10)}-side-by-side${values.full ? '-full' : ''}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');

process.stdout.write(JSON.stringify(report) + '\n\n');
const header = ['workload', 'figure', 'sgp-operator', 'EKS controller', 'ratio (sgp ÷ EKS)'];
const table = rows.map((row) => [
  row.workload,
  row.figure,
  spread(row.sgpOperator),
  spread(row.eks),
  spread(row.ratios),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((cells) => cells[i]?.length ?? 0)));
const line = (cells: string[]) => '| ' + cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
process.stdout.write(
  [
    `side by side (${report.scale} scale, ${rounds} round(s); median [min–max]); figures in ${file}`,
    ...CONTROLLERS.map((c) => `  ${c}: ${String(report.controllers[c])}`),
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.map(line),
    '',
  ].join('\n'),
);
const failures = Object.entries(runs).flatMap(([name, list]) =>
  list.filter((run) => run.error).map((run) => `${name} · ${run.controller} · round ${run.round}: ${run.error}`),
);
if (failures.length > 0) process.stdout.write(['failed runs:', ...failures.map((f) => `  ${f}`), ''].join('\n'));
process.exit(failures.length > 0 ? 1 : 0);
