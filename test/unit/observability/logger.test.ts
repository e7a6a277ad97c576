/**
 * The log line as a user's log pipeline sees it: JSON with level, time and message, the level threshold,
 * child context, error chains, no credentials anywhere, and the active span's ids when tracing is on.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger, REDACTED, scrubSecrets, type LogLevel } from '../../../operator/observability/logger.ts';

function capture(level: LogLevel = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('createLogger', () => {
  test('one JSON object per line: level as a word, ISO time, message, fields; no pid or hostname', () => {
    const { log, lines } = capture();
    log.info('associated branch eni', { vlanId: 3 });
    expect(lines).toEqual([{ level: 'info', time: expect.any(String), vlanId: 3, msg: 'associated branch eni' }]);
    expect(new Date(lines[0]?.time as string).toISOString()).toBe(lines[0]?.time);
  });

  test('lines below the level are dropped', () => {
    const { log, lines } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
  });

  test('a child carries its context into every line; nested children add to it', () => {
    const { log, lines } = capture();
    const reconcile = log.child({ controller: 'pod' }).child({ key: 'ns/web-0' });
    reconcile.info('reconciled', { outcome: 'success' });
    expect(lines[0]).toMatchObject({ controller: 'pod', key: 'ns/web-0', outcome: 'success', msg: 'reconciled' });
  });

  test("children keep to their root's level, and siblings do not share context", () => {
    const { log, lines } = capture('info');
    const pod = log.child({ controller: 'pod' });
    const first = pod.child({ key: 'ns/a' });
    const second = pod.child({ key: 'ns/b' });
    first.debug('below the level');
    second.info('second');
    first.info('first');
    first.warn('first again');
    expect(lines.map(({ controller, key, msg }) => ({ controller, key, msg }))).toEqual([
      { controller: 'pod', key: 'ns/b', msg: 'second' },
      { controller: 'pod', key: 'ns/a', msg: 'first' },
      { controller: 'pod', key: 'ns/a', msg: 'first again' },
    ]);
  });

  test('an error field is its message with the cause chain (repeated messages said once)', () => {
    const { log, lines } = capture();
    const root = new Error('RequestLimitExceeded');
    log.warn('reconcile failed; retrying', {
      error: new Error('creating branch eni: RequestLimitExceeded', { cause: root }),
      other: new Error('outer', { cause: new Error('inner') }),
    });
    expect(lines[0]).toMatchObject({
      error: 'creating branch eni: RequestLimitExceeded',
      other: 'outer: caused by: inner',
    });
  });
});

describe('credentials never reach a line', () => {
  test('fields named like a credential are censored at the top, nested, and in a kubeconfig', () => {
    const { log, lines } = capture();
    log.child({ token: 'child-token' }).info('calling', {
      authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.payload',
      request: { headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=AKIA' } },
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', sessionToken: 'FwoG' },
      kubeconfig: { users: [{ name: 'admin', user: { 'client-key-data': 'LS0t', token: 'abc', password: 'pw' } }] },
      namespace: 'kept',
    });
    expect(lines[0]).toEqual({
      level: 'info',
      time: expect.any(String),
      token: REDACTED,
      authorization: REDACTED,
      request: { headers: { Authorization: REDACTED } },
      credentials: { accessKeyId: REDACTED, secretAccessKey: REDACTED, sessionToken: REDACTED },
      kubeconfig: {
        users: [{ name: 'admin', user: { 'client-key-data': REDACTED, token: REDACTED, password: REDACTED } }],
      },
      namespace: 'kept',
      msg: 'calling',
    });
  });

  test('credentials quoted in messages, string fields and error messages are replaced, the rest kept', () => {
    const { log, lines } = capture();
    log.error('request with Bearer abcdefghijklmnopqrstuvwxyz failed', {
      url: 'https://ec2.amazonaws.com/?X-Amz-Signature=deadbeef&Action=DescribeVpcs',
      error: new Error('UnauthorizedOperation for AKIAIOSFODNN7EXAMPLE', {
        cause: new Error('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG'),
      }),
    });
    expect(lines[0]).toMatchObject({
      msg: `request with Bearer ${REDACTED} failed`,
      url: `https://ec2.amazonaws.com/?X-Amz-Signature=${REDACTED}&Action=DescribeVpcs`,
      error: `UnauthorizedOperation for ${REDACTED}: caused by: aws_secret_access_key=${REDACTED}`,
    });
  });

  test.each([
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', `Authorization: Basic ${REDACTED}`],
    ['key ASIAIOSFODNN7EXAMPLE expired', `key ${REDACTED} expired`],
    ['{"sessionToken":"FwoGZXIvYXdz"}', `{"sessionToken":"${REDACTED}"}`],
    ['no secret in pod ns/web-0 on vpc-0123', 'no secret in pod ns/web-0 on vpc-0123'],
  ])('scrubSecrets(%j)', (text, expected) => {
    expect(scrubSecrets(text)).toBe(expected);
  });
});

describe('trace context', () => {
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

  test('a line written inside a span carries its trace_id and span_id; outside it, none', async () => {
    const { log, lines } = capture();
    const ids = await trace.getTracer('test').startActiveSpan('reconcile', async (span) => {
      await Promise.resolve();
      log.info('inside');
      span.end();
      return span.spanContext();
    });
    log.info('outside');
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId, trace_flags: '01' }),
      expect.not.objectContaining({ trace_id: expect.anything() }),
    ]);
  });
});
