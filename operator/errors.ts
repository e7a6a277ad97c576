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
  if (error instanceof OutsideFixError) return new OutsideFixError(`${context}: ${message}`, { cause: error });
  return new OperatorError(`${context}: ${message}`, { cause: error });
}

/**
 * The long backoff for errors only a change outside the cluster can fix (see {@link OutsideFixError}): the
 * first retry after a minute, doubling to at most ten minutes. Long enough not to burn EC2's request budget
 * on a call that keeps being refused, short enough that an IAM fix or a raised quota takes effect without
 * anyone touching the cluster. This is the one place that says how long such errors wait.
 */
export const OUTSIDE_FIX_BACKOFF_BASE_MS = 60_000;
export const OUTSIDE_FIX_BACKOFF_MAX_MS = 10 * 60_000;

/** Delay before retry number `failures + 1` of an {@link OutsideFixError}. */
export function outsideFixDelayMs(failures: number): number {
  const exponent = Math.max(0, Math.floor(failures));
  // 2^exponent overflows to Infinity long after the cap; min() keeps the result finite.
  return Math.min(OUTSIDE_FIX_BACKOFF_BASE_MS * 2 ** exponent, OUTSIDE_FIX_BACKOFF_MAX_MS);
}

/**
 * An error no retry in the next seconds can fix, but a change outside the cluster can: an IAM policy that
 * denies a call, an account quota (ENIs per Region), an account not yet allow-listed for trunking. Nothing in
 * the cluster changes when the fix is made, so waiting for a change (TerminalError) would wait forever; the
 * controller retries on the long backoff above instead, with the hint in the message (and in the event the
 * caller emits). Carries the original error as `cause`.
 */
export class OutsideFixError extends OperatorError {}
