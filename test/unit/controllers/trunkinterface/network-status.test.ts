import { describe, expect, test } from '@jest/globals';
import {
  networkEvents,
  networkFields,
  type TrunkStatus,
} from '../../../../operator/controllers/trunkinterface/status.ts';
import type { VpcNetworkSnapshot } from '../../../../operator/controllers/vpcnetwork/index.ts';

const view: VpcNetworkSnapshot = {
  vpcId: 'vpc-1',
  cidrBlocks: ['10.0.0.0/16', '100.64.0.0/16'],
  podSubnets: [
    {
      id: 'subnet-a',
      availabilityZone: 'us-west-2a',
      cidrBlock: '100.64.0.0/24',
      ipv6CidrBlock: '',
      availableIpAddressCount: 9,
    },
    {
      id: 'subnet-b',
      availabilityZone: 'us-west-2b',
      cidrBlock: '100.64.1.0/24',
      ipv6CidrBlock: '',
      availableIpAddressCount: 9,
    },
  ],
};

describe('networkFields', () => {
  test('the VPC blocks and the pod subnets of the node’s own zone, without counts that churn', () => {
    expect(networkFields({ availabilityZone: 'us-west-2a' }, view)).toEqual({
      vpcCidrBlocks: ['10.0.0.0/16', '100.64.0.0/16'],
      podSubnets: [{ subnetId: 'subnet-a', cidrBlock: '100.64.0.0/24' }],
    });
  });

  test('nothing before the first refresh or before the zone is known: status keeps what it had', () => {
    expect(networkFields({ availabilityZone: 'us-west-2a' }, undefined)).toEqual({});
    expect(networkFields({}, view)).toEqual({});
  });
});

describe('networkEvents', () => {
  const before: TrunkStatus = {
    availabilityZone: 'us-west-2a',
    vpcCidrBlocks: ['10.0.0.0/16'],
    podSubnets: [{ subnetId: 'subnet-old', cidrBlock: '10.0.9.0/24' }],
  };

  test('a new CIDR block and a changed subnet list each give one Node event naming them', () => {
    const after = { ...before, ...networkFields(before, view) };
    expect(networkEvents(before, after)).toEqual([
      {
        reason: 'VpcCidrBlocksChanged',
        message: "The VPC's CIDR blocks changed: added 100.64.0.0/16; new subnets in them can be tagged for pods",
      },
      {
        reason: 'PodSubnetsChanged',
        message:
          'Subnets tagged for pods in us-west-2a changed: added subnet-a (100.64.0.0/24); removed subnet-old ' +
          "(10.0.9.0/24); branch ENIs use them when the node's subnet has no free address",
      },
    ]);
  });

  test('filling the fields for the first time, or writing the same again, announces nothing', () => {
    const first = { availabilityZone: 'us-west-2a' };
    const filled = { ...first, ...networkFields(first, view) };
    expect(networkEvents(first, filled)).toEqual([]);
    expect(networkEvents(filled, { ...filled })).toEqual([]);
  });
});
