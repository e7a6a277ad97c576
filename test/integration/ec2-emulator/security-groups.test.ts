/**
 * Security groups as EC2 answers for them. DescribeSecurityGroups with tag filters (what SecurityGroupGrant tag
 * rules rely on): `tag:<key>` matches the key with any of the values (OR within a filter), `tag-key` any group
 * carrying the key, filters AND together, `*`/`?` are wildcards unless escaped with a backslash, tags come back
 * in tagSet, and no match is an empty list, not an error. Tags are written with CreateTags/DeleteTags on sg- ids.
 * Groups by name (what SecurityGroupPolicy groupNames rely on): the `group-name` filter within a `vpc-id`, names
 * unique per VPC regardless of case, GroupName.N only for a default VPC (there is none), and the rules of
 * CreateSecurityGroup and DeleteSecurityGroup — a group an ENI carries cannot be deleted.
 */
import {
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeSecurityGroupsCommand,
  type Filter,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { type Fixture, NODE_SG, RDS_SG, SUBNET_A, VPC, ec2Error, startFixture, stopFixture } from './fixture.ts';

let fx: Fixture;
let otherVpcGroup: string;
beforeEach(async () => {
  fx = await startFixture();
  const otherVpc = fx.emulator.control.seed({
    vpcs: [
      {
        cidrBlocks: ['10.99.0.0/16'],
        subnets: [],
        securityGroups: [{ name: 'elsewhere', tags: { team: 'payments' } }],
      },
    ],
  });
  otherVpcGroup = otherVpc.securityGroupIds[0] ?? '';
  await fx.ec2.send(new CreateTagsCommand({ Resources: [RDS_SG], Tags: [{ Key: 'team', Value: 'payments' }] }));
  await fx.ec2.send(new CreateTagsCommand({ Resources: [NODE_SG], Tags: [{ Key: 'team', Value: 'platform*' }] }));
});
afterEach(async () => {
  await stopFixture(fx);
});

async function ids(filters: Filter[]): Promise<string[]> {
  const out = await fx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }));
  return (out.SecurityGroups ?? []).map((group) => group.GroupId ?? '').sort();
}

describe('DescribeSecurityGroups tag filters', () => {
  test('tag:<key> matches any listed value; vpc-id narrows it to the VPC', async () => {
    expect(await ids([{ Name: 'tag:team', Values: ['payments'] }])).toEqual([RDS_SG, otherVpcGroup].sort());
    expect(
      await ids([
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'tag:team', Values: ['payments'] },
      ]),
    ).toEqual([RDS_SG]);
    expect(
      await ids([
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'tag:team', Values: ['payments', 'platform*'] },
      ]),
    ).toEqual([NODE_SG, RDS_SG].sort());
  });

  test('tag-key matches any value of the key; an absent key matches nothing (an empty list, not an error)', async () => {
    expect(
      await ids([
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'tag-key', Values: ['team'] },
      ]),
    ).toEqual([NODE_SG, RDS_SG].sort());
    expect(await ids([{ Name: 'tag-key', Values: ['no-such-key'] }])).toEqual([]);
  });

  test('* is a wildcard unless escaped with a backslash', async () => {
    const inVpc = { Name: 'vpc-id', Values: [VPC] };
    expect(await ids([inVpc, { Name: 'tag:team', Values: ['p*'] }])).toEqual([NODE_SG, RDS_SG].sort());
    expect(await ids([inVpc, { Name: 'tag:team', Values: ['platform\\*'] }])).toEqual([NODE_SG]);
    expect(await ids([inVpc, { Name: 'tag:team', Values: ['pay\\*'] }])).toEqual([]);
  });

  test('tags come back in TagSet, and DeleteTags takes a group out of the match', async () => {
    const out = await fx.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [RDS_SG] }));
    expect(out.SecurityGroups?.[0]?.Tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'payments' }]));
    await fx.ec2.send(new DeleteTagsCommand({ Resources: [RDS_SG], Tags: [{ Key: 'team' }] }));
    expect(
      await ids([
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'tag:team', Values: ['payments'] },
      ]),
    ).toEqual([]);
  });
});

