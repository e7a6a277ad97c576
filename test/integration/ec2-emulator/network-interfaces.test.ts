import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateNetworkInterfacePermissionCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DeleteTagsCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeNetworkInterfaces,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import {
  type Fixture,
  NODE_1,
  NODE_SG,
  RDS_SG,
  SUBNET_A,
  SUBNET_B,
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

const createBranch = (tags: Record<string, string> = {}, groups = [RDS_SG]) =>
  fx.ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: SUBNET_A,
      Groups: groups,
      Description: 'aws-k8s-branch-eni',
      TagSpecifications: [
        { ResourceType: 'network-interface', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );

describe('CreateNetworkInterface', () => {
  test('returns the full NetworkInterface shape with status pending and the client token', async () => {
    const out = await fx.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: SUBNET_A,
        Groups: [NODE_SG],
        InterfaceType: 'trunk',
        Description: 'aws-k8s-trunk-eni',
        ClientToken: 'token-1',
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'k', Value: 'v 1/é' }] }],
      }),
    );
    const eni = out.NetworkInterface;
    expect(out.ClientToken).toBe('token-1');
    expect(eni).toMatchObject({
      SubnetId: SUBNET_A,
      VpcId: VPC,
      AvailabilityZone: 'us-west-2a',
      Description: 'aws-k8s-trunk-eni',
      InterfaceType: 'trunk',
      Status: 'pending',
      OwnerId: '111122223333',
      RequesterManaged: false,
      SourceDestCheck: true,
      Groups: [{ GroupId: NODE_SG, GroupName: 'eks-workshop-node' }],
      TagSet: [{ Key: 'k', Value: 'v 1/é' }],
    });
    expect(eni?.NetworkInterfaceId).toMatch(/^eni-[0-9a-f]{17}$/);
    expect(eni?.MacAddress).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(eni?.PrivateIpAddress).toMatch(/^10\.42\.(9[6-9]|1[01]\d|12[0-7])\.\d+$/);
    expect(eni?.PrivateIpAddresses).toEqual([
      {
        Primary: true,
        PrivateIpAddress: eni?.PrivateIpAddress,
        PrivateDnsName: `ip-${eni?.PrivateIpAddress?.replaceAll('.', '-')}.us-west-2.compute.internal`,
      },
    ]);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('omitted groups mean the VPC default group; describe shows available', async () => {
    const out = await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_B }));
    const id = out.NetworkInterface?.NetworkInterfaceId ?? '';
    const described = await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
    expect(described.NetworkInterfaces?.map((e) => [e.Status, e.Groups?.map((g) => g.GroupName)])).toEqual([
      ['available', ['default']],
    ]);
  });

  test('unknown subnet and group ids surface their NotFound codes; bad ids their Malformed codes', async () => {
    expect(
      await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'subnet-00000000000000000' }))),
    ).toMatchObject({
      name: 'InvalidSubnetID.NotFound',
      status: 400,
      fault: 'client',
      attempts: 1,
    });
    expect((await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'subnet-x' })))).name).toBe(
      'InvalidSubnetID.Malformed',
    );
    expect(
      await ec2Error(
        fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: ['sg-00000000000000000'] })),
      ),
    ).toMatchObject({
      name: 'InvalidGroup.NotFound',
      message: "The security group 'sg-00000000000000000' does not exist",
    });
    expect(
      (await ec2Error(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Groups: ['bogus'] })))).name,
    ).toBe('InvalidGroupId.Malformed');
  });
});

