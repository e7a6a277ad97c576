/**
 * Runs every benchmark, one after another, each in its own child process (so one's heap and caches do not
 * skew the next), at a reduced default scale (about 10 minutes on 2 cores, plus the soak's ~12); `--full`
 * for the issue's scale. Collects each one's JSON figures, prints them combined, writes them to .bench-results/<date>.json
 * (merged with earlier runs of the same day, per benchmark), and ends with a short table.
 * Figures only: nothing here passes or fails on time. Exit status is non-zero only if a benchmark crashed.
 *
 *   node bench/run.ts [--full] [--only <name>]...      (make bench BENCH_ARGS='--only operator-cold-burst')
 *   node bench/run.ts --with-anchor [--rounds 3] [--full] [--only <workload>]...
 *                                   side by side with EKS's own controller (bench/side-by-side.ts)
 *
 * Each benchmark is also a script you can run alone: node bench/<name>.ts [--full].
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseFigures } from './lib/report.ts';

interface Benchmark {
  name: string;
  /** What it measures, for the table. */
  about: string;
  reduced: string[];
  full: string[];
  /** Its own bound when --timeout-minutes is not given, for one that runs longer by design. */
  timeoutMinutes?: { reduced: number; full: number };
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'framework', about: 'no-op reconciles/s; heap per cached pod', reduced: [], full: [] },
  { name: 'ec2-emulator', about: 'emulator calls/s; memory of a large state', reduced: [], full: ['--full'] },
  {
    name: 'ec2-throughput',
    about: 'rate limiter: sustained CreateNetworkInterface vs refill',
    reduced: [],
    full: ['--duration-seconds', '60'],
  },
  { name: 'operator-cold-burst', about: 'N pods at once: pods/s, latency, EC2 ceiling', reduced: [], full: ['--full'] },
  { name: 'operator-churn', about: 'rolling replacement: EC2 calls per pod, pods/s', reduced: [], full: ['--full'] },
  { name: 'operator-restart', about: 'restart: first pod served, EC2 calls', reduced: [], full: ['--full'] },
  { name: 'operator-footprint', about: 'RSS and CPU with many objects cached', reduced: [], full: ['--full'] },
  {
    name: 'kube-client-import',
    about: 'RSS of loading @kubernetes/client-node vs our own client',
    reduced: [],
    full: ['--runs', '11'],
  },
  { name: 'tracing-footprint', about: 'RSS of pino and of tracing off / on', reduced: [], full: ['--runs', '11'] },
  {
    name: 'operator-soak',
    about: 'pod/node create-delete cycles: growth after warm-up, leftovers per gone object',
    reduced: [],
    full: ['--full'],
    // 2,000 cycles (20,000 with --full) at 3 per second, the pace EC2's buckets sustain with headroom.
    timeoutMinutes: { reduced: 25, full: 180 },
  },
];

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'timeout-minutes': { type: 'string' },
    'with-anchor': { type: 'boolean', default: false },
    rounds: { type: 'string' },
  },
});
const HERE = dirname(fileURLToPath(import.meta.url));

if (values['with-anchor']) {
  // Side by side with EKS's own controller (bench/side-by-side.ts), built first from its Go module into the cache.
  const build = spawnSync(join(HERE, '..', 'hack', 'eks-controller', 'build.sh'), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const binary = build.stdout.toString().trim();
  if (build.status !== 0 || binary === '') {
    process.stderr.write(
      `bench/run.ts: could not build EKS's controller (hack/eks-controller/build.sh exited ${build.status})\n`,
    );
    process.exit(build.status === 3 ? 3 : 1);
  }
  const sideBySide = spawnSync(
    process.execPath,
    [
      join(HERE, 'side-by-side.ts'),
      '--eks-controller-bin',
      binary,
      ...(values.full ? ['--full'] : []),
      ...(values.rounds ? ['--rounds', values.rounds] : []),
      ...(values['timeout-minutes'] ? ['--timeout-minutes', values['timeout-minutes']] : []),
      ...(values.only ?? []).flatMap((name) => ['--only', name]),
    ],
    { stdio: 'inherit' },
  );
  process.exit(sideBySide.status ?? 1);
}
const only = values.only ?? [];
const unknown = only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench/run.ts: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => only.length === 0 || only.includes(b.name));
const timeoutMinutesFor = (benchmark: Benchmark) =>
  Number(
    values['timeout-minutes'] ??
      (values.full ? (benchmark.timeoutMinutes?.full ?? 90) : (benchmark.timeoutMinutes?.reduced ?? 8)),
  );

interface Outcome {
  name: string;
  args: string[];
  seconds: number;
  exitCode: number | null;
  result: unknown;
  error?: string;
}

function runOne(benchmark: Benchmark): Promise<Outcome> {
  const args = values.full ? benchmark.full : benchmark.reduced;
  const script = join(HERE, `${benchmark.name}.ts`);
  process.stderr.write(`\n=== ${benchmark.name} ${args.join(' ')}\n`);
  const started = performance.now();
  const timeoutMs = timeoutMinutesFor(benchmark) * 60_000;
  return new Promise((resolve) => {
    // Its own process group, so a timeout ends the benchmark and whatever it started (apiserver, etcd).
    const child = spawn(process.execPath, [script, ...args], {
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
      const result = parseFigures(stdout);
      resolve({
        name: benchmark.name,
        args,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        exitCode: code,
        result: result ?? null,
        ...(timedOut
          ? { error: `stopped after ${timeoutMs / 60_000} min` }
          : code !== 0
            ? { error: `exited with ${code}` }
            : result === undefined
              ? { error: 'printed no JSON figures' }
              : {}),
      });
    });
  });
}

const outcomes: Outcome[] = [];
for (const benchmark of selected) outcomes.push(await runOne(benchmark));

const now = new Date();
const report = {
  date: now.toISOString(),
  scale: values.full ? 'full' : 'reduced',
  machine: {
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  },
  benchmarks: Object.fromEntries(outcomes.map(({ name, ...rest }) => [name, rest])),
};
const dir = join(HERE, '..', '.bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${now.toISOString().slice(0, 10)}.json`);
// Keep the day's other benchmarks (a `--only` run replaces just its own entries).
const earlier = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as { benchmarks?: Record<string, unknown> })
  : {};
writeFileSync(
  file,
  JSON.stringify({ ...report, benchmarks: { ...earlier.benchmarks, ...report.benchmarks } }, null, 2) + '\n',
);

process.stdout.write(JSON.stringify(report, null, 2) + '\n\n');
const rows = outcomes.map((o) => {
  const about = BENCHMARKS.find((b) => b.name === o.name)?.about ?? '';
  return `  ${o.name.padEnd(20)} ${(o.error ?? 'ok').padEnd(24)} ${`${o.seconds} s`.padStart(8)}  ${about}`;
});
process.stdout.write([`benchmarks (${report.scale} scale), figures in ${file}:`, ...rows, ''].join('\n') + '\n');
process.exit(outcomes.some((o) => o.error !== undefined) ? 1 : 0);
