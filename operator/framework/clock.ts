/**
 * Time behind an interface. The queue, the leader elector and the event recorder need timers as well as
 * `now()`, so they take a `TimerClock`; `systemClock` is the real one, `FakeClock` lets tests advance time
 * by hand instead of sleeping.
 */
import type { Clock } from './types.ts';

/** A Clock that can also run a callback later. `schedule` returns a function that cancels the timer. */
export interface TimerClock extends Clock {
  schedule(delayMs: number, callback: () => void): () => void;
}

export const systemClock: TimerClock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // Timers never keep the process alive on their own: shutdown is driven by the manager's signal.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (shutting down): a sleep that never outlives a stop. */
export function sleep(clock: TimerClock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      cancel();
      resolve();
    };
    const cancel = clock.schedule(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/** Manual time for tests: nothing happens until `advance(ms)` (or `set(ms)`) moves the clock. */
export class FakeClock implements TimerClock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, PendingTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, delayMs), seq, callback });
    return () => this.#timers.delete(seq);
  }

  /** Number of timers not yet fired. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward, firing due timers in time order (timers they schedule fire too if due). */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  set(targetMs: number): void {
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.#timers.values()) {
        if (timer.at <= targetMs && (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))) {
          next = timer;
        }
      }
      if (!next) break;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = Math.max(this.#now, targetMs);
  }
}
