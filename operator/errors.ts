/**
 * Base class of every error the operator raises on purpose. Subclasses carry the object they concern as a
 * field and chain the underlying error through ES `cause`; callers test them with `instanceof`.
 * A message says what failed, on which object, and what to do about it.
 */
export class OperatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An error that retrying cannot fix (controller-runtime's TerminalError): the reconcile is counted and
 * logged but not requeued with backoff; the object waits for its spec or the world to change.
 */
export class TerminalError extends OperatorError {}

/** Adds what was being done to an error as it passes up, keeping the original as `cause`. */
export function withContext(context: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TerminalError) return new TerminalError(`${context}: ${message}`, { cause: error });
  return new OperatorError(`${context}: ${message}`, { cause: error });
}
