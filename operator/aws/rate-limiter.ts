/**
 * Per-action request budgets in front of EC2, shaped like EC2's own token buckets (docs/ec2-semantics.md#throttling), so the
 * operator spends its budget without drawing RequestLimitExceeded. One bucket per action (EC2 keeps one per
 * account, Region and action); waiters for a bucket line up in a p-queue of concurrency 1 ordered by
 * priority, so when tokens are scarce a pod waiting for its ENI goes before a background sweep.
 *
 * Two refinements keep us strictly inside EC2's bucket:
 * - headroom: our burst is `capacity × (1 − burstHeadroom)`. Requests reach EC2 later than they leave us,
 *   by a varying delay; headroom h lets delays vary by up to h·capacity/refill seconds (10 % of 100/5 → 2 s)
 *   without two of our requests landing on one EC2 token.
 * - accounting of every HTTP request: a port call takes one token up front; extra pages and SDK retries are
 *   reported by the SDK adapter ({@link RequestObserver}) and debited, so the budget follows the wire. The
 *   call's token is matched to its first request through AsyncLocalStorage (the SDK middleware runs in the
 *   caller's async context).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import PQueue from 'p-queue';
import type { CallPriority } from './ec2-api.ts';
import { DEFAULT_ADAPTIVE, TokenBucket, type AdaptiveConfig, type TokenBucketConfig } from './token-bucket.ts';
import { ec2BucketTokens, ec2QueueWaitSeconds } from '../observability/metrics.ts';
import { EC2_BUCKETS, type Ec2BucketName } from '../option-definitions.ts';

/**
 * Buckets we keep: one per EC2 action, plus the smaller bucket unfiltered describes draw from. Their names
 * and EC2's documented defaults are declared once, with the options that tune them
 * (operator/option-definitions.ts EC2_BUCKETS).
 */
export const BUCKET_NAMES: readonly BucketName[] = EC2_BUCKETS.map((bucket) => bucket.name);
export type BucketName = Ec2BucketName;

/** EC2's documented default buckets as capacity (the options' burst) and refill per second (their qps). */
export const DEFAULT_BUCKETS: Readonly<Record<BucketName, TokenBucketConfig>> = Object.freeze(
  Object.fromEntries(
    EC2_BUCKETS.map((bucket) => [bucket.name, { capacity: bucket.burst, refillPerSecond: bucket.qps }]),
  ) as Record<BucketName, TokenBucketConfig>,
);

export interface RateLimiterOptions {
  /** Per-bucket overrides of EC2's defaults (e.g. an account with raised limits). */
  buckets?: Partial<Record<BucketName, Partial<TokenBucketConfig>>>;
  /**
   * Multiplies every bucket's capacity and refill. 1 on AWS; tests run the EC2 emulator with the same
   * scale on its buckets, which keeps the shape (and the zero-throttle property) while finishing sooner.
   */
  scale?: number;
  /** Fraction of each bucket's capacity we never burst into (jitter allowance, see above). Default 0.1. */
  burstHeadroom?: number;
  adaptive?: Partial<AdaptiveConfig>;
  /**
   * Calls per bucket between token and answer. A token taken long before its request reaches EC2 (queued
   * behind sockets or a busy event loop) lets later requests bunch up on arrival; capping the in-flight
   * calls keeps "took a token" close to "EC2 counted it". Default 16.
   */
  maxInFlightPerBucket?: number;
  scheduler?: Scheduler;
}

/** Time, injected so tests drive the buckets with a fake clock. */
export interface Scheduler {
  now(): number;
  /** Resolves after `ms` or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** What the SDK adapter reports for every HTTP request it sends. */
export interface RequestObserver {
  onRequest(action: string, outcome: { isThrottled: boolean }): void;
}

/** p-queue runs higher numbers first. */
const PRIORITY_RANK: Record<CallPriority, number> = { critical: 2, normal: 1, background: 0 };

interface BucketState {
  bucket: TokenBucket;
  gate: PQueue;
  /** Calls of this bucket between taking their token and finishing. */
  inFlight: number;
  /** Wakes the gate's head waiter when an in-flight call finishes. */
  slotFreed: (() => void) | undefined;
}

/** The token a port call took, until its first HTTP request spends it. */
interface Ticket {
  bucket: BucketName;
  isSpent: boolean;
}

export function resolveBucketConfig(name: BucketName, options: RateLimiterOptions): TokenBucketConfig {
  const scale = options.scale ?? 1;
  const headroom = options.burstHeadroom ?? 0.1;
  if (!(scale > 0)) throw new RangeError(`rate limiter scale must be > 0, got ${scale}`);
  if (!(headroom >= 0 && headroom < 1)) throw new RangeError(`burstHeadroom must be in [0, 1), got ${headroom}`);
  const base = { ...DEFAULT_BUCKETS[name], ...options.buckets?.[name] };
  return {
    capacity: Math.max(1, Math.floor(base.capacity * scale * (1 - headroom))),
    refillPerSecond: base.refillPerSecond * scale,
  };
}

export class Ec2RateLimiter implements RequestObserver {
  private readonly buckets = new Map<BucketName, BucketState>();
  private readonly tickets = new AsyncLocalStorage<Ticket>();
  private readonly scheduler: Scheduler;
  private readonly maxInFlight: number;

