/**
 * OpenTelemetry traces through the official Node SDK (`@opentelemetry/sdk-node`), configured by the
 * standard `OTEL_*` variables: exporter and protocol (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_PROTOCOL`
 * = http/protobuf, http/json or grpc), endpoint, headers, timeout, compression and certificates
 * (`OTEL_EXPORTER_OTLP_*`), sampler (`OTEL_TRACES_SAMPLER[_ARG]`), resource (`OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_NODE_RESOURCE_DETECTORS`), propagators, batch processor (`OTEL_BSP_*`)
 * and span limits. The SDK reads them; the operator decides only whether to start it (docs/observability.md).
 *
 * Operator code uses only `@opentelemetry/api`: until the SDK registers, every span is a non-recording no-op
 * that costs almost nothing, and the SDK with its exporters is loaded with dynamic `import()` only when
 * tracing is on, so a replica that does not trace never pays for it in memory or start-up time.
 *
 * Telemetry failures never reach the caller: the SDK's diagnostics (export errors, bad settings it ignores)
 * go to the operator's logger as warnings.
 */
import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { buildInfo } from './build-info.ts';
import type { Logger } from './logger.ts';

/** Name of the tracer every operator span comes from, and the `service.name` unless OTEL_SERVICE_NAME says otherwise. */
export const TRACER_NAME = 'sgp-operator';

export type TracingDecision =
  { enabled: false; reason: string } | { enabled: true; exporters: string; protocol: string; diagLevel: DiagLogLevel };

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Whether to start the SDK at all (a pure function of `env`):
 * - `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` → off;
 * - `OTEL_TRACES_EXPORTER` set → on (the SDK builds those exporters and warns about names it does not know);
 * - unset exporter → on only when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): unlike the SDK's own default we never send to localhost:4318
 *   just because nothing was said.
 */
export function tracingDecision(env: Environment): TracingDecision {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  }
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  const hasEndpoint = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(),
  );
  if (exporters.length === 0 && !hasEndpoint) {
    return { enabled: false, reason: 'neither OTEL_TRACES_EXPORTER nor an OTLP endpoint is set' };
  }
  return {
    enabled: true,
    exporters: exporters.length === 0 ? 'otlp' : exporters.join(','),
    protocol: (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim(),
    diagLevel: diagLevelFrom(env.OTEL_LOG_LEVEL),
  };
}

/** OTEL_LOG_LEVEL (none, error, warn, info, debug, verbose, all) for the SDK's own diagnostics; default warn. */
function diagLevelFrom(value: string | undefined): DiagLogLevel {
  const level = DiagLogLevel[(value ?? '').trim().toUpperCase() as keyof typeof DiagLogLevel];
  return typeof level === 'number' ? level : DiagLogLevel.WARN;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes buffered spans and stops exporting; safe to call twice, never throws. */
  shutdown(): Promise<void>;
}

/** Starts the SDK when `decision` says so; otherwise spans stay no-ops and nothing is loaded. */
export async function startTracing(decision: TracingDecision, log: Logger): Promise<Tracing> {
  if (!decision.enabled) {
    log.debug('tracing off', { reason: decision.reason });
    return { enabled: false, shutdown: async () => undefined };
  }
  const [{ NodeSDK }, resources] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
  ]);
  const sdk = new NodeSDK({
    // service.name and service.version unless OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES say otherwise:
    // the resource detectors (env among them) are merged over this.
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.name': TRACER_NAME, 'service.version': buildInfo().version })),
    // Traces only: metrics are Prometheus' (/metrics) and logs are stderr's.
    metricReaders: [],
    logRecordProcessors: [],
  });
  // After the constructor, which points diag at the console when OTEL_LOG_LEVEL is set.
  diag.setLogger(diagLogger(log), { logLevel: decision.diagLevel, suppressOverrideMessage: true });
  sdk.start();
  log.info('tracing on', { exporters: decision.exporters, protocol: decision.protocol });

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => {
      stopped ??= sdk.shutdown().then(
        () => {
          // Back to the API's no-ops, as before start (a test may start tracing again in the same process).
          trace.disable();
          context.disable();
          propagation.disable();
          diag.disable();
        },
        (error: unknown) => log.warn('tracing shutdown failed', { error }),
      );
      return stopped;
    },
  };
}

function diagLogger(log: Logger): DiagLogger {
  const detail = (message: string, args: unknown[]) => [message, ...args].map(String).join(' ');
  return {
    error: (message, ...args) => log.warn('tracing error', { detail: detail(message, args) }),
    warn: (message, ...args) => log.warn('tracing warning', { detail: detail(message, args) }),
    info: (message, ...args) => log.debug('tracing', { detail: detail(message, args) }),
    debug: (message, ...args) => log.debug('tracing', { detail: detail(message, args) }),
    verbose: (message, ...args) => log.debug('tracing', { detail: detail(message, args) }),
  };
}
