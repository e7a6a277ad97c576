/** Small numeric helpers for benchmark figures (no dependencies, no clock reads). */

/** Nearest-rank percentile of unsorted samples; undefined for no samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}

/** p50/p95/p99/max of latencies in milliseconds, rounded to whole ms. */
export function latencySummary(samplesMs: readonly number[]): {
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
} {
  const at = (p: number) => {
    const value = percentile(samplesMs, p);
    return value === undefined ? null : Math.round(value);
  };
  return { p50Ms: at(50), p95Ms: at(95), p99Ms: at(99), maxMs: at(100) };
}

/**
 * The least time EC2's token buckets allow for `calls` calls of one action starting with `available` tokens
 * and refilling at `refillPerSecond`: the first `available` go at once, the rest at the refill rate.
 */
export function bucketFloorSeconds(calls: number, available: number, refillPerSecond: number): number {
  return Math.max(0, calls - available) / refillPerSecond;
}

/** Runs `task` over `items` with at most `limit` in flight; resolves when all are done (rejects on the first error). */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
