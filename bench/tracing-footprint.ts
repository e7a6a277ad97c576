/**
 * What logging and tracing cost in memory: fresh Node processes, each loading what the operator binary loads
 * for observability, then `startTracing` as main.ts calls it, and reporting RSS and V8 heap after a forced GC.
 * Variants (each `--runs` times, default 5; medians reported):
 *   - `bare`: Node with @opentelemetry/api and prom-client's registry only (what the operator loads anyway);
 *   - `logger`: plus the pino logger (operator/observability/logger.ts);
 *   - `tracing-off`: plus tracing.ts and `startTracing` with no OTEL_* variables: what the operator pays for
 *     tracing when nobody traces, which should be ~0 over `logger`;
 *   - `tracing-on-http-protobuf`, `tracing-on-grpc`: the SDK started with an OTLP endpoint (nothing listens; a
 *     reconcile-shaped span is made and flushed once so exporters are built and used).
 * Figures only; nothing passes or fails.
 *
 *   node bench/tracing-footprint.ts [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { emit, progress } from './lib/report.ts';
import { round } from './lib/stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, full: { type: 'boolean' } } });
const runs = Number(values.runs);
const observability = (file: string) => fileURLToPath(new URL(`../operator/observability/${file}`, import.meta.url));

const CHILD = (variant: string) => `
const { trace } = await import('@opentelemetry/api');
await import(${JSON.stringify(observability('metrics.ts'))});
if (${JSON.stringify(variant)} === 'logger') {
  const { createLogger } = await import(${JSON.stringify(observability('logger.ts'))});
  createLogger({ level: 'warn' }).info('not written');
} else if (${JSON.stringify(variant)} !== 'bare') {
  const { createLogger } = await import(${JSON.stringify(observability('logger.ts'))});
  const { startTracing, tracingDecision } = await import(${JSON.stringify(observability('tracing.ts'))});
  const log = createLogger({ level: 'warn' });
  const tracing = await startTracing(tracingDecision(process.env), log);
  await trace.getTracer('bench').startActiveSpan('bench reconcile', async (span) => {
    log.info('inside a span');
    span.end();
  });
  if (tracing.enabled) await tracing.shutdown().catch(() => undefined);
}
for (let i = 0; i < 3; i++) globalThis.gc();
const memory = process.memoryUsage();
process.stdout.write(JSON.stringify({ rss: memory.rss, heapUsed: memory.heapUsed }));
`;

const VARIANTS: Record<string, Record<string, string>> = {
  bare: {},
  logger: {},
  'tracing-off': {},
  'tracing-on-http-protobuf': {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_TIMEOUT: '200',
  },
  'tracing-on-grpc': {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_TIMEOUT: '200',
  },
};

const MIB = 1024 * 1024;
const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? NaN;
const figures: Record<string, { rssMiB: number; heapUsedMiB: number }> = {};
for (const [variant, env] of Object.entries(VARIANTS)) {
  const samples: { rss: number; heapUsed: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD(variant)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    if (child.status !== 0) throw new Error(`${variant} failed: ${child.stderr}`);
    samples.push(JSON.parse(child.stdout) as { rss: number; heapUsed: number });
  }
  figures[variant] = {
    rssMiB: round(median(samples.map((sample) => sample.rss)) / MIB, 1),
    heapUsedMiB: round(median(samples.map((sample) => sample.heapUsed)) / MIB, 1),
  };
  progress(`${variant}: ${JSON.stringify(figures[variant])}`);
}
const over = (variant: string, base: string) =>
  round((figures[variant]?.rssMiB ?? NaN) - (figures[base]?.rssMiB ?? NaN), 1);
emit(
  {
    benchmark: 'tracing-footprint',
    runs,
    figures,
    loggerOverBareMiB: over('logger', 'bare'),
    tracingOffOverLoggerMiB: over('tracing-off', 'logger'),
    tracingOnOverOffMiB: over('tracing-on-http-protobuf', 'tracing-off'),
  },
  {
    'bare (api + metrics) RSS MiB': figures.bare?.rssMiB ?? null,
    'pino logger': `${figures.logger?.rssMiB} (+${over('logger', 'bare')})`,
    'tracing off (+ tracing.ts)': `${figures['tracing-off']?.rssMiB} (+${over('tracing-off', 'logger')} over logger)`,
    'tracing on, http/protobuf': `${figures['tracing-on-http-protobuf']?.rssMiB} (+${over('tracing-on-http-protobuf', 'tracing-off')} over off)`,
    'tracing on, grpc': `${figures['tracing-on-grpc']?.rssMiB} (+${over('tracing-on-grpc', 'tracing-off')} over off)`,
  },
);
