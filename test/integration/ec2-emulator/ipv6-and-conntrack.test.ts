/**
 * Conformance of the emulator's IPv6 and connection-tracking behaviour, through the real SDK: IPv6 blocks on
 * VPCs and subnets, IPv6 addresses on CreateNetworkInterface (count, explicit, subnet auto-assign) with EC2's
 * refusals, and ConnectionTrackingSpecification on create, modify and the instance's primary ENI.
 */
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { type Fixture, NODE_SG, SUBNET_A, SUBNET_B, VPC, ec2Error, startFixture, stopFixture } from './fixture.ts';

const VPC_V6 = '2600:1f14:abc:1200::/56';
const SUBNET_A_V6 = '2600:1f14:abc:1201::/64';

let fx: Fixture;
beforeEach(async () => {
  fx = await startFixture();
  fx.emulator.control.addVpcIpv6Cidr(VPC, VPC_V6);
  fx.emulator.control.addSubnetIpv6Cidr(SUBNET_A, SUBNET_A_V6);
});
afterEach(async () => {
  await stopFixture(fx);
});

const create = (input: Partial<ConstructorParameters<typeof CreateNetworkInterfaceCommand>[0]>) =>
  fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: [NODE_SG], ...input }));

const eniCount = () => fx.emulator.control.dump().networkInterfaces.length;

describe('IPv6 blocks', () => {
  test('DescribeVpcs and DescribeSubnets show the associated IPv6 blocks; the subnet filter finds the subnet', async () => {
    const vpc = (await fx.ec2.send(new DescribeVpcsCommand({ VpcIds: [VPC] }))).Vpcs?.[0];
    expect(vpc?.Ipv6CidrBlockAssociationSet?.map((a) => [a.Ipv6CidrBlock, a.Ipv6CidrBlockState?.State])).toEqual([
      [VPC_V6, 'associated'],
    ]);
    const subnets = await fx.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [SUBNET_A, SUBNET_B] }));
    expect(
      subnets.Subnets?.map((s) => [
        s.SubnetId,
        s.Ipv6CidrBlockAssociationSet?.map((a) => [a.Ipv6CidrBlock, a.Ipv6CidrBlockState?.State]),
        s.AssignIpv6AddressOnCreation,
      ]),
    ).toEqual([
      [SUBNET_A, [[SUBNET_A_V6, 'associated']], false],
      [SUBNET_B, [], false],
    ]);
    const filtered = await fx.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [{ Name: 'ipv6-cidr-block-association.ipv6-cidr-block', Values: [SUBNET_A_V6] }],
      }),
    );
    expect(filtered.Subnets?.map((s) => s.SubnetId)).toEqual([SUBNET_A]);
  });

  test('a subnet block must be a /64 of a VPC block, one per subnet, not shared; addresses are canonical', () => {
    const control = fx.emulator.control;
    expect(() => control.addSubnetIpv6Cidr(SUBNET_B, '2600:1f14:abc:1300::/64')).toThrow(/is invalid for/);
    expect(() => control.addSubnetIpv6Cidr(SUBNET_B, '2600:1f14:abc:1202::/56')).toThrow(/ipv6-cidr-block/);
    expect(() => control.addSubnetIpv6Cidr(SUBNET_B, SUBNET_A_V6)).toThrow(/conflicts with another subnet/);
    expect(() => control.addSubnetIpv6Cidr(SUBNET_A, '2600:1f14:abc:1202::/64')).toThrow(/already has/);
    expect(control.addSubnetIpv6Cidr(SUBNET_B, '2600:1F14:0ABC:1202:0::/64').ipv6CidrBlock).toBe(
      '2600:1f14:abc:1202::/64',
    );
  });
});