describe('DescribeNetworkInterfaces', () => {
  test('filters by tag, tag-key, wildcard description, status and interface-type (AND across, OR within)', async () => {
    const a = await createBranch({ owner: 'x', pod: 'a' });
    const b = await createBranch({ owner: 'y', pod: 'b' });
    const ids = (filters: { Name: string; Values: string[] }[]) =>
      fx.ec2
        .send(new DescribeNetworkInterfacesCommand({ Filters: filters }))
        .then((out) => out.NetworkInterfaces?.map((e) => e.NetworkInterfaceId).sort());
    const idA = a.NetworkInterface?.NetworkInterfaceId;
    const idB = b.NetworkInterface?.NetworkInterfaceId;
    expect(await ids([{ Name: 'tag:owner', Values: ['x'] }])).toEqual([idA]);
    expect(await ids([{ Name: 'tag:owner', Values: ['x', 'y'] }])).toEqual([idA, idB].sort());
    expect(
      await ids([
        { Name: 'tag:owner', Values: ['x'] },
        { Name: 'tag:pod', Values: ['b'] },
      ]),
    ).toEqual([]);
    expect(await ids([{ Name: 'tag-key', Values: ['pod'] }])).toEqual([idA, idB].sort());
    expect(
      await ids([
        { Name: 'description', Values: ['aws-k8s-*-eni'] },
        { Name: 'status', Values: ['available'] },
      ]),
    ).toEqual([idA, idB].sort());
    expect(await ids([{ Name: 'interface-type', Values: ['trunk'] }])).toEqual([]);
    expect(
      await ids([
        { Name: 'attachment.instance-id', Values: [NODE_1] },
        { Name: 'attachment.device-index', Values: ['0'] },
      ]),
    ).toHaveLength(1);
  });

  test('the paginator loops through every page with MaxResults and stops without a token', async () => {
    const created = new Set<string>();
    for (let i = 0; i < 12; i++)
      created.add((await createBranch({ batch: 'p' })).NetworkInterface?.NetworkInterfaceId ?? '');
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateDescribeNetworkInterfaces(
      { client: fx.ec2, pageSize: 5 },
      { Filters: [{ Name: 'tag:batch', Values: ['p'] }] },
    )) {
      pages.push(page.NetworkInterfaces?.length ?? 0);
      for (const eni of page.NetworkInterfaces ?? []) seen.push(eni.NetworkInterfaceId ?? '');
    }
    expect(pages).toEqual([5, 5, 2]);
    expect(new Set(seen)).toEqual(created);
  });

  test('explicit unknown ids fail the whole call; the equivalent filter just returns nothing', async () => {
    const unknown = 'eni-00000000000000000';
    expect(
      await ec2Error(fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [unknown] }))),
    ).toMatchObject({
      name: 'InvalidNetworkInterfaceID.NotFound',
      message: `The networkInterface ID '${unknown}' does not exist`,
    });
    const out = await fx.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [unknown] }] }),
    );
    expect(out.NetworkInterfaces).toEqual([]);
  });

  test('bad input: unknown filter, MaxResults with ids, MaxResults out of range, forged NextToken', async () => {
    expect(
      await ec2Error(
        fx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
      ),
    ).toMatchObject({
      name: 'InvalidParameterValue',
      message: "The filter 'colour' is invalid",
    });
    const id = (await createBranch()).NetworkInterface?.NetworkInterfaceId ?? '';
    expect(
      (await ec2Error(fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id], MaxResults: 5 }))))
        .name,
    ).toBe('InvalidParameterCombination');
    expect((await ec2Error(fx.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 2 })))).name).toBe(
      'InvalidParameterValue',
    );
    expect((await ec2Error(fx.ec2.send(new DescribeNetworkInterfacesCommand({ NextToken: 'forged' })))).name).toBe(
      'InvalidNextToken',
    );
  });
});

