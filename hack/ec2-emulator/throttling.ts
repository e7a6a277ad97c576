import type { ThrottlingConfig } from './types.ts';

/**
 * AWS's per-account, per-action token buckets (docs/ec2-semantics.md#throttling: capacity / refill per second), scaled by `scale`.
 * Refill is computed lazily from the clock on each take, so idle buckets cost nothing.
 */
interface BucketShape {
  capacity: number;
  refillPerSecond: number;
}

const MUTATING_ENI: BucketShape = { capacity: 100, refillPerSecond: 5 };
const TAGS: BucketShape = { capacity: 100, refillPerSecond: 10 };
/**
 * AWS's generic "mutating actions" bucket: every mutating action without a published limit of its own, among
 * them Attach/DetachNetworkInterface, Associate/DisassociateTrunkInterface and CreateNetworkInterfacePermission
 * (which EKS's controller calls once per ENI). Checked against AWS's published table (EC2 developer guide,
 * "Request throttling for the Amazon EC2 API"), which lists the ENI create/delete/modify and tag actions above
 * with their own buckets and none of these.
 */
const OTHER_MUTATING: BucketShape = { capacity: 50, refillPerSecond: 5 };
const DESCRIBE: BucketShape = { capacity: 100, refillPerSecond: 20 };
const UNFILTERED_DESCRIBE: BucketShape = { capacity: 50, refillPerSecond: 10 };

const SHAPES: Record<string, BucketShape> = {
  CreateNetworkInterface: MUTATING_ENI,
  DeleteNetworkInterface: MUTATING_ENI,
  ModifyNetworkInterfaceAttribute: MUTATING_ENI,
  AssignPrivateIpAddresses: MUTATING_ENI,
  CreateTags: TAGS,
  DeleteTags: TAGS,
};

/** These three draw from a smaller bucket when called with neither pagination nor filters (nor ids). */
const UNFILTERED_SENSITIVE = new Set(['DescribeInstances', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups']);

export function bucketFor(action: string, isUnfiltered: boolean): { key: string; shape: BucketShape } {
  if (action.startsWith('Describe')) {
    if (isUnfiltered && UNFILTERED_SENSITIVE.has(action))
      return { key: `${action}:unfiltered`, shape: UNFILTERED_DESCRIBE };
    return { key: action, shape: DESCRIBE };
  }
  return { key: action, shape: SHAPES[action] ?? OTHER_MUTATING };
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class Throttler {
  #config: ThrottlingConfig;
  readonly #buckets = new Map<string, Bucket>();

  constructor(config: ThrottlingConfig) {
    this.#config = config;
  }

  configure(config: ThrottlingConfig): void {
    this.#config = config;
    this.#buckets.clear();
  }

  /** false when the call must be answered with RequestLimitExceeded. */
  tryTake(action: string, isUnfiltered: boolean, nowMs: number): boolean {
    if (!this.#config.enabled) return true;
    const scale = this.#config.scale ?? 1;
    const { key, shape } = bucketFor(action, isUnfiltered);
    const capacity = Math.max(1, shape.capacity * scale);
    const refill = shape.refillPerSecond * scale;
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = { tokens: capacity, updatedAt: nowMs }));
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * refill);
    bucket.updatedAt = nowMs;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
