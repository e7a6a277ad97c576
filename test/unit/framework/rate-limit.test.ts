import { describe, expect, test } from '@jest/globals';
import {
  ItemExponentialBackoff,
  TokenBucket,
  defaultControllerRateLimiter,
} from '../../../operator/framework/rate-limit.ts';

describe('TokenBucket', () => {
  test.each([
    // name, qps, burst, call times (ms), expected delays
    ['burst passes at once', 10, 3, [0, 0, 0], [0, 0, 0]],
    ['beyond burst waits 1/qps per token', 10, 1, [0, 0, 0], [0, 100, 200]],
    ['tokens refill with time', 10, 1, [0, 100, 200], [0, 0, 0]],
    ['refill is capped at burst', 10, 2, [0, 10_000, 10_000, 10_000], [0, 0, 0, 100]],
  ])('%s', (_name, qps, burst, times, expected) => {
    const bucket = new TokenBucket<string>(qps, burst);
    expect(times.map((t) => bucket.when('k', t))).toEqual(expected);
  });

  test('rejects a non-positive rate with a message naming the value', () => {
    expect(() => new TokenBucket(0, 1)).toThrow('rate limit must be > 0 per second, got 0');
  });
});

describe('ItemExponentialBackoff', () => {
  test('keys back off independently', () => {
    const backoff = new ItemExponentialBackoff<string>(10, 10_000);
    expect([backoff.when('a'), backoff.when('a'), backoff.when('b'), backoff.when('a')]).toEqual([10, 20, 10, 40]);
  });

  test('stays at the cap even after very many failures', () => {
    const backoff = new ItemExponentialBackoff<string>(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.when('k');
    expect(last).toBe(1_000_000);
  });

  test('rejects a cap below the base', () => {
    expect(() => new ItemExponentialBackoff(10, 5)).toThrow('backoff cap must be >= base (10 ms), got 5');
  });
});

test('the default controller limiter is client-go’s: 5 ms per key doubling, 10 qps / 100 burst overall', () => {
  const limiter = defaultControllerRateLimiter<string>();
  expect([limiter.when('a', 0), limiter.when('a', 0), limiter.when('a', 0)]).toEqual([5, 10, 20]);
  for (let i = 0; i < 97; i++) limiter.when(`k${i}`, 0);
  // 100 tokens used: the next new key waits for the bucket, not its own 5 ms.
  expect(limiter.when('fresh', 0)).toBe(100);
});
