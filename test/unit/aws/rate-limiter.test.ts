import { describe, expect, test } from '@jest/globals';
import { Ec2RateLimiter, resolveBucketConfig } from '../../../operator/aws/rate-limiter.ts';
import type { CallPriority } from '../../../operator/aws/ec2-api.ts';
import { FakeScheduler, flush } from './fake-scheduler.ts';

describe('resolveBucketConfig', () => {
  test.each([
    ['AWS default with 10 % headroom', 'CreateNetworkInterface', {}, { capacity: 90, refillPerSecond: 5 }],
    ['associate bucket', 'AssociateTrunkInterface', {}, { capacity: 45, refillPerSecond: 5 }],
    ['describe bucket', 'DescribeNetworkInterfaces', {}, { capacity: 90, refillPerSecond: 20 }],
    ['tags bucket', 'CreateTags', {}, { capacity: 90, refillPerSecond: 10 }],
    ['scaled ×10', 'CreateNetworkInterface', { scale: 10 }, { capacity: 900, refillPerSecond: 50 }],
    ['no headroom', 'DeleteNetworkInterface', { burstHeadroom: 0 }, { capacity: 100, refillPerSecond: 5 }],
    [
      'override of one bucket',
      'CreateNetworkInterface',
      { buckets: { CreateNetworkInterface: { refillPerSecond: 20 } } },
      { capacity: 90, refillPerSecond: 20 },
    ],
  ] as const)('%s', (_name, bucket, options, expected) => {
    expect(resolveBucketConfig(bucket, options)).toEqual(expected);
  });

  test.each([[{ scale: 0 }], [{ burstHeadroom: 1 }]])('rejects %p', (options) => {
    expect(() => resolveBucketConfig('CreateTags', options)).toThrow(RangeError);
  });
});

describe('Ec2RateLimiter', () => {
  const tiny = { buckets: { CreateNetworkInterface: { capacity: 1, refillPerSecond: 1 } }, burstHeadroom: 0 };

  test('hands out scarce tokens by priority: critical, then normal, then background', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({ ...tiny, scheduler });
    const order: string[] = [];
    const call = (name: string, priority: CallPriority) =>
      limiter.run('CreateNetworkInterface', priority, undefined, async () => {
        order.push(name);
      });
    // The first call takes the only token; the rest queue while the bucket is empty.
    const all = [call('first', 'normal')];
    await flush();
    all.push(call('background-1', 'background'), call('normal-1', 'normal'), call('critical-1', 'critical'));
    all.push(call('background-2', 'background'), call('critical-2', 'critical'));
    await flush();
    await scheduler.advance(10_000, 100);
    await Promise.all(all);
    // 'background-1' was already waiting for the next token when the others arrived; after it, priority rules.
    expect(order).toEqual(['first', 'background-1', 'critical-1', 'critical-2', 'normal-1', 'background-2']);
  });

  test('paces calls to the refill rate after the burst', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({
      buckets: { CreateTags: { capacity: 5, refillPerSecond: 2 } },
      burstHeadroom: 0,
      scheduler,
    });
    const startedAt: number[] = [];
    const calls = Array.from({ length: 9 }, () =>
      limiter.run('CreateTags', 'normal', undefined, async () => {
        startedAt.push(scheduler.now());
      }),
    );
    await flush();
    await scheduler.advance(5_000, 50);
    await Promise.all(calls);
    expect(startedAt).toEqual([0, 0, 0, 0, 0, 500, 1000, 1500, 2000]);
  });

  test('an aborted waiter leaves the queue without spending a token', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({ ...tiny, scheduler });
    await limiter.run('CreateNetworkInterface', 'normal', undefined, async () => undefined);
    const controller = new AbortController();
    const waiting = limiter.run('CreateNetworkInterface', 'normal', controller.signal, async () => 'ran');
    await flush();
    controller.abort(new Error('pod deleted'));
    await expect(waiting).rejects.toThrow('pod deleted');
    await scheduler.advance(1_000);
    expect(limiter.tokens('CreateNetworkInterface')).toBe(1);
  });

  test('the first HTTP request of a call is covered by its token; extra pages and retries are debited', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({
      buckets: { DescribeNetworkInterfaces: { capacity: 10, refillPerSecond: 1 } },
      burstHeadroom: 0,
      scheduler,
    });
    await limiter.run('DescribeNetworkInterfaces', 'background', undefined, async () => {
      limiter.onRequest('DescribeNetworkInterfaces', { isThrottled: false });
      limiter.onRequest('DescribeNetworkInterfaces', { isThrottled: false });
      limiter.onRequest('DescribeNetworkInterfaces', { isThrottled: false });
    });
    expect(limiter.tokens('DescribeNetworkInterfaces')).toBe(7);
    // A request reported outside any gated call (no token taken) is debited too.
    limiter.onRequest('DescribeNetworkInterfaces', { isThrottled: false });
    expect(limiter.tokens('DescribeNetworkInterfaces')).toBe(6);
  });

  test('each further page of a call waits for its own token, behind callers of higher priority', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({
      buckets: { DescribeNetworkInterfaces: { capacity: 2, refillPerSecond: 1 } },
      burstHeadroom: 0,
      scheduler,
    });
    const order: string[] = [];
    const request = (name: string) => {
      order.push(`${name}@${scheduler.now()}`);
      limiter.onRequest('DescribeNetworkInterfaces', { isThrottled: false });
    };
    // A background sweep of four pages: the first page spends the call's token, each further page waits.
    const sweep = limiter.run('DescribeNetworkInterfaces', 'background', undefined, async () => {
      for (let page = 1; page <= 4; page += 1) {
        if (page > 1) await limiter.beforeFurtherRequest();
        request(`sweep-${page}`);
      }
    });
    await flush();
    // A pod's describe arrives while the sweep waits for its third page's token: it goes first.
    await scheduler.advance(500, 50);
    const pod = limiter.run('DescribeNetworkInterfaces', 'critical', undefined, async () => request('pod'));
    await flush();
    await scheduler.advance(5_000, 50);
    await Promise.all([sweep, pod]);
    // Debited pages would all have gone at 0; sweep-3 was already waiting for the gate when the pod came.
    expect(order).toEqual(['sweep-1@0', 'sweep-2@0', 'sweep-3@1000', 'pod@2000', 'sweep-4@3000']);
  });

  test('caps calls in flight per bucket so tokens are not taken long before the wire', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({ maxInFlightPerBucket: 2, scheduler });
    let inFlight = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const calls = Array.from({ length: 5 }, () =>
      limiter.run('CreateTags', 'normal', undefined, async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight -= 1;
      }),
    );
    for (let i = 0; i < 5; i += 1) {
      await flush();
      releases.shift()?.();
    }
    await Promise.all(calls);
    expect(peak).toBe(2);
    expect(limiter.tokens('CreateTags')).toBe(85);
  });

  test('a throttled response slows the bucket down', async () => {
    const scheduler = new FakeScheduler();
    const limiter = new Ec2RateLimiter({ scheduler });
    expect(limiter.rateFactor('AssociateTrunkInterface')).toBe(1);
    limiter.onRequest('AssociateTrunkInterface', { isThrottled: true });
    expect(limiter.rateFactor('AssociateTrunkInterface')).toBe(0.5);
    expect(limiter.tokens('AssociateTrunkInterface')).toBeLessThanOrEqual(0);
    expect(limiter.rateFactor('CreateNetworkInterface')).toBe(1);
  });
});
