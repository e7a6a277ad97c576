import { describe, expect, test } from '@jest/globals';
import type { CallOptions, InstanceTypeNetworkInfo } from '../../../operator/aws/ec2-api.ts';
import { Ec2ThrottledError } from '../../../operator/aws/ec2-errors.ts';
import { createLimitsProvider, generatedLimits, limitsFromDescribe } from '../../../operator/limits/index.ts';

/** DescribeInstanceTypes double: knows the given types, records calls, can fail N times. */
function fakeEc2(known: InstanceTypeNetworkInfo[], failures = 0) {
  const calls: string[][] = [];
  let remainingFailures = failures;
  return {
    calls,
    describeInstanceTypes: async (types: string[], _options?: CallOptions) => {
      calls.push(types);
      if (remainingFailures > 0) {
        remainingFailures -= 1;
        throw new Ec2ThrottledError('slow down', { code: 'RequestLimitExceeded', action: 'DescribeInstanceTypes' });
      }
      return known.filter((k) => types.includes(k.instanceType));
    },
  };
}

const futureType: InstanceTypeNetworkInfo = {
  instanceType: 'z9.large',
  maximumNetworkInterfaces: 4,
  ipv4AddressesPerInterface: 15,
  defaultNetworkCardIndex: 0,
  networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 4 }],
  hypervisor: 'nitro',
  bareMetal: false,
};

describe('generated table', () => {
  test('records the module version it came from and covers every instance type', () => {
    const table = generatedLimits();
    expect(table.source).toEqual({
      module: 'github.com/aws/amazon-vpc-resource-controller-k8s/pkg/aws/vpc',
      version: 'v1.8.2',
    });
    expect(Object.keys(table.instanceTypes).length).toBeGreaterThan(1000);
  });
});

describe('createLimitsProvider', () => {
  test('m5.large from the table: 3 ENIs, 10 IPv4 per ENI, 9 branches', async () => {
    const ec2 = fakeEc2([]);
    const limits = await createLimitsProvider({ ec2, overrides: () => ({}) }).get('m5.large');
    expect(limits).toEqual({
      instanceType: 'm5.large',
      maxEnis: 3,
      ipv4PerEni: 10,
      isTrunkingCompatible: true,
      branchEnis: 9,
      defaultNetworkCardIndex: 0,
      networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 3 }],
      source: 'table',
    });
    expect(ec2.calls).toEqual([]);
  });

  test('t3.medium is known but not trunking-compatible (0 branches)', async () => {
    const limits = await createLimitsProvider({ ec2: fakeEc2([]), overrides: () => ({}) }).get('t3.medium');
    expect(limits).toMatchObject({
      maxEnis: 3,
      ipv4PerEni: 6,
      isTrunkingCompatible: false,
      branchEnis: 0,
      source: 'table',
    });
  });

  test('the table wins over an override for a type it knows', async () => {
    const limits = await createLimitsProvider({ ec2: fakeEc2([]), overrides: () => ({ 'm5.large': 2 }) }).get(
      'm5.large',
    );
    expect(limits?.branchEnis).toBe(9);
  });

  test('a type missing from the table: DescribeInstanceTypes for ENIs and IPs, branches from the override', async () => {
    const ec2 = fakeEc2([futureType]);
    const limits = await createLimitsProvider({ ec2, overrides: () => ({ 'z9.large': 12 }) }).get('z9.large');
    expect(limits).toEqual({
      instanceType: 'z9.large',
      maxEnis: 4,
      ipv4PerEni: 15,
      isTrunkingCompatible: true,
      branchEnis: 12,
      defaultNetworkCardIndex: 0,
      networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 4 }],
      source: 'describe-and-override',
    });
    expect(ec2.calls).toEqual([['z9.large']]);
  });

  test('a type missing from the table without an override is unsupported, never guessed', async () => {
    const ec2 = fakeEc2([futureType]);
    expect(await createLimitsProvider({ ec2, overrides: () => ({}) }).get('z9.large')).toBeUndefined();
  });

  test('an override for a type EC2 does not know is unsupported', async () => {
    const ec2 = fakeEc2([]);
    expect(
      await createLimitsProvider({ ec2, overrides: () => ({ 'nope.large': 5 }) }).get('nope.large'),
    ).toBeUndefined();
  });

  test('DescribeInstanceTypes is cached; the override is read live', async () => {
    const ec2 = fakeEc2([futureType]);
    let override = 12;
    const provider = createLimitsProvider({ ec2, overrides: () => ({ 'z9.large': override }) });
    await provider.get('z9.large');
    override = 20;
    expect((await provider.get('z9.large'))?.branchEnis).toBe(20);
    expect(ec2.calls).toEqual([['z9.large']]);
  });

  test('a failed DescribeInstanceTypes is not cached', async () => {
    const ec2 = fakeEc2([futureType], 1);
    const provider = createLimitsProvider({ ec2, overrides: () => ({ 'z9.large': 12 }) });
    await expect(provider.get('z9.large')).rejects.toBeInstanceOf(Ec2ThrottledError);
    expect((await provider.get('z9.large'))?.branchEnis).toBe(12);
    expect(ec2.calls.length).toBe(2);
  });
});

describe('limitsFromDescribe', () => {
  test.each([
    ['no override', undefined, undefined],
    ['negative override', -1, undefined],
    ['fractional override', 2.5, undefined],
    ['zero: known, not trunking', 0, { isTrunkingCompatible: false, branchEnis: 0 }],
    ['positive', 7, { isTrunkingCompatible: true, branchEnis: 7 }],
  ])('%s', (_name, override, expected) => {
    const limits = limitsFromDescribe(futureType, override);
    if (expected === undefined) expect(limits).toBeUndefined();
    else expect(limits).toMatchObject(expected);
  });
});
