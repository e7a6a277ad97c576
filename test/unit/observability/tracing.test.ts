import { describe, expect, test } from '@jest/globals';
import { DiagLogLevel, trace } from '@opentelemetry/api';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { startTracing, tracingDecision } from '../../../operator/observability/tracing.ts';

describe('tracingDecision', () => {
  test.each([
    [
      'nothing set: off, never a default localhost export',
      {},
      { enabled: false, reason: 'neither OTEL_TRACES_EXPORTER nor an OTLP endpoint is set' },
    ],
    [
      'SDK disabled wins over an endpoint',
      { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      { enabled: false, reason: 'OTEL_SDK_DISABLED=true' },
    ],
    [
      'exporter none wins over an endpoint',
      { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' },
    ],
    [
      'an endpoint alone turns OTLP on, over http/protobuf as the SDK defaults',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      { enabled: true, exporters: 'otlp', protocol: 'http/protobuf', diagLevel: DiagLogLevel.WARN },
    ],
    [
      'a traces endpoint alone too, with the traces protocol over the general one',
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      },
      { enabled: true, exporters: 'otlp', protocol: 'grpc', diagLevel: DiagLogLevel.WARN },
    ],
    [
      'an exporter list without an endpoint, and OTEL_LOG_LEVEL for the SDK diagnostics',
      { OTEL_TRACES_EXPORTER: 'otlp, console', OTEL_LOG_LEVEL: 'debug' },
      { enabled: true, exporters: 'otlp,console', protocol: 'http/protobuf', diagLevel: DiagLogLevel.DEBUG },
    ],
  ])('%s', (_name, env, expected) => {
    expect(tracingDecision(env)).toEqual(expected);
  });
});

describe('startTracing', () => {
  test('off: spans stay non-recording no-ops', async () => {
    const tracing = await startTracing({ enabled: false, reason: 'test' }, silentLogger);
    const span = trace.getTracer('t').startSpan('s');
    expect([tracing.enabled, span.isRecording()]).toEqual([false, false]);
    span.end();
    await tracing.shutdown();
  });
});
