/**
 * Retry pacing for work queues, as client-go's DefaultControllerRateLimiter: the larger of a per-key
 * exponential backoff (a key that keeps failing waits longer, up to a cap) and an overall token bucket
 * (many keys failing at once cannot exceed a steady rate). Pure state machines over an injected `now`.
 */

/** client-go defaults: 5 ms doubling to 1000 s per key; 10 retries/s with a burst of 100 overall. */
export const DEFAULT_BACKOFF_BASE_MS = 5;
export const DEFAULT_BACKOFF_MAX_MS = 1_000_000;
export const DEFAULT_BUCKET_QPS = 10;
export const DEFAULT_BUCKET_BURST = 100;

export interface RateLimiter<K> {
  /** Delay before `key` may be retried; records one more failure for it. */
  when(key: K, nowMs: number): number;
  /** Clears the failure history of `key` (after a success). */
  forget(key: K): void;
  /** Failures recorded for `key` since it was last forgotten. */
  failures(key: K): number;
}

export class ItemExponentialBackoff<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = DEFAULT_BACKOFF_BASE_MS, maxMs = DEFAULT_BACKOFF_MAX_MS) {
    if (!(baseMs > 0)) throw new RangeError(`backoff base must be > 0 ms, got ${baseMs}`);
    if (!(maxMs >= baseMs)) throw new RangeError(`backoff cap must be >= base (${baseMs} ms), got ${maxMs}`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the cap is hit; min() keeps it finite.
    return Math.min(this.#baseMs * 2 ** failures, this.#maxMs);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * A token bucket that hands out reservations: a caller always gets a slot, possibly in the future
 * (golang.org/x/time/rate Reserve semantics), so the returned delay is how long to wait for it.
 */
export class TokenBucket<K> implements RateLimiter<K> {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number | undefined;

  constructor(qps = DEFAULT_BUCKET_QPS, burst = DEFAULT_BUCKET_BURST) {
    if (!(qps > 0)) throw new RangeError(`rate limit must be > 0 per second, got ${qps}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
  }

  when(_key: K, nowMs: number): number {
    this.#refill(nowMs);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#qps);
  }

  /** Takes a token if one is available now; unlike `when`, a refusal reserves nothing (drop, not delay). */
  tryTake(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(nowMs: number): void {
    if (this.#lastMs !== undefined) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((nowMs - this.#lastMs) * this.#qps) / 1000);
    }
    this.#lastMs = nowMs;
  }

  forget(): void {}

  failures(): number {
    return 0;
  }
}

/** The larger delay of several limiters; failures are those of the first (the per-key one). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(key: K, nowMs: number): number {
    let delay = 0;
    for (const limiter of this.#limiters) delay = Math.max(delay, limiter.when(key, nowMs));
    return delay;
  }

  forget(key: K): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  failures(key: K): number {
    return this.#limiters[0]?.failures(key) ?? 0;
  }
}

export function defaultControllerRateLimiter<K>(
  options: { backoffBaseMs?: number; backoffMaxMs?: number; qps?: number; burst?: number } = {},
): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialBackoff<K>(options.backoffBaseMs, options.backoffMaxMs),
    new TokenBucket<K>(options.qps, options.burst),
  );
}
