/**
 * Structured JSON logs, one object per line on stderr: `{"time","level","msg",...fields}`.
 * A message is a short lower-case phrase of what happened ("associated branch eni"); facts go in fields.
 * Child loggers carry context (controller, key, reconcileId) into every line they write.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVEL_ORDER;
}

export function createLogger(options: LoggerOptions = {}, context: LogFields = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_ORDER[level] < threshold) return;
    const entry: LogFields = { time: new Date().toISOString(), level, msg, ...context, ...fields };
    // Errors do not serialise through JSON.stringify; keep their message and cause chain readable.
    for (const [key, value] of Object.entries(entry)) {
      if (value instanceof Error) entry[key] = describeError(value);
    }
    write(JSON.stringify(entry) + '\n');
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => createLogger(options, { ...context, ...fields }),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ write: () => undefined });

function describeError(error: Error): string {
  const parts = [error.message];
  let cause = error.cause;
  while (cause instanceof Error) {
    if (!parts[parts.length - 1]?.includes(cause.message)) parts.push(cause.message);
    cause = cause.cause;
  }
  return parts.join(': caused by: ');
}