describe('IPv6 addresses on CreateNetworkInterface', () => {
  test('Ipv6AddressCount=1 gives one address of the subnet block, shown by Describe and found by its filter', async () => {
    const eni = (await create({ Ipv6AddressCount: 1 })).NetworkInterface;
    const address = eni?.Ipv6Address ?? '';
    expect(address.startsWith('2600:1f14:abc:1201:')).toBe(true);
    expect(eni?.Ipv6Addresses?.map((a) => a.Ipv6Address)).toEqual([address]);
    const found = await fx.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'ipv6-addresses.ipv6-address', Values: [address] }] }),
    );
    expect(found.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.Ipv6Address])).toEqual([
      [eni?.NetworkInterfaceId, address],
    ]);
  });

  test('asking IPv6 in a subnet without an IPv6 block is refused and creates nothing', async () => {
    const before = eniCount();
    expect(await ec2Error(create({ SubnetId: SUBNET_B, Ipv6AddressCount: 1 }))).toMatchObject({
      name: 'InvalidParameterValue',
      status: 400,
      message: expect.stringContaining(`The subnet '${SUBNET_B}' does not have an IPv6 CIDR block`),
    });
    expect(
      await ec2Error(create({ SubnetId: SUBNET_B, Ipv6Addresses: [{ Ipv6Address: '2600:1f14:abc:1201::10' }] })),
    ).toMatchObject({ name: 'InvalidParameterValue' });
    expect(eniCount()).toBe(before);
    expect(fx.emulator.control.mutations()).toEqual([]);
    // Without an IPv6 request the same subnet is fine, and the ENI has no IPv6 address.
    const plain = (await create({ SubnetId: SUBNET_B })).NetworkInterface;
    expect([plain?.Ipv6Address, plain?.Ipv6Addresses]).toEqual([undefined, []]);
  });

  test('explicit addresses: taken, outside the block, or combined with a count are refused; a deleted ENI frees them', async () => {
    const address = '2600:1f14:abc:1201::10';
    const first = (await create({ Ipv6Addresses: [{ Ipv6Address: address }] })).NetworkInterface;
    expect(first?.Ipv6Address).toBe(address);
    expect(await ec2Error(create({ Ipv6Addresses: [{ Ipv6Address: address }] }))).toMatchObject({
      name: 'InvalidIPAddress.InUse',
    });
    expect(await ec2Error(create({ Ipv6Addresses: [{ Ipv6Address: '2600:1f14:abc:1299::10' }] }))).toMatchObject({
      name: 'InvalidIPAddress.InUse',
    });
    expect(
      await ec2Error(create({ Ipv6AddressCount: 1, Ipv6Addresses: [{ Ipv6Address: '2600:1f14:abc:1201::11' }] })),
    ).toMatchObject({ name: 'InvalidParameterCombination' });
    await fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: first?.NetworkInterfaceId }));
    const again = (await create({ Ipv6Addresses: [{ Ipv6Address: address }] })).NetworkInterface;
    expect(again?.Ipv6Address).toBe(address);
  });

  test('a subnet with auto-assign gives one address unless the request says 0', async () => {
    const subnet = fx.emulator.control.addSubnet({
      vpcId: VPC,
      cidrBlock: '10.42.0.0/24',
      ipv6CidrBlock: '2600:1f14:abc:1210::/64',
      assignIpv6AddressOnCreation: true,
      availabilityZone: 'us-west-2a',
    });
    const auto = (await create({ SubnetId: subnet.id })).NetworkInterface;
    expect(auto?.Ipv6Addresses).toHaveLength(1);
    const none = (await create({ SubnetId: subnet.id, Ipv6AddressCount: 0 })).NetworkInterface;
    expect(none?.Ipv6Addresses).toEqual([]);
    expect(() =>
      fx.emulator.control.addSubnet({
        vpcId: VPC,
        cidrBlock: '10.42.1.0/24',
        assignIpv6AddressOnCreation: true,
        availabilityZone: 'us-west-2a',
      }),
    ).toThrow(/assign-ipv6-address-on-creation/);
  });
});

describe('connection tracking', () => {
  test('ConnectionTrackingSpecification on create is shown by Describe; an ENI without one reports none', async () => {
    const spec = { TcpEstablishedTimeout: 3600, UdpStreamTimeout: 120, UdpTimeout: 45 };
    const eni = (await create({ ConnectionTrackingSpecification: spec })).NetworkInterface;
    expect(eni?.ConnectionTrackingConfiguration).toEqual(spec);
    const described = await fx.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni?.NetworkInterfaceId ?? ''] }),
    );
    expect(described.NetworkInterfaces?.[0]?.ConnectionTrackingConfiguration).toEqual(spec);
    expect((await create({})).NetworkInterface?.ConnectionTrackingConfiguration).toBeUndefined();
  });

  test.each([
    ['TcpEstablishedTimeout', { TcpEstablishedTimeout: 59 }],
    ['TcpEstablishedTimeout', { TcpEstablishedTimeout: 432001 }],
    ['UdpStreamTimeout', { UdpStreamTimeout: 181 }],
    ['UdpTimeout', { UdpTimeout: 29 }],
  ])('%s out of EC2 bounds is refused (%j)', async (member, spec) => {
    const before = eniCount();
    expect(await ec2Error(create({ ConnectionTrackingSpecification: spec }))).toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringContaining(`ConnectionTrackingSpecification.${member}`),
    });
    expect(eniCount()).toBe(before);
  });

  test('ModifyNetworkInterfaceAttribute changes the given timeouts and keeps the others', async () => {
    const eni = (await create({ ConnectionTrackingSpecification: { TcpEstablishedTimeout: 3600, UdpTimeout: 45 } }))
      .NetworkInterface;
    const id = eni?.NetworkInterfaceId ?? '';
    await fx.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        ConnectionTrackingSpecification: { UdpTimeout: 60 },
      }),
    );
    const described = await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
    expect(described.NetworkInterfaces?.[0]?.ConnectionTrackingConfiguration).toEqual({
      TcpEstablishedTimeout: 3600,
      UdpTimeout: 60,
    });
    expect(
      await ec2Error(
        fx.ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: id,
            Groups: [NODE_SG],
            ConnectionTrackingSpecification: { UdpTimeout: 30 },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterCombination' });
  });

  test("DescribeInstances shows the primary ENI's timeouts set at launch", async () => {
    const launched = fx.emulator.control.launchInstance({
      instanceType: 'm5.large',
      subnet: SUBNET_A,
      securityGroups: [NODE_SG],
      connectionTracking: { tcpEstablishedTimeout: 7200, udpStreamTimeout: 90 },
    });
    const out = await fx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [launched.id] }));
    const primary = out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces?.[0];
    expect(primary?.ConnectionTrackingConfiguration).toEqual({ TcpEstablishedTimeout: 7200, UdpStreamTimeout: 90 });
  });
});
