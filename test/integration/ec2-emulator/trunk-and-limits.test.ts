import {
  AssociateTrunkInterfaceCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeTrunkInterfaceAssociationsCommand,
  DisassociateTrunkInterfaceCommand,
  type EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import {
  type Fixture,
  NODE_1,
  NODE_2,
  NODE_SG,
  RDS_SG,
  SUBNET_A,
  VPC,
  ec2Error,
  startFixture,
  stopFixture,
} from './fixture.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await startFixture();
});
afterEach(async () => {
  await stopFixture(fx);
});

async function createEni(
  ec2: EC2Client,
  subnetId: string,
  extra: { trunk?: boolean; groups?: string[] } = {},
): Promise<string> {
  const out = await ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: subnetId,
      Groups: extra.groups ?? [NODE_SG],
      ...(extra.trunk ? { InterfaceType: 'trunk' } : {}),
    }),
  );
  return out.NetworkInterface?.NetworkInterfaceId ?? '';
}

async function attachedTrunk(instanceId = NODE_1, subnetId = SUBNET_A): Promise<string> {
  const trunk = await createEni(fx.ec2, subnetId, { trunk: true });
  await fx.ec2.send(
    new AttachNetworkInterfaceCommand({ NetworkInterfaceId: trunk, InstanceId: instanceId, DeviceIndex: 2 }),
  );
  return trunk;
}

