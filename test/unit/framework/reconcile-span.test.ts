/**
 * Each reconcile is one span, the root of its own trace, with the work it does (EC2 calls) as children and
 * its outcome on it; its log lines carry its trace id. Runs against the SDK's in-memory exporter.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { FakeClock } from '../../../operator/framework/clock.ts';
import { ControllerRunner, RECONCILE_SPAN_ATTRIBUTES } from '../../../operator/framework/controller.ts';
import type { Reconciler } from '../../../operator/framework/types.ts';
import { createLogger } from '../../../operator/observability/logger.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

function runnerFor(name: string, reconciler: Reconciler, lines: Record<string, unknown>[]) {
  const log = createLogger({
    level: 'debug',
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return new ControllerRunner({ name, reconciler, backoffBaseMs: 100 }, { clock: new FakeClock(), log });
}

describe('reconcile spans', () => {
  test('a reconcile is a root span named after its controller; work inside it is its child; its lines carry its ids', async () => {
    exporter.reset();
    const lines: Record<string, unknown>[] = [];
    const runner = runnerFor(
      'pod',
      {
        reconcile: async (_key, { log }) => {
          await trace.getTracer('test').startActiveSpan('EC2.CreateNetworkInterface', async (span) => span.end());
          log.info('created branch eni');
        },
      },
      lines,
    );
    // Enqueued from inside some other span: the reconcile still starts its own trace.
    await trace.getTracer('test').startActiveSpan('informer event', async (outer) => {
      await runner.reconcileKey('ns/web-0', new AbortController().signal);
      outer.end();
    });
    const spans = exporter.getFinishedSpans();
    const reconcile = spans.find((span) => span.name === 'pod reconcile');
    const child = spans.find((span) => span.name === 'EC2.CreateNetworkInterface');
    expect(reconcile?.parentSpanContext).toBeUndefined();
    expect(reconcile?.attributes).toEqual({
      [RECONCILE_SPAN_ATTRIBUTES.controller]: 'pod',
      [RECONCILE_SPAN_ATTRIBUTES.key]: 'ns/web-0',
      [RECONCILE_SPAN_ATTRIBUTES.reconcileId]: expect.any(String),
      [RECONCILE_SPAN_ATTRIBUTES.outcome]: 'success',
    });
    expect(child?.parentSpanContext?.spanId).toBe(reconcile?.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(reconcile?.spanContext().traceId);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'created branch eni',
        reconcileId: reconcile?.attributes[RECONCILE_SPAN_ATTRIBUTES.reconcileId],
        trace_id: reconcile?.spanContext().traceId,
        span_id: reconcile?.spanContext().spanId,
      }),
    ]);
  });

  test('a failed reconcile marks its span as an error with the exception, and its retry line carries the trace', async () => {
    exporter.reset();
    const lines: Record<string, unknown>[] = [];
    const runner = runnerFor(
      'trunkinterface',
      {
        reconcile: async () => {
          throw new Error('RequestLimitExceeded');
        },
      },
      lines,
    );
    await runner.reconcileKey('node-1', new AbortController().signal);
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes[RECONCILE_SPAN_ATTRIBUTES.outcome]).toBe('error');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'RequestLimitExceeded' });
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'reconcile failed; retrying', trace_id: span?.spanContext().traceId }),
    ]);
  });
});
