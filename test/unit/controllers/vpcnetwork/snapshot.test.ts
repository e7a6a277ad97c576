import { describe, expect, test } from '@jest/globals';
import {
  describeChange,
  diffNetwork,
  podSubnetsInZone,
  type PodSubnet,
  type VpcNetworkSnapshot,
} from '../../../../operator/controllers/vpcnetwork/index.ts';

const subnet = (id: string, zone = 'us-west-2a', free = 100): PodSubnet => ({
  id,
  availabilityZone: zone,
  cidrBlock: `cidr-${id}`,
  ipv6CidrBlock: '',
  availableIpAddressCount: free,
});
const snapshot = (cidrBlocks: string[], podSubnets: PodSubnet[]): VpcNetworkSnapshot => ({
  vpcId: 'vpc-1',
  cidrBlocks,
  podSubnets,
});

describe('diffNetwork', () => {
  test('the first snapshot announces nothing (a restart does not re-announce the VPC)', () => {
    expect(diffNetwork(undefined, snapshot(['10.0.0.0/16'], [subnet('subnet-a')]))).toEqual([]);
  });

  test('added and removed CIDR blocks and tagged subnets; free-address counts are not changes', () => {
    const before = snapshot(
      ['10.0.0.0/16', '10.1.0.0/16'],
      [subnet('subnet-a', 'us-west-2a', 100), subnet('subnet-b')],
    );
    const after = snapshot(['10.0.0.0/16', '100.64.0.0/16'], [subnet('subnet-a', 'us-west-2a', 3), subnet('subnet-c')]);
    expect(diffNetwork(before, after)).toEqual([
      { kind: 'cidr-added', cidrBlock: '100.64.0.0/16' },
      { kind: 'cidr-removed', cidrBlock: '10.1.0.0/16' },
      { kind: 'subnet-added', subnet: subnet('subnet-c') },
      { kind: 'subnet-removed', subnet: subnet('subnet-b') },
    ]);
    expect(diffNetwork(after, after)).toEqual([]);
  });

  test('changes read as sentences for logs and events', () => {
    expect(describeChange({ kind: 'cidr-added', cidrBlock: '100.64.0.0/16' }, 'vpc-1')).toBe(
      'VPC vpc-1 gained CIDR block 100.64.0.0/16',
    );
    expect(describeChange({ kind: 'subnet-added', subnet: subnet('subnet-c') }, 'vpc-1')).toBe(
      'subnet subnet-c (cidr-subnet-c, us-west-2a, 100 free addresses) is tagged for pods',
    );
  });
});

describe('podSubnetsInZone', () => {
  test('only the zone asked for (a branch must be in its trunk’s zone); nothing before the first refresh', () => {
    const view = snapshot(['10.0.0.0/16'], [subnet('subnet-a'), subnet('subnet-b', 'us-west-2b')]);
    expect(podSubnetsInZone(view, 'us-west-2b').map((s) => s.id)).toEqual(['subnet-b']);
    expect(podSubnetsInZone(undefined, 'us-west-2a')).toEqual([]);
  });
});
