import { describe, expect, test } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { startTracing, tracingConfig } from '../../../operator/observability/tracing.ts';

describe('tracingConfig', () => {
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
      'an endpoint alone turns OTLP on',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
      { enabled: true, exporter: 'otlp', sampler: { kind: 'parentbased_always_on' }, serviceName: 'sgp-operator' },
    ],
    [
      'a traces endpoint alone too',
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' },
      { enabled: true, exporter: 'otlp', sampler: { kind: 'parentbased_always_on' }, serviceName: 'sgp-operator' },
    ],
    [
      'console exporter with a ratio sampler and a service name',
      {
        OTEL_TRACES_EXPORTER: 'console',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_SERVICE_NAME: 'sgp-prod',
      },
      {
        enabled: true,
        exporter: 'console',
        sampler: { kind: 'parentbased_traceidratio', ratio: 0.25 },
        serviceName: 'sgp-prod',
      },
    ],
  ])('%s', (_name, env, expected) => {
    expect(tracingConfig(env)).toEqual(expected);
  });

  test.each([
    [
      'unknown exporter',
      { OTEL_TRACES_EXPORTER: 'zipkin' },
      'OTEL_TRACES_EXPORTER=zipkin is not supported; use otlp, console or none',
    ],
    [
      'grpc protocol',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported; the operator sends OTLP over HTTP',
    ],
    [
      'ratio out of range',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
      'OTEL_TRACES_SAMPLER_ARG=2 is not a ratio; use a number between 0 and 1',
    ],
    [
      'unknown sampler',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'jaeger_remote' },
      'OTEL_TRACES_SAMPLER=jaeger_remote is not supported; use always_on, always_off, traceidratio or their parentbased_ forms',
    ],
  ])('%s is refused naming the variable', (_name, env, message) => {
    expect(() => tracingConfig(env)).toThrow(new TypeError(message));
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

  test('on: spans record and nest under the active span, until shutdown', async () => {
    const tracing = await startTracing(
      { enabled: true, exporter: 'console', sampler: { kind: 'always_on' }, serviceName: 'test' },
      silentLogger,
    );
    const tracer = trace.getTracer('t');
    const [recording, sameTrace] = tracer.startActiveSpan('reconcile', (parent) => {
      const child = tracer.startSpan('ec2 call');
      const result = [child.isRecording(), child.spanContext().traceId === parent.spanContext().traceId];
      // Ended spans are not exported before shutdown: the batch processor holds them; drop them with it.
      return result;
    });
    await tracing.shutdown();
    expect([recording, sameTrace]).toEqual([true, true]);
    expect(trace.getTracer('t').startSpan('after').isRecording()).toBe(false);
  });
});
