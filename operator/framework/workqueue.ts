/**
 * A work queue with client-go semantics. A key is queued at most once (`dirty`); a key being processed is
 * never handed to a second worker (`processing`), and if it is re-added meanwhile it runs again once the
 * current run calls `done`. Delayed adds keep the earliest requested time per key. Rate-limited adds go
 * through a RateLimiter (per-key backoff + overall bucket); `forget` resets a key's backoff.
 *
 * Two priorities, as controller-runtime's priority queue: a `low` key is handed out only when no `normal` key
 * waits. Informer events that only repeat what is already known (the initial list, resyncs) are low, so after
 * a restart the keys of objects that changed (a new pod, a status a reconcile just wrote) do not wait behind
 * the re-check of every object in the cluster. A low key added again at normal priority moves to the normal
 * queue; a normal key never moves down; a low key that has waited 10 s gets every other turn
 * (docs/architecture.md#work-queues-priorities-and-yielding).
 */
import Queue from 'yocto-queue';
import type { TimerClock } from './clock.ts';
import type { RateLimiter } from './rate-limit.ts';
import { defaultControllerRateLimiter } from './rate-limit.ts';

export interface WorkQueueMetrics {
  add(): void;
  retry(): void;
  depth(n: number): void;
  /** Seconds the key waited between being queued and handed to a worker. */
  latency(seconds: number): void;
}

/**
 * A low key that has waited this long takes every other turn from then on, so a steady stream of changes
 * cannot starve the re-check of listed objects (a branch whose pod went while the operator was down).
 */
export const LOW_PRIORITY_MAX_WAIT_MS = 10_000;

/** `low`: work that only re-checks known state (the initial list, resyncs); taken when no `normal` key waits. */
export type QueuePriority = 'normal' | 'low';

/** A place in one of the two FIFOs; stale once the key was taken or moved (`#waiting` holds another entry or none). */
interface QueueEntry<K> {
  key: K;
  priority: QueuePriority;
}

const noMetrics: WorkQueueMetrics = { add() {}, retry() {}, depth() {}, latency() {} };

export interface WorkQueueOptions<K> {
  clock: TimerClock;
  rateLimiter?: RateLimiter<K>;
  metrics?: WorkQueueMetrics;
}

interface Delayed {
  readyAtMs: number;
  cancel: () => void;
}

export class WorkQueue<K> {
  readonly #clock: TimerClock;
  readonly #limiter: RateLimiter<K>;
  readonly #metrics: WorkQueueMetrics;
  // Linked FIFOs: Array#shift copies an array too large for V8 to trim in place, which made draining the
  // tens of thousands of keys of a large cluster's initial list quadratic (bench/README.md, operator-footprint).
  readonly #normal = new Queue<QueueEntry<K>>();
  readonly #low = new Queue<QueueEntry<K>>();
  /** Keys waiting in a FIFO, by their live entry (a moved key leaves a stale entry behind, skipped on take). */
  readonly #waiting = new Map<K, QueueEntry<K>>();
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<K>();
  /** The priority a dirty key that is being processed will be queued with when it is done. */
  readonly #dirtyPriority = new Map<K, QueuePriority>();
  readonly #processing = new Set<K>();
  readonly #queuedAtMs = new Map<K, number>();
  readonly #delayed = new Map<K, Delayed>();
  #getters: ((key: K | undefined) => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #shuttingDown = false;
  #lastTakenWasLow = false;

  constructor(options: WorkQueueOptions<K>) {
    this.#clock = options.clock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter<K>();
    this.#metrics = options.metrics ?? noMetrics;
  }

  /** Keys ready to be taken (not delayed, not in flight). */
  get length(): number {
    return this.#waiting.size;
  }

  get processingCount(): number {
    return this.#processing.size;
  }

