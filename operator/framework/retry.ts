/** Optimistic concurrency: re-read and retry a write that lost a resourceVersion race (client-go RetryOnConflict). */
import { KubeConflictError } from './errors.ts';

/** client-go's retry.DefaultRetry: 5 steps starting at 10 ms, factor 1, jitter 0.1. */
export const CONFLICT_RETRY_STEPS = 5;
export const CONFLICT_RETRY_DELAY_MS = 10;

/**
 * Runs `attempt` until it does not throw KubeConflictError, at most `steps` times, waiting a short jittered
 * delay between tries. `attempt` must re-read the object each time; any other error is thrown at once.
 */
export async function retryOnConflict<T>(
  attempt: (try_: number) => Promise<T>,
  options: { steps?: number; delayMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const steps = options.steps ?? CONFLICT_RETRY_STEPS;
  const delayMs = options.delayMs ?? CONFLICT_RETRY_DELAY_MS;
  for (let i = 1; ; i++) {
    try {
      return await attempt(i);
    } catch (error) {
      if (!(error instanceof KubeConflictError) || i >= steps) throw error;
      options.signal?.throwIfAborted();
      await new Promise<void>((resolve) => setTimeout(resolve, delayMs * (1 + Math.random() * 0.1)).unref());
    }
  }
}
