import { describe, expect, test } from '@jest/globals';
import { FakeClock } from '../../../operator/framework/clock.ts';
import { ItemExponentialBackoff, MaxOfRateLimiter, TokenBucket } from '../../../operator/framework/rate-limit.ts';
import type { RateLimiter } from '../../../operator/framework/rate-limit.ts';
import { LOW_PRIORITY_MAX_WAIT_MS, WorkQueue } from '../../../operator/framework/workqueue.ts';

function queue(
  clock = new FakeClock(),
  rateLimiter: RateLimiter<string> = new ItemExponentialBackoff<string>(5, 1000),
) {
  return { clock, q: new WorkQueue<string>({ clock, rateLimiter }) };
}

/** Takes every key that is ready right now (get() resolves synchronously-available keys at once). */
async function drain(q: WorkQueue<string>): Promise<string[]> {
  const keys: string[] = [];
  while (q.length > 0) {
    const key = await q.get();
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  test('a key added many times is queued once', async () => {
    const { q } = queue();
    for (let i = 0; i < 1000; i++) q.add('ns/a');
    q.add('ns/b');
    expect(await drain(q)).toEqual(['ns/a', 'ns/b']);
  });

  test('a key being processed is not handed out again; re-added, it runs once more after done', async () => {
    const { q } = queue();
    q.add('ns/a');
    const first = await q.get();
    expect(first).toBe('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    expect(q.length).toBe(0); // not available to a second worker while in flight
    q.done('ns/a');
    expect(await drain(q)).toEqual(['ns/a']);
    q.done('ns/a');
    expect(q.length).toBe(0);
  });

  test('low-priority keys are handed out only when no normal key waits, each in its own order', async () => {
    const { q } = queue();
    q.add('ns/listed-1', 'low');
    q.add('ns/listed-2', 'low');
    q.add('ns/changed-1');
    q.add('ns/listed-3', 'low');
    q.add('ns/changed-2');
    expect(await drain(q)).toEqual(['ns/changed-1', 'ns/changed-2', 'ns/listed-1', 'ns/listed-2', 'ns/listed-3']);
  });

  test('a low key added again at normal priority moves up, once; a normal key never moves down', async () => {
    const { q } = queue();
    q.add('ns/a', 'low');
    q.add('ns/b', 'low');
    q.add('ns/c');
    q.add('ns/b'); // a change to a listed object: now behind ns/c, ahead of ns/a
    q.add('ns/c', 'low'); // a resync of a changed object: stays where it is
    expect(q.length).toBe(3);
    expect(await drain(q)).toEqual(['ns/c', 'ns/b', 'ns/a']);
    expect(q.length).toBe(0);
  });

  test('a low key that has waited LOW_PRIORITY_MAX_WAIT_MS takes every other turn from a stream of changes', async () => {
    const { q, clock } = queue();
    q.add('ns/listed-1', 'low');
    q.add('ns/listed-2', 'low');
    q.add('ns/changed-0');
    const taken: (string | undefined)[] = [await q.get()];
    clock.advance(LOW_PRIORITY_MAX_WAIT_MS - 1);
    for (let i = 1; i <= 4; i++) q.add(`ns/changed-${i}`);
    taken.push(await q.get()); // not due yet
    clock.advance(1);
    for (let i = 0; i < 5; i++) taken.push(await q.get());
    expect(taken).toEqual([
      'ns/changed-0',
      'ns/changed-1',
      'ns/listed-1',
      'ns/changed-2',
      'ns/listed-2',
      'ns/changed-3',
      'ns/changed-4',
    ]);
  });

  test('a key re-added while processing comes back with the highest priority it was added with', async () => {
    const { q } = queue();
    q.add('ns/a');
    expect(await q.get()).toBe('ns/a');
    q.add('ns/a', 'low');
    q.add('ns/z', 'low');
    q.done('ns/a'); // queued again, at low priority, behind ns/z
    expect(await drain(q)).toEqual(['ns/z', 'ns/a']);
    q.done('ns/z');
    q.done('ns/a');

    q.add('ns/a');
    expect(await q.get()).toBe('ns/a');
    q.add('ns/a', 'low');
    q.add('ns/a'); // a change while in flight: the re-run is normal
    q.add('ns/z', 'low');
    q.done('ns/a');
    expect(await drain(q)).toEqual(['ns/a', 'ns/z']);
  });

  test('a waiting worker receives a key added later', async () => {
    const { q } = queue();
    const waiting = q.get();
    q.add('ns/late');
    await expect(waiting).resolves.toBe('ns/late');
  });

  test('addAfter delivers after the delay, and the earliest pending time wins', async () => {
    const { q, clock } = queue();
    q.addAfter('ns/a', 1000);
    q.addAfter('ns/a', 5000); // later request: ignored, the earlier one stands
    q.addAfter('ns/a', 500); // earlier request replaces the pending one
    clock.advance(499);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(await drain(q)).toEqual(['ns/a']);
    q.done('ns/a');
    clock.advance(10_000);
    expect(q.length).toBe(0);
  });

  test('rate-limited retries back off exponentially up to the cap, and forget resets', () => {
    const { q } = queue(new FakeClock(), new ItemExponentialBackoff<string>(5, 1000));
    const delays = Array.from({ length: 10 }, () => q.addRateLimited('ns/a'));
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.failures('ns/a')).toBe(10);
    q.forget('ns/a');
    expect(q.addRateLimited('ns/a')).toBe(5);
  });

  test('the overall bucket limits retries of many different keys', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter<string>(
      new ItemExponentialBackoff<string>(5, 1000),
      new TokenBucket<string>(10, 3),
    );
    const { q } = queue(clock, limiter);
    const delays = ['a', 'b', 'c', 'd', 'e'].map((k) => q.addRateLimited(k));
    // Burst of 3 go at the per-key delay; then one every 100 ms (10 qps).
    expect(delays).toEqual([5, 5, 5, 100, 200]);
  });

  test('shutdown stops handing out keys and waits (bounded) for in-flight keys', async () => {
    const { q, clock } = queue();
    q.add('ns/a');
    q.add('ns/b');
    q.addAfter('ns/c', 100);
    const inFlight = await q.get();
    const waiter = q.get(); // gets ns/b at once
    await expect(waiter).resolves.toBe('ns/b');
    q.done('ns/b');
    const drained = q.shutdown(5000);
    await expect(q.get()).resolves.toBeUndefined();
    q.add('ns/d');
    clock.advance(200); // the delayed add was cancelled
    expect(q.length).toBe(0);
    q.done(inFlight as string);
    await expect(drained).resolves.toBe(true);
  });

  test('shutdown gives up after the drain timeout when a key never finishes', async () => {
    const { q, clock } = queue();
    q.add('ns/stuck');
    await q.get();
    const drained = q.shutdown(1000);
    clock.advance(1000);
    await expect(drained).resolves.toBe(false);
  });
});