  get delayedCount(): number {
    return this.#delayed.size;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: K, priority: QueuePriority = 'normal'): void {
    if (this.#shuttingDown) return;
    this.#metrics.add();
    if (this.#dirty.has(key)) {
      if (priority === 'low') return;
      const waiting = this.#waiting.get(key);
      if (waiting?.priority === 'low') this.#enqueue(key, 'normal');
      else if (this.#processing.has(key)) this.#dirtyPriority.set(key, 'normal');
      return;
    }
    this.#dirty.add(key);
    this.#queuedAtMs.set(key, this.#clock.now());
    if (this.#processing.has(key)) {
      this.#dirtyPriority.set(key, priority);
      return;
    }
    this.#push(key, priority);
  }

  /** Adds `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const readyAtMs = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.readyAtMs <= readyAtMs) return;
    pending?.cancel();
    const cancel = this.#clock.schedule(delayMs, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { readyAtMs, cancel });
  }

  /** Re-adds `key` after its rate-limited backoff; returns the delay chosen. */
  addRateLimited(key: K): number {
    const delayMs = this.#limiter.when(key, this.#clock.now());
    this.#metrics.retry();
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /**
   * Records one more failure of `key` (as addRateLimited does) but retries it after `delayFor(failures)`,
   * the failures recorded before this one, instead of the rate limiter's delay: for errors whose retry
   * pace is set by what fixes them (minutes), not by how fast the key fails. Returns the delay.
   */
  addWithBackoff(key: K, delayFor: (failures: number) => number): number {
    const failures = this.#limiter.failures(key);
    this.#limiter.when(key, this.#clock.now());
    const delayMs = delayFor(failures);
    this.#metrics.retry();
    this.addAfter(key, delayMs);
    return delayMs;
  }

  forget(key: K): void {
    this.#limiter.forget(key);
  }

  failures(key: K): number {
    return this.#limiter.failures(key);
  }

  /** Next key, waiting for one; undefined once the queue is shut down. The caller must call `done(key)`. */
  get(): Promise<K | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks `key` finished; if it was re-added while processing, it is queued again now. */
  done(key: K): void {
    this.#processing.delete(key);
    const priority = this.#dirtyPriority.get(key) ?? 'normal';
    this.#dirtyPriority.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key, priority);
    if (this.#processing.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /**
   * Stops handing out keys and accepting adds, and cancels delayed adds. Queued keys are dropped (every
   * controller relists on start, so nothing is lost across a restart). Resolves when in-flight keys are
   * done, or after `drainTimeoutMs`, whichever comes first; returns whether the drain completed.
   */
  async shutdown(drainTimeoutMs = 0): Promise<boolean> {
    this.#shuttingDown = true;
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    this.#normal.clear();
    this.#low.clear();
    this.#waiting.clear();
    this.#metrics.depth(0);
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    if (this.#processing.size === 0) return true;
    if (drainTimeoutMs <= 0) return false;
    return new Promise<boolean>((resolve) => {
      const cancel = this.#clock.schedule(drainTimeoutMs, () => resolve(this.#processing.size === 0));
      this.#idleWaiters.push(() => {
        cancel();
        resolve(true);
      });
    });
  }

  #push(key: K, priority: QueuePriority): void {
    this.#enqueue(key, priority);
    const getter = this.#getters.shift();
    if (getter) getter(this.#take());
  }

  /** Puts `key` at the end of `priority`'s FIFO; an entry it had in the other one goes stale. */
  #enqueue(key: K, priority: QueuePriority): void {
    const entry = { key, priority };
    this.#waiting.set(key, entry);
    (priority === 'normal' ? this.#normal : this.#low).enqueue(entry);
    this.#metrics.depth(this.#waiting.size);
  }

  #take(): K | undefined {
    const entry = this.#isLowDue() ? this.#next(this.#low) : (this.#next(this.#normal) ?? this.#next(this.#low));
    if (entry === undefined) return undefined;
    this.#lastTakenWasLow = entry.priority === 'low';
    const key = entry.key;
    this.#waiting.delete(key);
    this.#metrics.depth(this.#waiting.size);
    this.#dirty.delete(key);
    this.#processing.add(key);
    const queuedAt = this.#queuedAtMs.get(key);
    this.#queuedAtMs.delete(key);
    if (queuedAt !== undefined) this.#metrics.latency((this.#clock.now() - queuedAt) / 1000);
    return key;
  }

  /** The oldest low key has waited LOW_PRIORITY_MAX_WAIT_MS, and the last key taken was not a low one. */
  #isLowDue(): boolean {
    if (this.#lastTakenWasLow) return false;
    const head = this.#peek(this.#low);
    const queuedAt = head && this.#queuedAtMs.get(head.key);
    return queuedAt !== undefined && this.#clock.now() - queuedAt >= LOW_PRIORITY_MAX_WAIT_MS;
  }

  /** The first live entry of `fifo`, removed from it. */
  #next(fifo: Queue<QueueEntry<K>>): QueueEntry<K> | undefined {
    const entry = this.#peek(fifo);
    if (entry !== undefined) fifo.dequeue();
    return entry;
  }

  /** The first live entry of `fifo`; stale entries before it are dropped. */
  #peek(fifo: Queue<QueueEntry<K>>): QueueEntry<K> | undefined {
    for (;;) {
      const entry = fifo.peek();
      if (entry === undefined || this.#waiting.get(entry.key) === entry) return entry;
      fifo.dequeue();
    }
  }
}
