/**
 * OpenTelemetry traces, switched on by the standard `OTEL_*` variables. Operator code uses only
 * `@opentelemetry/api`: until a provider registers, every span is a non-recording no-op that costs almost
 * nothing. When tracing is on, {@link startTracing} loads the SDK with dynamic `import()` (so the ~150 ms of
 * module loading is never paid when it is off), registers an AsyncLocalStorage context manager (so EC2 call
 * spans nest under the reconcile span that made them) and a batch span processor with the OTLP/HTTP
 * exporter, which reads its endpoint, headers and timeout from the same `OTEL_EXPORTER_OTLP_*` variables.
 *
 * Telemetry failures never reach the caller: export errors go to OpenTelemetry's global error handler,
 * which we point at the operator's logger.
 */
import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace';
import type { Logger } from './logger.ts';

/** Name of the tracer every operator span comes from, and the default `service.name`. */
export const TRACER_NAME = 'sgp-operator';

export type SamplerChoice =
  | { kind: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { kind: 'traceidratio' | 'parentbased_traceidratio'; ratio: number };

export type TracingConfig =
  | { enabled: false; reason: string }
  | { enabled: true; exporter: 'otlp' | 'console'; sampler: SamplerChoice; serviceName: string };

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Whether and how to trace, from the standard variables (a pure function of `env`):
 * - `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` → off;
 * - `OTEL_TRACES_EXPORTER=otlp|console` → on with that exporter;
 * - unset exporter → on only when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): unlike the SDK's own default we never send to localhost:4318
 *   just because nothing was said.
 * `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` choose the sampler (default parentbased_always_on).
 * Throws TypeError naming the variable for values we cannot honour.
 */
export function tracingConfig(env: Environment): TracingConfig {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  }
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  const hasEndpoint = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(),
  );
  if (exporter === 'none') return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  if (exporter === '' && !hasEndpoint) {
    return { enabled: false, reason: 'neither OTEL_TRACES_EXPORTER nor an OTLP endpoint is set' };
  }
  if (exporter !== '' && exporter !== 'otlp' && exporter !== 'console') {
    throw new TypeError(`OTEL_TRACES_EXPORTER=${exporter} is not supported; use otlp, console or none`);
  }
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json').trim();
  if (exporter !== 'console' && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw new TypeError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; the operator sends OTLP over HTTP`);
  }
  return {
    enabled: true,
    exporter: exporter === 'console' ? 'console' : 'otlp',
    sampler: samplerFrom(env),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || TRACER_NAME,
  };
}

function samplerFrom(env: Environment): SamplerChoice {
  const kind = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  switch (kind) {
    case 'always_on':
    case 'always_off':
    case 'parentbased_always_on':
    case 'parentbased_always_off':
      return { kind };
    case 'traceidratio':
    case 'parentbased_traceidratio': {
      const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim() ?? '1';
      const ratio = Number(raw);
      if (raw === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
        throw new TypeError(`OTEL_TRACES_SAMPLER_ARG=${raw} is not a ratio; use a number between 0 and 1`);
      }
      return { kind, ratio };
    }
    default:
      throw new TypeError(
        `OTEL_TRACES_SAMPLER=${kind} is not supported; use always_on, always_off, traceidratio or their parentbased_ forms`,
      );
  }
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes buffered spans and stops exporting; safe to call twice, never throws. */
  shutdown(): Promise<void>;
}

/** Registers the SDK when `config` says so; otherwise spans stay no-ops. */
export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing> {
  if (!config.enabled) {
    log.debug('tracing off', { reason: config.reason });
    return { enabled: false, shutdown: async () => undefined };
  }
  const [sdk, resources, semconv, hooks] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  diag.setLogger(
    {
      error: (message, ...args) => log.warn('tracing error', { detail: [message, ...args].map(String).join(' ') }),
      warn: (message, ...args) => log.warn('tracing warning', { detail: [message, ...args].map(String).join(' ') }),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const exporter =
    config.exporter === 'console'
      ? new sdk.ConsoleSpanExporter()
      : new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  const resource = resources
    .defaultResource()
    .merge(resources.detectResources({ detectors: [resources.envDetector, resources.processDetector] }))
    .merge(resources.resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: config.serviceName }));
  const provider = new sdk.TracerProvider({
    resource,
    sampler: buildSampler(sdk, config.sampler),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  log.info('tracing on', { exporter: config.exporter, sampler: config.sampler.kind, service: config.serviceName });

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => {
      stopped ??= provider.shutdown().then(
        () => {
          trace.disable();
          context.disable();
        },
        (error: unknown) => log.warn('tracing shutdown failed', { error }),
      );
      return stopped;
    },
  };
}

type SdkModule = typeof import('@opentelemetry/sdk-trace');

function buildSampler(sdk: SdkModule, choice: SamplerChoice): Sampler {
  switch (choice.kind) {
    case 'always_on':
      return new sdk.AlwaysOnSampler();
    case 'always_off':
      return new sdk.AlwaysOffSampler();
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'traceidratio':
      return new sdk.TraceIdRatioBasedSampler(choice.ratio);
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(choice.ratio) });
    default: {
      const unreachable: never = choice;
      return unreachable;
    }
  }
}
