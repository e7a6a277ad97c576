/**
 * Structured JSON logs through pino, one object per line on stderr:
 * `{"level":"info","time":"…",…context,…fields,"trace_id","span_id","msg":"…"}`.
 * A message is a short lower-case phrase of what happened ("associated branch eni"); facts go in fields.
 * Child loggers carry context (controller, key, reconcileId) into every line they write.
 *
 * Two guarantees on top of pino (docs/observability.md#logs):
 * - Credentials never reach a line: fields named like a secret (authorization, token, secretAccessKey,
 *   client-key-data, …) are censored wherever pino's redaction paths reach, and every string value and
 *   error message is scrubbed of bearer tokens, AWS access key ids, signatures and session tokens.
 * - When tracing is on, a line written inside a span carries that span's `trace_id` and `span_id`, so a
 *   reconcile's lines and its trace find each other. With tracing off there is no active span and the
 *   lookup costs one function call.
 */
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stderr (written synchronously, so the last lines before an exit are kept). */
  write?: (line: string) => void;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export const REDACTED = '[REDACTED]';

/**
 * Field names whose value is a credential, censored up to two levels down (`headers.authorization`,
 * `request.headers.authorization`) and in a kubeconfig's `users[].user`. Lower and camel case are both
 * listed because the AWS SDK, kubeconfig files and HTTP headers spell them differently.
 */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'token',
  'bearerToken',
  'accessToken',
  'refreshToken',
  'idToken',
  'id-token',
  'refresh-token',
  'access-token',
  'password',
  'secretAccessKey',
  'secret_access_key',
  'sessionToken',
  'session_token',
  'accessKeyId',
  'access_key_id',
  'client-key-data',
  'clientKeyData',
  'keyData',
  'keyPem',
  'x-amz-security-token',
  'X-Amz-Security-Token',
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
  const nested = (parent: string) => (key.startsWith('[') ? `${parent}${key}` : `${parent}.${key}`);
  return [key, nested('*'), nested('*.*'), nested('users[*].user'), nested('*.users[*].user')];
});

/**
 * Secrets that can hide inside free text (an error message quoting a request, a URL with a presigned
 * signature): the credential part is replaced, what surrounds it is kept so the line still says what failed.
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\b((?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16})\b/g, REDACTED],
  [/((?:X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Signature)=)[^&\s"']+/gi, `$1${REDACTED}`],
  [
    /((?:aws_secret_access_key|aws_session_token|secretAccessKey|sessionToken)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
    `$1${REDACTED}`,
  ],
];

/** Removes credentials from free text (pure; exported for tests). */
export function scrubSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.write
    ? { write: options.write }
    : pino.destination({ dest: 2, sync: true, minLength: 0 });
  const root = pino(
    {
      level: options.level ?? 'info',
      // pid and hostname say nothing a pod's log stream does not already say.
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => cleanFields(fields),
      },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      mixin: traceContextFields,
    },
    destination,
  );
  return wrap(root);
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = wrap(pino({ level: 'silent' }));

function wrap(target: PinoLogger): Logger {
  return lazy(() => target, target);
}

/**
 * A logger over the pino logger `get` returns, made when first written to. pino serializes and redacts a
 * child's fields when the child is made, and the controller runner makes one per reconcile ({controller, key,
 * reconcileId}) that mostly never writes a line: made eagerly, those children were a fifth of the operator's
 * CPU while it listed a large cluster (bench/README.md, operator-footprint). `root` answers which levels are
 * on (children share their root's level).
 */
function lazy(get: () => PinoLogger, root: PinoLogger): Logger {
  const write =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (root.isLevelEnabled(level)) get()[level](fields ?? {}, scrubSecrets(msg));
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => {
      let made: PinoLogger | undefined;
      return lazy(() => (made ??= get().child(cleanFields(fields))), root);
    },
  };
}

/** The active span's ids, when tracing recorded one (the OpenTelemetry log data model's field names). */
function traceContextFields(): object {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: spanContext.traceFlags.toString(16).padStart(2, '0'),
  };
}

/** Errors become their message chain (JSON.stringify drops them); strings lose any credentials they quote. */
function cleanFields(fields: Record<string, unknown>): Record<string, unknown> {
  let cleaned: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    const replacement =
      value instanceof Error
        ? scrubSecrets(describeError(value))
        : typeof value === 'string'
          ? scrubSecrets(value)
          : value;
    if (replacement !== value) {
      cleaned ??= { ...fields };
      cleaned[key] = replacement;
    }
  }
  return cleaned ?? fields;
}

function describeError(error: Error): string {
  const parts = [error.message];
  let cause = error.cause;
  while (cause instanceof Error) {
    if (!parts[parts.length - 1]?.includes(cause.message)) parts.push(cause.message);
    cause = cause.cause;
  }
  return parts.join(': caused by: ');
}
