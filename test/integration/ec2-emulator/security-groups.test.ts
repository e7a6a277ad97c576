/**
 * DescribeSecurityGroups with tag filters, as EC2 answers them (what SecurityGroupGrant tag rules rely on):
 * `tag:<key>` matches the key with any of the values (OR within a filter), `tag-key` any group carrying the
 * key, filters AND together, `*`/`?` are wildcards unless escaped with a backslash, tags come back in
 * tagSet, and no match is an empty list, not an error. Tags are written with CreateTags/DeleteTags on sg- ids.
 */
import { CreateTagsCommand, DeleteTagsCommand, DescribeSecurityGroupsCommand, type Filter } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { type Fixture, NODE_SG, RDS_SG, VPC, startFixture, stopFixture } from './fixture.ts';

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