describe('trunk associations', () => {
  test('associate → branch in-use/branch without attachment; describe and disassociate round-trip', async () => {
    const trunk = await attachedTrunk();
    const branch = await createEni(fx.ec2, SUBNET_A, { groups: [RDS_SG] });
    const out = await fx.ec2.send(
      new AssociateTrunkInterfaceCommand({ BranchInterfaceId: branch, TrunkInterfaceId: trunk, VlanId: 7 }),
    );
    const association = out.InterfaceAssociation;
    expect(association).toMatchObject({
      BranchInterfaceId: branch,
      TrunkInterfaceId: trunk,
      InterfaceProtocol: 'VLAN',
      VlanId: 7,
    });
    expect(association?.AssociationId).toMatch(/^trunk-assoc-[0-9a-f]{17}$/);
    const [eni] =
      (await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [branch] }))).NetworkInterfaces ??
      [];
    expect([eni?.InterfaceType, eni?.Status, eni?.Attachment]).toEqual(['branch', 'in-use', undefined]);
    const listed = await fx.ec2.send(
      new DescribeTrunkInterfaceAssociationsCommand({
        Filters: [{ Name: 'trunk-interface-association.trunk-interface-id', Values: [trunk] }],
      }),
    );
    expect(listed.InterfaceAssociations?.map((a) => [a.AssociationId, a.VlanId])).toEqual([
      [association?.AssociationId, 7],
    ]);
    const gone = await fx.ec2.send(
      new DisassociateTrunkInterfaceCommand({ AssociationId: association?.AssociationId }),
    );
    expect(gone.Return).toBe(true);
    const [after] =
      (await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [branch] }))).NetworkInterfaces ??
      [];
    expect([after?.InterfaceType, after?.Status]).toEqual(['interface', 'available']);
    expect(
      (
        await ec2Error(
          fx.ec2.send(new DisassociateTrunkInterfaceCommand({ AssociationId: association?.AssociationId })),
        )
      ).name,
    ).toBe('InvalidAssociationID.NotFound');
  });

  test('VLAN ids are unique per trunk and the per-type branch limit (m5.large: 9) holds', async () => {
    const trunk = await attachedTrunk();
    const first = await createEni(fx.ec2, SUBNET_A);
    await fx.ec2.send(
      new AssociateTrunkInterfaceCommand({ BranchInterfaceId: first, TrunkInterfaceId: trunk, VlanId: 1 }),
    );
    const clash = await createEni(fx.ec2, SUBNET_A);
    expect(
      await ec2Error(
        fx.ec2.send(
          new AssociateTrunkInterfaceCommand({ BranchInterfaceId: clash, TrunkInterfaceId: trunk, VlanId: 1 }),
        ),
      ),
    ).toMatchObject({
      name: 'InvalidParameterValue',
      message: `VLAN id 1 is already in use on trunk interface '${trunk}'.`,
    });
    for (let vlan = 2; vlan <= 9; vlan++) {
      const branch = await createEni(fx.ec2, SUBNET_A);
      await fx.ec2.send(
        new AssociateTrunkInterfaceCommand({ BranchInterfaceId: branch, TrunkInterfaceId: trunk, VlanId: vlan }),
      );
    }
    expect(
      await ec2Error(
        fx.ec2.send(
          new AssociateTrunkInterfaceCommand({ BranchInterfaceId: clash, TrunkInterfaceId: trunk, VlanId: 10 }),
        ),
      ),
    ).toMatchObject({ name: 'AttachmentLimitExceeded', status: 400 });
  });

  test('one trunk per instance; a trunk must be attached; a branch cannot be associated twice', async () => {
    await attachedTrunk();
    const second = await createEni(fx.ec2, SUBNET_A, { trunk: true });
    expect(
      (
        await ec2Error(
          fx.ec2.send(
            new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second, InstanceId: NODE_1, DeviceIndex: 1 }),
          ),
        )
      ).name,
    ).toBe('InvalidParameterValue');
    const branch = await createEni(fx.ec2, SUBNET_A);
    expect(
      (
        await ec2Error(
          fx.ec2.send(
            new AssociateTrunkInterfaceCommand({ BranchInterfaceId: branch, TrunkInterfaceId: second, VlanId: 1 }),
          ),
        )
      ).name,
    ).toBe('InvalidParameterValue');
  });

  test('trunking gated off answers UnauthorizedOperation (403), as a non-allow-listed account', async () => {
    fx.emulator.control.setTrunkingEnabled(false);
    expect(
      await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, InterfaceType: 'trunk' }))),
    ).toMatchObject({
      name: 'UnauthorizedOperation',
      status: 403,
      attempts: 1,
    });
  });

  test('terminating an instance deletes DeleteOnTermination ENIs, drops associations, frees branches', async () => {
    const trunk = await attachedTrunk();
    const branch = await createEni(fx.ec2, SUBNET_A);
    await fx.ec2.send(
      new AssociateTrunkInterfaceCommand({ BranchInterfaceId: branch, TrunkInterfaceId: trunk, VlanId: 3 }),
    );
    const dump = fx.emulator.control.dump();
    const trunkAttachment = dump.networkInterfaces.find((e) => e.id === trunk)?.attachment?.attachmentId;
    const { ModifyNetworkInterfaceAttributeCommand } = await import('@aws-sdk/client-ec2');
    await fx.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: trunk,
        Attachment: { AttachmentId: trunkAttachment, DeleteOnTermination: true },
      }),
    );
    const primary = dump.instances.find((i) => i.id === NODE_1)?.primaryNetworkInterfaceId;
    fx.emulator.control.terminateInstance(NODE_1);
    const after = fx.emulator.control.dump();
    const ids = new Set(after.networkInterfaces.map((e) => e.id));
    expect([ids.has(trunk), ids.has(primary ?? ''), ids.has(branch)]).toEqual([false, false, true]);
    expect(after.associations).toEqual([]);
    expect(after.networkInterfaces.find((e) => e.id === branch)).toMatchObject({
      status: 'available',
      interfaceType: 'interface',
    });
    const instance = await fx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [NODE_1] }));
    expect(instance.Reservations?.[0]?.Instances?.[0]?.State).toEqual({ Code: 48, Name: 'terminated' });
  });
});

