import type { Scheduler } from '../../../operator/aws/rate-limiter.ts';

/** A manual clock: sleeps resolve only when `advance` moves time past them. */
export class FakeScheduler implements Scheduler {
  private nowMs = 0;
  private timers: { at: number; resolve: () => void }[] = [];

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer = { at: this.nowMs + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward in steps, letting woken tasks run (and sleep again) before the next step. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      this.nowMs = Math.min(end, this.nowMs + stepMs);
      const due = this.timers.filter((t) => t.at <= this.nowMs);
      this.timers = this.timers.filter((t) => t.at > this.nowMs);
      for (const t of due) t.resolve();
      await flush();
    }
  }
}

/** Lets pending promise callbacks (and p-queue's scheduling) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