describe('attach, detach, modify, delete', () => {
  test('attach → in-use with attachment; delete in use fails as AWS does; detach → available; delete works', async () => {
    const id = (await createBranch()).NetworkInterface?.NetworkInterfaceId ?? '';
    const attached = await fx.ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: NODE_1, DeviceIndex: 1 }),
    );
    expect(attached.AttachmentId).toMatch(/^eni-attach-[0-9a-f]{17}$/);
    expect(attached.NetworkCardIndex).toBe(0);
    const [eni] =
      (await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces ?? [];
    expect([
      eni?.Status,
      eni?.Attachment?.Status,
      eni?.Attachment?.InstanceId,
      eni?.Attachment?.DeleteOnTermination,
    ]).toEqual(['in-use', 'attached', NODE_1, false]);
    expect(await ec2Error(fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })))).toMatchObject({
      name: 'InvalidParameterValue',
      message: `Network interface '${id}' is currently in use.`,
    });
    expect(
      (
        await ec2Error(
          fx.ec2.send(
            new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: NODE_1, DeviceIndex: 2 }),
          ),
        )
      ).name,
    ).toBe('InvalidNetworkInterface.InUse');
    await fx.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        Attachment: { AttachmentId: attached.AttachmentId, DeleteOnTermination: true },
      }),
    );
    expect(fx.emulator.control.dump().networkInterfaces.find((e) => e.id === id)?.attachment?.deleteOnTermination).toBe(
      true,
    );
    await fx.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId }));
    expect(
      (await ec2Error(fx.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId })))).name,
    ).toBe('InvalidAttachmentID.NotFound');
    await fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
    expect((await ec2Error(fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })))).name).toBe(
      'InvalidNetworkInterfaceID.NotFound',
    );
  });

  test('the primary ENI cannot be detached', async () => {
    const primary = fx.emulator.control.dump().instances.find((i) => i.id === NODE_1)?.primaryNetworkInterfaceId;
    const eni = fx.emulator.control.dump().networkInterfaces.find((e) => e.id === primary);
    expect(
      (await ec2Error(fx.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni?.attachment?.attachmentId }))))
        .name,
    ).toBe('OperationNotPermitted');
  });

  test('ModifyNetworkInterfaceAttribute replaces the groups, and rejects two attributes at once', async () => {
    const id = (await createBranch()).NetworkInterface?.NetworkInterfaceId ?? '';
    await fx.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Groups: [NODE_SG, RDS_SG] }),
    );
    expect(fx.emulator.control.dump().networkInterfaces.find((e) => e.id === id)?.securityGroupIds).toEqual([
      NODE_SG,
      RDS_SG,
    ]);
    expect(
      (
        await ec2Error(
          fx.ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({
              NetworkInterfaceId: id,
              Groups: [NODE_SG],
              Description: { Value: 'x' },
            }),
          ),
        )
      ).name,
    ).toBe('InvalidParameterCombination');
  });
});

describe('tags and permissions', () => {
  test('CreateTags overwrites, DeleteTags honours key-only vs key+value semantics', async () => {
    const id = (await createBranch({ a: '1', b: '2', c: '' })).NetworkInterface?.NetworkInterfaceId ?? '';
    await fx.ec2.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: [
          { Key: 'a', Value: 'one' },
          { Key: 'd', Value: '' },
        ],
      }),
    );
    await fx.ec2.send(
      new DeleteTagsCommand({
        Resources: [id],
        Tags: [{ Key: 'b', Value: 'not-2' }, { Key: 'c', Value: '' }, { Key: 'd' }],
      }),
    );
    expect(fx.emulator.control.dump().networkInterfaces.find((e) => e.id === id)?.tags).toEqual({ a: 'one', b: '2' });
    expect(
      (await ec2Error(fx.ec2.send(new CreateTagsCommand({ Resources: ['nope'], Tags: [{ Key: 'a', Value: '' }] }))))
        .name,
    ).toBe('InvalidID');
    expect(
      (await ec2Error(fx.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'aws:x', Value: '' }] }))))
        .name,
    ).toBe('InvalidTagKey.Malformed');
    const tagged = await fx.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag:a', Values: ['one'] }] }),
    );
    expect(tagged.NetworkInterfaces?.map((e) => e.NetworkInterfaceId)).toEqual([id]);
  });

  test('CreateNetworkInterfacePermission grants', async () => {
    const id = (await createBranch()).NetworkInterface?.NetworkInterfaceId ?? '';
    const out = await fx.ec2.send(
      new CreateNetworkInterfacePermissionCommand({
        NetworkInterfaceId: id,
        AwsAccountId: '999988887777',
        Permission: 'INSTANCE-ATTACH',
      }),
    );
    expect(out.InterfacePermission).toMatchObject({
      NetworkInterfaceId: id,
      Permission: 'INSTANCE-ATTACH',
      PermissionState: { State: 'granted' },
    });
  });
});