describe('CreateSecurityGroup, DeleteSecurityGroup and the group-name filter', () => {
  const create = (name: string, tags: Record<string, string> = {}) =>
    fx.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: `${name} group`,
        VpcId: VPC,
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      }),
    );
  const byName = async (name: string, vpcId = VPC) => {
    const out = await fx.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'group-name', Values: [name] },
        ],
      }),
    );
    return (out.SecurityGroups ?? []).map((group) => ({ id: group.GroupId, name: group.GroupName }));
  };

  test('a created group is found by group-name within its VPC, with its tags, and not in another VPC', async () => {
    const created = await create('orders-db', { team: 'orders' });
    expect(created.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(created.Tags).toEqual([{ Key: 'team', Value: 'orders' }]);
    expect(await byName('orders-db')).toEqual([{ id: created.GroupId, name: 'orders-db' }]);
    expect(await byName('orders-db', 'vpc-0123456789abcdef0')).toEqual([]);
    expect(await ids([{ Name: 'tag:team', Values: ['orders'] }])).toEqual([created.GroupId]);
  });

  test('names are unique per VPC regardless of case; sg- names, bad characters and a missing VPC are refused', async () => {
    await create('Orders-Cache');
    expect((await ec2Error(create('orders-cache'))).name).toBe('InvalidGroup.Duplicate');
    expect((await ec2Error(create('sg-orders'))).name).toBe('InvalidParameterValue');
    expect((await ec2Error(create('orders\u00e9'))).name).toBe('InvalidParameterValue');
    const noVpc = await ec2Error(fx.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x' })));
    expect(noVpc).toMatchObject({ name: 'VPCIdNotSpecified', message: 'No default VPC for this user' });
  });

  test('GroupName.N describes only a default VPC, and there is none: VPCIdNotSpecified', async () => {
    const error = await ec2Error(fx.ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['eks-workshop-node'] })));
    expect(error.name).toBe('VPCIdNotSpecified');
  });

  test('a group an ENI carries cannot be deleted; once free it goes, and its name can be taken by a new group', async () => {
    const first = await create('batch-jobs');
    const eni = await fx.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: [first.GroupId ?? ''], Description: 'holder' }),
    );
    const inUse = await ec2Error(fx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: first.GroupId })));
    expect(inUse).toMatchObject({
      name: 'DependencyViolation',
      message: `resource ${first.GroupId} has a dependent object`,
    });
    expect(await byName('batch-jobs')).toEqual([{ id: first.GroupId, name: 'batch-jobs' }]);

    await fx.ec2.send(
      new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterface?.NetworkInterfaceId }),
    );
    const deleted = await fx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: first.GroupId }));
    expect(deleted).toMatchObject({ Return: true, GroupId: first.GroupId });
    expect(await byName('batch-jobs')).toEqual([]);
    expect(
      (await ec2Error(fx.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [first.GroupId ?? ''] })))).name,
    ).toBe('InvalidGroup.NotFound');

    const second = await create('batch-jobs');
    expect(second.GroupId).not.toBe(first.GroupId);
    expect(await byName('batch-jobs')).toEqual([{ id: second.GroupId, name: 'batch-jobs' }]);
  });

  test("a VPC's default group cannot be deleted; unknown and malformed ids are told apart", async () => {
    const [defaultGroup] = await byName('default');
    const cannot = await ec2Error(fx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: defaultGroup?.id })));
    expect(cannot.name).toBe('CannotDelete');
    const unknown = await ec2Error(fx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-0123456789abcdef9' })));
    expect(unknown.name).toBe('InvalidGroup.NotFound');
    const malformed = await ec2Error(fx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-nope' })));
    expect(malformed.name).toBe('InvalidGroupId.Malformed');
  });
});
