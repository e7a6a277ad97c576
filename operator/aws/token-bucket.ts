/**
 * A token bucket shaped like EC2's (docs/ec2-semantics.md#throttling): `capacity` tokens when idle, refilled continuously at
 * `refillPerSecond`, one token per request. p-queue's interval/intervalCap is a fixed (or sliding) window,
 * which lets 2×cap through around a window edge and does not model "burst, then refill" — EC2 would answer
 * the overshoot with RequestLimitExceeded. So the bucket is computed here, with time passed in, and
 * p-queue only orders the waiters by priority (see rate-limiter.ts).
 *
 * Adaptive slow-down: when EC2 throttles us anyway (another client in the account spends the same budget,
 * or AWS lowered the account's rate), the refill rate is halved (down to `minRateFactor`), the bucket is
 * emptied, and after `holdMs` without another throttle the rate recovers by `recoveryStep` of the nominal
 * rate every `recoveryIntervalMs` — multiplicative decrease, additive increase.
 */

export interface TokenBucketConfig {
  capacity: number;
  refillPerSecond: number;
}

export interface AdaptiveConfig {
  /** Lowest fraction of the nominal rate we slow down to. */
  minRateFactor: number;
  /** How long the reduced rate holds after the last throttle. */
  holdMs: number;
  /** Fraction of the nominal rate regained per recovery interval. */
  recoveryStep: number;
  recoveryIntervalMs: number;
}

export const DEFAULT_ADAPTIVE: AdaptiveConfig = {
  minRateFactor: 0.125,
  holdMs: 10_000,
  recoveryStep: 0.1,
  recoveryIntervalMs: 5_000,
};

export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly adaptive: AdaptiveConfig;
  private tokens: number;
  private lastRefillMs: number;
  /** Rate factor right after the last throttle, and when that was. */
  private factorAtThrottle = 1;
  private lastThrottleMs = Number.NEGATIVE_INFINITY;

  constructor(config: TokenBucketConfig, nowMs: number, adaptive: AdaptiveConfig = DEFAULT_ADAPTIVE) {
    if (!(config.capacity >= 1)) throw new RangeError(`token bucket capacity must be ≥ 1, got ${config.capacity}`);
    if (!(config.refillPerSecond > 0)) {
      throw new RangeError(`token bucket refillPerSecond must be > 0, got ${config.refillPerSecond}`);
    }
    this.capacity = config.capacity;
    this.refillPerSecond = config.refillPerSecond;
    this.adaptive = adaptive;
    this.tokens = config.capacity;
    this.lastRefillMs = nowMs;
  }

  /** The fraction of the nominal refill rate in force at `nowMs` (1 unless recently throttled). */
  rateFactor(nowMs: number): number {
    const sinceThrottle = nowMs - this.lastThrottleMs;
    if (sinceThrottle < this.adaptive.holdMs) return this.factorAtThrottle;
    const steps = Math.floor((sinceThrottle - this.adaptive.holdMs) / this.adaptive.recoveryIntervalMs) + 1;
    return Math.min(1, this.factorAtThrottle + steps * this.adaptive.recoveryStep);
  }

  /** Tokens available at `nowMs` (fractional; negative after debits for unplanned requests). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** Takes one token and returns 0, or returns how many ms to wait before a token is there (nothing taken). */
  tryTake(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    const rate = this.refillPerSecond * this.rateFactor(nowMs);
    return Math.max(1, Math.ceil(((1 - this.tokens) / rate) * 1000));
  }

  /** Charges requests that went out without taking a token (extra pages, SDK retries). May go negative. */
  debit(nowMs: number, count = 1): void {
    this.refill(nowMs);
    this.tokens = Math.max(-this.capacity, this.tokens - count);
  }

  /** EC2 throttled a request from this bucket: halve the rate and start from empty. */
  throttled(nowMs: number): void {
    this.refill(nowMs);
    this.factorAtThrottle = Math.max(this.adaptive.minRateFactor, this.rateFactor(nowMs) / 2);
    this.lastThrottleMs = nowMs;
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(nowMs: number): void {
    const elapsedMs = nowMs - this.lastRefillMs;
    if (elapsedMs <= 0) return;
    // The factor can only rise over the interval, so the start-of-interval factor never over-credits.
    const factor = Math.min(this.rateFactor(this.lastRefillMs), this.rateFactor(nowMs));
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs / 1000) * this.refillPerSecond * factor);
    this.lastRefillMs = nowMs;
  }
}
