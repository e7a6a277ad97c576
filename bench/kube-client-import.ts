/**
 * What the Kubernetes client costs just by being loaded: fresh Node processes that import it and make what the
 * operator needs of it, then report RSS and V8 heap after a forced GC, and how long the import took.
 * Variants (each `--runs` times, default 5; medians reported):
 *   - `bare`: Node with its TypeScript type stripping loaded (every variant imports one small .ts module first, so
 *     the differences are the client's own);
 *   - `client-node`: @kubernetes/client-node 2.0.1's `KubeConfig` (the module imports the barrel of every
 *     generated API group), what the operator used before issue #23;
 *   - `own-client`: the operator's own kubeconfig loading, credentials and transport (framework/kubeconfig.ts,
 *     client.ts) with a client built over an inline kubeconfig.
 * Figures only; nothing passes or fails.
 *
 *   node bench/kube-client-import.ts [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { emit, progress } from './lib/report.ts';
import { round } from './lib/stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, full: { type: 'boolean' } } });
const runs = Number(values.runs);
const framework = (file: string) => fileURLToPath(new URL(`../operator/framework/${file}`, import.meta.url));

const LOAD: Record<string, string> = {
  bare: '',
  'client-node': `
    const { KubeConfig } = await import('@kubernetes/client-node');
    new KubeConfig().loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });`,
  'own-client': `
    const { clusterAccessFromKubeconfig } = await import(${JSON.stringify(framework('kubeconfig.ts'))});
    const { createKubeClient } = await import(${JSON.stringify(framework('client.ts'))});
    createKubeClient(clusterAccessFromKubeconfig([{ path: '/k/config', content: {
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    } }]));`,
};

const CHILD = (load: string) => `
await import(${JSON.stringify(fileURLToPath(new URL('./lib/stats.ts', import.meta.url)))});
const started = performance.now();
${load}
const importMs = performance.now() - started;
for (let i = 0; i < 3; i++) globalThis.gc();
const memory = process.memoryUsage();
process.stdout.write(JSON.stringify({ rss: memory.rss, heapUsed: memory.heapUsed, importMs }));
`;

const MIB = 1024 * 1024;
const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? NaN;
const figures: Record<string, { rssMiB: number; heapUsedMiB: number; importMs: number }> = {};
for (const [variant, load] of Object.entries(LOAD)) {
  const samples: { rss: number; heapUsed: number; importMs: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD(load)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    if (child.status !== 0) throw new Error(`${variant} failed: ${child.stderr}`);
    samples.push(JSON.parse(child.stdout) as { rss: number; heapUsed: number; importMs: number });
  }
  figures[variant] = {
    rssMiB: round(median(samples.map((sample) => sample.rss)) / MIB, 1),
    heapUsedMiB: round(median(samples.map((sample) => sample.heapUsed)) / MIB, 1),
    importMs: Math.round(median(samples.map((sample) => sample.importMs))),
  };
  progress(`${variant}: ${JSON.stringify(figures[variant])}`);
}
const over = (variant: string, field: 'rssMiB' | 'heapUsedMiB') =>
  round((figures[variant]?.[field] ?? NaN) - (figures.bare?.[field] ?? NaN), 1);
emit(
  {
    benchmark: 'kube-client-import',
    runs,
    node: process.version,
    figures,
    clientNodeOverBareMiB: over('client-node', 'rssMiB'),
    ownClientOverBareMiB: over('own-client', 'rssMiB'),
  },
  Object.fromEntries(
    Object.entries(figures).map(([variant, f]) => [
      variant,
      `RSS ${f.rssMiB} MiB (+${over(variant, 'rssMiB')}), heap ${f.heapUsedMiB} MiB, import ${f.importMs} ms`,
    ]),
  ),
);