describe('limits', () => {
  test('ENI slots: m5.large takes 3 ENIs on card 0; duplicate device index is refused', async () => {
    const one = await createEni(fx.ec2, SUBNET_A);
    await fx.ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: one, InstanceId: NODE_1, DeviceIndex: 1 }),
    );
    const dup = await createEni(fx.ec2, SUBNET_A);
    expect(
      await ec2Error(
        fx.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: dup, InstanceId: NODE_1, DeviceIndex: 1 })),
      ),
    ).toMatchObject({
      name: 'InvalidParameterValue',
      message: `Instance '${NODE_1}' already has an interface attached at device index '1'.`,
    });
    await fx.ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: dup, InstanceId: NODE_1, DeviceIndex: 2 }),
    );
    const fourth = await createEni(fx.ec2, SUBNET_A);
    expect(
      await ec2Error(
        fx.ec2.send(
          new AttachNetworkInterfaceCommand({ NetworkInterfaceId: fourth, InstanceId: NODE_1, DeviceIndex: 3 }),
        ),
      ),
    ).toMatchObject({ name: 'AttachmentLimitExceeded', status: 400, attempts: 1 });
    expect(
      (
        await ec2Error(
          fx.ec2.send(
            new AttachNetworkInterfaceCommand({ NetworkInterfaceId: fourth, InstanceId: NODE_2, DeviceIndex: 1 }),
          ),
        )
      ).name,
    ).toBe('InvalidParameterCombination');
  });

  test('groups per ENI: 5 by default, 6 refused; raising the quota to 16 admits them', async () => {
    const extra = ['a', 'b', 'c', 'd'].map((name) => fx.emulator.control.addSecurityGroup({ vpcId: VPC, name }).id);
    const six = [NODE_SG, RDS_SG, ...extra];
    expect(
      await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: six }))),
    ).toMatchObject({
      name: 'SecurityGroupsPerInterfaceLimitExceeded',
      status: 400,
    });
    fx.emulator.control.setQuotas({ securityGroupsPerInterface: 16 });
    const out = await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: six }));
    expect(out.NetworkInterface?.Groups?.map((g) => g.GroupId)).toEqual(six);
  });

  test('groups per ENI on ModifyNetworkInterfaceAttribute: 6 refused and the ENI keeps its groups; 5 accepted', async () => {
    const extra = ['e', 'f', 'g', 'h'].map((name) => fx.emulator.control.addSecurityGroup({ vpcId: VPC, name }).id);
    const eni = await createEni(fx.ec2, SUBNET_A, { groups: [NODE_SG] });
    const groupsOf = async () =>
      (
        await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }))
      ).NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId);
    expect(
      await ec2Error(
        fx.ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [NODE_SG, RDS_SG, ...extra] }),
        ),
      ),
    ).toMatchObject({ name: 'SecurityGroupsPerInterfaceLimitExceeded', status: 400, attempts: 1 });
    expect(await groupsOf()).toEqual([NODE_SG]);
    const five = [NODE_SG, RDS_SG, ...extra.slice(0, 3)];
    await fx.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: five }));
    expect(await groupsOf()).toEqual(five);
  });

  test("groups must exist in the subnet's VPC", async () => {
    const [other] = fx.emulator.control.seed({
      vpcs: [{ cidrBlocks: ['10.99.0.0/16'], subnets: [], securityGroups: [{ name: 'elsewhere' }] }],
    }).securityGroupIds;
    expect(
      await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: [other ?? ''] }))),
    ).toMatchObject({
      name: 'InvalidParameter',
    });
  });

  test('subnet exhaustion: a /28 has 11 usable addresses, the 12th ENI fails', async () => {
    fx.emulator.control.addVpcCidr(VPC, '100.64.0.0/16');
    const subnet = fx.emulator.control.addSubnet({
      vpcId: VPC,
      cidrBlock: '100.64.0.0/28',
      availabilityZone: 'us-west-2a',
    });
    const ips: string[] = [];
    for (let i = 0; i < 11; i++) {
      const out = await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.id }));
      ips.push(out.NetworkInterface?.PrivateIpAddress ?? '');
    }
    expect(ips).toEqual(Array.from({ length: 11 }, (_, i) => `100.64.0.${i + 4}`));
    expect(await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.id })))).toMatchObject({
      name: 'InsufficientFreeAddressesInSubnet',
      status: 400,
      attempts: 1,
    });
    const described = await fx.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.id] }));
    expect(described.Subnets?.[0]?.AvailableIpAddressCount).toBe(0);
  });
});
