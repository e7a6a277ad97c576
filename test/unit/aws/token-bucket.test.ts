import { describe, expect, test } from '@jest/globals';
import { TokenBucket } from '../../../operator/aws/token-bucket.ts';

const adaptive = { minRateFactor: 0.125, holdMs: 10_000, recoveryStep: 0.1, recoveryIntervalMs: 5_000 };

/** Takes tokens as fast as allowed from t=0 to `untilMs`; returns how many were taken. */
function drain(bucket: TokenBucket, untilMs: number): number {
  let now = 0;
  let taken = 0;
  while (now <= untilMs) {
    const wait = bucket.tryTake(now);
    if (wait === 0) taken += 1;
    else now += wait;
  }
  return taken;
}

describe('TokenBucket', () => {
  test('bursts the capacity, then refills at the rate (100/5 over 10 s → 150)', () => {
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 5 }, 0, adaptive);
    expect(drain(bucket, 10_000)).toBe(150);
  });

  test('a burst is followed by the exact wait for the next token', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 5 }, 0, adaptive);
    expect([bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0)]).toEqual([0, 0, 200]);
    expect(bucket.tryTake(199)).toBeGreaterThan(0);
    expect(bucket.tryTake(200)).toBe(0);
  });

  test('never holds more than its capacity after idling', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 5 }, 0, adaptive);
    expect(bucket.available(3_600_000)).toBe(10);
  });

  test('debits requests sent without a token, down to minus the capacity', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 5 }, 0, adaptive);
    bucket.debit(0, 12);
    expect(bucket.available(0)).toBe(-2);
    bucket.debit(0, 100);
    expect(bucket.available(0)).toBe(-10);
    expect(bucket.tryTake(0)).toBe(2200);
  });

  test('a throttle empties the bucket and halves the rate; the rate recovers stepwise after the hold', () => {
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 10 }, 0, adaptive);
    bucket.throttled(0);
    expect(bucket.available(0)).toBe(0);
    expect([0, 9_999, 10_000, 15_000, 20_000, 60_000].map((t) => bucket.rateFactor(t))).toEqual([
      0.5, 0.5, 0.6, 0.7, 0.8, 1,
    ]);
    // At half rate a token takes 200 ms instead of 100 ms.
    expect(bucket.tryTake(0)).toBe(200);
  });

  test('repeated throttles keep halving down to the floor', () => {
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 10 }, 0, adaptive);
    for (let i = 0; i < 6; i += 1) bucket.throttled(i);
    expect(bucket.rateFactor(10)).toBe(0.125);
  });

  test.each([
    [{ capacity: 0, refillPerSecond: 1 }, /capacity/],
    [{ capacity: 1, refillPerSecond: 0 }, /refillPerSecond/],
  ])('rejects %p', (config, message) => {
    expect(() => new TokenBucket(config, 0)).toThrow(message);
  });
});