  constructor(options: RateLimiterOptions = {}) {
    this.scheduler = options.scheduler ?? systemScheduler;
    const adaptive = { ...DEFAULT_ADAPTIVE, ...options.adaptive };
    this.maxInFlight = options.maxInFlightPerBucket ?? 16;
    if (!(this.maxInFlight >= 1)) throw new RangeError(`maxInFlightPerBucket must be ≥ 1, got ${this.maxInFlight}`);
    const now = this.scheduler.now();
    for (const name of BUCKET_NAMES) {
      const bucket = new TokenBucket(resolveBucketConfig(name, options), now, adaptive);
      this.buckets.set(name, { bucket, gate: new PQueue({ concurrency: 1 }), inFlight: 0, slotFreed: undefined });
      ec2BucketTokens.set({ bucket: name }, bucket.capacity);
    }
  }

  /**
   * Waits for a token of `name` (in priority order among that bucket's waiters), then runs `run`; the first
   * HTTP request `run` sends is covered by that token, further ones are debited. Rejects with the signal's
   * reason when the caller gives up while waiting (no token is then spent).
   */
  async run<T>(
    name: BucketName,
    priority: CallPriority,
    signal: AbortSignal | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    await this.acquire(name, priority, signal);
    const state = this.state(name);
    try {
      return await this.tickets.run({ bucket: name, isSpent: false }, run);
    } finally {
      state.inFlight -= 1;
      state.slotFreed?.();
    }
  }

  private async acquire(name: BucketName, priority: CallPriority, signal?: AbortSignal): Promise<void> {
    const state = this.state(name);
    const queuedAt = this.scheduler.now();
    await state.gate.add(
      async () => {
        while (state.inFlight >= this.maxInFlight) await this.waitForSlot(state, signal);
        for (;;) {
          const waitMs = state.bucket.tryTake(this.scheduler.now());
          if (waitMs === 0) {
            state.inFlight += 1;
            return;
          }
          await this.scheduler.sleep(waitMs, signal);
        }
      },
      { priority: PRIORITY_RANK[priority], signal },
    );
    const now = this.scheduler.now();
    ec2QueueWaitSeconds.observe({ priority }, (now - queuedAt) / 1000);
    ec2BucketTokens.set({ bucket: name }, state.bucket.available(now));
  }

  private waitForSlot(state: BucketState, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        state.slotFreed = undefined;
        reject(signal?.reason as Error);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      state.slotFreed = () => {
        state.slotFreed = undefined;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  onRequest(action: string, outcome: { isThrottled: boolean }): void {
    if (!isBucketName(action)) return;
    const state = this.state(action);
    const now = this.scheduler.now();
    const ticket = this.tickets.getStore();
    if (ticket !== undefined && ticket.bucket === action && !ticket.isSpent) ticket.isSpent = true;
    else state.bucket.debit(now);
    if (outcome.isThrottled) state.bucket.throttled(now);
    ec2BucketTokens.set({ bucket: action }, state.bucket.available(now));
  }

  /** Tokens available now (for the benchmark and tests). */
  tokens(name: BucketName): number {
    return this.state(name).bucket.available(this.scheduler.now());
  }

  /** Our burst allowance for a bucket (EC2's capacity less headroom, scaled). */
  capacity(name: BucketName): number {
    return this.state(name).bucket.capacity;
  }

  rateFactor(name: BucketName): number {
    return this.state(name).bucket.rateFactor(this.scheduler.now());
  }

  private state(name: BucketName): BucketState {
    const state = this.buckets.get(name);
    if (state === undefined) throw new Error(`no EC2 rate-limit bucket named ${name}`);
    return state;
  }
}

function isBucketName(name: string): name is BucketName {
  return (BUCKET_NAMES as readonly string[]).includes(name);
}
