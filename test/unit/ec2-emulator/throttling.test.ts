import { describe, expect, test } from '@jest/globals';
import { Throttler, bucketFor } from '../../../hack/ec2-emulator/throttling.ts';

/**
 * Every action sgp-operator or EKS's VPC resource controller calls, with the bucket AWS publishes for it
 * (EC2 developer guide, "Request throttling for the Amazon EC2 API": capacity / refill per second). Actions
 * without a published limit of their own fall in the generic mutating bucket (50 / 5).
 */
describe('token buckets match AWS published limits', () => {
  test.each([
    ['CreateNetworkInterface', false, 100, 5],
    ['DeleteNetworkInterface', false, 100, 5],
    ['ModifyNetworkInterfaceAttribute', false, 100, 5],
    ['CreateTags', false, 100, 10],
    ['DeleteTags', false, 100, 10],
    ['AttachNetworkInterface', false, 50, 5],
    ['DetachNetworkInterface', false, 50, 5],
    ['AssociateTrunkInterface', false, 50, 5],
    ['DisassociateTrunkInterface', false, 50, 5],
    ['CreateNetworkInterfacePermission', false, 50, 5],
    ['DescribeInstances', false, 100, 20],
    ['DescribeInstances', true, 50, 10],
    ['DescribeNetworkInterfaces', true, 50, 10],
    ['DescribeSecurityGroups', true, 50, 10],
    ['DescribeSubnets', true, 100, 20],
    ['DescribeInstanceTypes', false, 100, 20],
    ['DescribeTrunkInterfaceAssociations', false, 100, 20],
  ])('%s (unfiltered: %s) draws from a %i / %i per s bucket', (action, isUnfiltered, capacity, refillPerSecond) => {
    expect(bucketFor(action, isUnfiltered).shape).toEqual({ capacity, refillPerSecond });
  });

  test('CreateNetworkInterfacePermission: 50 at once, then 5 per second', () => {
    const throttler = new Throttler({ enabled: true });
    const taken = (nowMs: number, count: number) =>
      Array.from({ length: count }, () => throttler.tryTake('CreateNetworkInterfacePermission', false, nowMs)).filter(
        Boolean,
      ).length;
    expect([taken(0, 60), taken(1000, 10)]).toEqual([50, 5]);
  });
});
