import {
  type _InstanceType,
  CreateNetworkInterfaceCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  paginateDescribeInstanceTypes,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, test } from '@jest/globals';
import { eventually } from '../harness/index.ts';
import {
  type Fixture,
  NODE_1,
  NODE_SG,
  RDS_SG,
  SUBNET_A,
  VPC,
  clientFor,
  ec2Error,
  rawCall,
  startFixture,
  stopFixture,
} from './fixture.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await stopFixture(fx);
  fx = undefined;
});

const enisInDump = (f: Fixture) =>
  f.emulator.control.dump().networkInterfaces.filter((e) => e.description === 'retry-probe');

describe('retries and idempotency through the SDK', () => {
  test('throttling (503 RequestLimitExceeded) is retried by the SDK and counted', async () => {
    fx = await startFixture();
    fx.emulator.control.setFaults([{ action: 'DescribeVpcs', code: 'RequestLimitExceeded', count: 1 }]);
    const out = await fx.ec2.send(new DescribeVpcsCommand({}));
    expect(out.$metadata.attempts).toBe(2);
    expect(fx.emulator.control.counters().DescribeVpcs).toEqual({ calls: 2, errors: 1, throttled: 1 });
  });

  test('token buckets: a scaled-down bucket throttles a burst; the SDK surfaces RequestLimitExceeded after 3 attempts', async () => {
    fx = await startFixture({ throttling: { enabled: true, scale: 0.02 } });
    const noRetry = clientFor(fx.emulator.endpoint, { maxAttempts: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => noRetry.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A }))),
    );
    noRetry.destroy();
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(fx.emulator.control.counters().CreateNetworkInterface?.throttled).toBe(3);
  });

  test('a lost response (fault after the action) is retried with the same ClientToken and yields one ENI', async () => {
    fx = await startFixture();
    fx.emulator.control.setFaults([
      { action: 'CreateNetworkInterface', code: 'InternalError', phase: 'after', count: 1 },
    ]);
    const out = await fx.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Description: 'retry-probe' }),
    );
    expect(out.$metadata.attempts).toBe(2);
    expect(enisInDump(fx).map((e) => e.id)).toEqual([out.NetworkInterface?.NetworkInterfaceId]);
  });

  test('same ClientToken with other parameters → IdempotentParameterMismatch, not retried', async () => {
    fx = await startFixture();
    await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, ClientToken: 'uid-1/branch' }));
    expect(
      await ec2Error(
        fx.ec2.send(
          new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A, Description: 'x', ClientToken: 'uid-1/branch' }),
        ),
      ),
    ).toMatchObject({ name: 'IdempotentParameterMismatch', status: 400, attempts: 1 });
  });

  test('injected codes surface as the SDK error name with status, fault and retry count', async () => {
    fx = await startFixture();
    fx.emulator.control.setFaults([
      { action: 'DescribeSubnets', code: 'Unavailable', count: 3 },
      { action: 'DescribeSecurityGroups', code: 'UnauthorizedOperation', count: 1 },
      { action: 'DescribeInstances', code: 'InternalError', probability: 1 },
    ]);
    expect(await ec2Error(fx.ec2.send(new DescribeSubnetsCommand({})))).toMatchObject({
      name: 'Unavailable',
      status: 503,
      fault: 'server',
      attempts: 3,
    });
    expect(await ec2Error(fx.ec2.send(new DescribeSecurityGroupsCommand({})))).toMatchObject({
      name: 'UnauthorizedOperation',
      status: 403,
      fault: 'client',
      attempts: 1,
    });
    expect(await ec2Error(fx.ec2.send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'InternalError',
      status: 500,
      attempts: 3,
    });
  });
});

describe('bad input never crashes, hangs or answers HTML', () => {
  test.each([
    ['unknown action', 'Action=LaunchRockets&Version=2016-11-15', 'InvalidAction'],
    ['missing action', 'Version=2016-11-15', 'MissingParameter'],
    ['missing version', 'Action=DescribeVpcs', 'MissingParameter'],
    ['unknown parameter', 'Action=DescribeVpcs&Version=2016-11-15&Colour=red', 'UnknownParameter'],
    ['missing required parameter', 'Action=CreateNetworkInterface&Version=2016-11-15', 'MissingParameter'],
    [
      'non-integer',
      'Action=AttachNetworkInterface&Version=2016-11-15&NetworkInterfaceId=eni-12345678&InstanceId=i-12345678&DeviceIndex=one',
      'InvalidParameterValue',
    ],
    [
      'malformed instance id',
      'Action=DescribeInstances&Version=2016-11-15&InstanceId.1=instance',
      'InvalidInstanceID.Malformed',
    ],
    ['dry run', 'Action=DescribeVpcs&Version=2016-11-15&DryRun=true', 'DryRunOperation'],
    ['filter without name', 'Action=DescribeSubnets&Version=2016-11-15&Filter.1.Value.1=x', 'MissingParameter'],
    ['empty body', '', 'MissingParameter'],
  ])('%s → %s', async (_name, body, code) => {
    fx = await startFixture();
    const response = await rawCall(fx.emulator.endpoint, body);
    expect(response.text).toContain(`<Response><Errors><Error><Code>${code}</Code>`);
    expect(response.text).toContain(`<RequestID>${response.requestId ?? 'missing'}</RequestID>`);
    expect(response.status).toBe(code === 'DryRunOperation' ? 412 : 400);
  });

  test('GET with the parameters in the query string works like POST', async () => {
    fx = await startFixture();
    const response = await rawCall(fx.emulator.endpoint, 'Action=DescribeVpcs&Version=2016-11-15', 'GET');
    expect(response.status).toBe(200);
    expect(response.text).toContain(`<vpcId>${VPC}</vpcId>`);
  });

  test('SigV4 verification accepts the SDK signature and rejects a wrong secret', async () => {
    fx = await startFixture({ sigv4: 'verify' });
    await fx.ec2.send(new DescribeVpcsCommand({}));
    const wrong = clientFor(fx.emulator.endpoint, { secretAccessKey: 'not-the-secret' });
    expect((await ec2Error(wrong.send(new DescribeVpcsCommand({})))).name).toBe('SignatureDoesNotMatch');
    wrong.destroy();
  });
});

describe('JSON control API under /_emulator/', () => {
  test('faults set over HTTP apply to the next SDK call; unknown methods and bad JSON answer JSON errors', async () => {
    fx = await startFixture();
    const control = (method: string, body: string) =>
      fetch(`${fx?.emulator.endpoint ?? ''}/_emulator/${method}`, { method: 'POST', body });
    const set = await control('setFaults', JSON.stringify([{ action: 'DescribeVpcs', code: 'UnauthorizedOperation' }]));
    expect(set.status).toBe(200);
    expect((await ec2Error(fx.ec2.send(new DescribeVpcsCommand({})))).name).toBe('UnauthorizedOperation');
    const unknown = await control('explode', '{}');
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { error: { code: 'UnknownControlMethod', message: "No control method 'explode'." } },
    ]);
    expect((await control('launchInstance', '{not json')).status).toBe(400);
    const launched = await control(
      'launchInstance',
      JSON.stringify({ instanceType: 'm5.large', subnet: SUBNET_A, securityGroups: [NODE_SG] }),
    );
    const instance = (await launched.json()) as { id: string; state: string };
    expect(instance.state).toBe('running');
    const counters = (await (await control('counters', '')).json()) as Record<string, { errors: number }>;
    expect(counters.DescribeVpcs?.errors).toBe(1);
  });
});

describe('describes and eventual consistency', () => {
  test('a new ENI is invisible to lookups and filters until the consistency delay passes', async () => {
    fx = await startFixture({ eventualConsistencyMs: 300 });
    const ec2 = fx.ec2;
    const id =
      (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET_A }))).NetworkInterface
        ?.NetworkInterfaceId ?? '';
    expect((await ec2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })))).name).toBe(
      'InvalidNetworkInterfaceID.NotFound',
    );
    const filtered = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [id] }] }),
    );
    expect(filtered.NetworkInterfaces).toEqual([]);
    await eventually(
      async () => {
        const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
        expect(out.NetworkInterfaces?.map((e) => e.NetworkInterfaceId)).toEqual([id]);
      },
      { timeoutMs: 10_000, intervalMs: 100, waitingFor: `ENI ${id} to become visible` },
    );
  });

  test('DescribeInstances shows the primary ENI at device index 0 with its groups', async () => {
    fx = await startFixture();
    const out = await fx.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['eks-workshop-node-1'] }] }),
    );
    const instance = out.Reservations?.[0]?.Instances?.[0];
    expect(instance).toMatchObject({
      InstanceId: NODE_1,
      InstanceType: 'm5.large',
      State: { Code: 16, Name: 'running' },
      Placement: { AvailabilityZone: 'us-west-2a' },
      SubnetId: SUBNET_A,
      VpcId: VPC,
      SecurityGroups: [{ GroupId: NODE_SG, GroupName: 'eks-workshop-node' }],
    });
    expect(instance?.PrivateDnsName).toBe(
      `ip-${instance?.PrivateIpAddress?.replaceAll('.', '-')}.us-west-2.compute.internal`,
    );
    expect(
      instance?.NetworkInterfaces?.map((n) => [
        n.InterfaceType,
        n.Attachment?.DeviceIndex,
        n.Attachment?.NetworkCardIndex,
        n.Attachment?.DeleteOnTermination,
      ]),
    ).toEqual([['interface', 0, 0, true]]);
  });

  test('DescribeInstanceTypes: network info, unknown types, and a paginated walk of the whole table', async () => {
    fx = await startFixture();
    const one = await fx.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['c6in.32xlarge'] }));
    expect(one.InstanceTypes?.[0]?.NetworkInfo).toMatchObject({
      MaximumNetworkInterfaces: 16,
      MaximumNetworkCards: 2,
      NetworkCards: [
        { NetworkCardIndex: 0, MaximumNetworkInterfaces: 8 },
        { NetworkCardIndex: 1, MaximumNetworkInterfaces: 8 },
      ],
    });
    expect(
      await ec2Error(fx.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.huge' as _InstanceType] }))),
    ).toMatchObject({
      name: 'InvalidInstanceType',
      message: 'The following supplied instance types do not exist: [m5.huge]',
    });
    let total = 0;
    for await (const page of paginateDescribeInstanceTypes(
      { client: fx.ec2, pageSize: 100 },
      { Filters: [{ Name: 'instance-type', Values: ['m5.*'] }] },
    )) {
      total += page.InstanceTypes?.length ?? 0;
    }
    expect(total).toBeGreaterThan(5);
  });

  test('subnets count addresses; VPC CIDRs added at runtime show associating then associated; groups filter by VPC', async () => {
    fx = await startFixture({ eventualConsistencyMs: 200 });
    const subnet = (await fx.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [SUBNET_A] }))).Subnets?.[0];
    // /19 = 8192 addresses − 5 reserved − 1 for the seeded node.
    expect([subnet?.AvailableIpAddressCount, subnet?.AvailabilityZoneId, subnet?.CidrBlock]).toEqual([
      8186,
      'usw2-az1',
      '10.42.96.0/19',
    ]);
    fx.emulator.control.addVpcCidr(VPC, '100.64.0.0/16');
    const states = async () =>
      (await fx?.ec2.send(new DescribeVpcsCommand({ VpcIds: [VPC] })))?.Vpcs?.[0]?.CidrBlockAssociationSet?.map((c) => [
        c.CidrBlock,
        c.CidrBlockState?.State,
      ]);
    expect(await states()).toEqual([
      ['10.42.0.0/16', 'associated'],
      ['100.64.0.0/16', 'associating'],
    ]);
    await eventually(
      async () =>
        expect(await states()).toEqual([
          ['10.42.0.0/16', 'associated'],
          ['100.64.0.0/16', 'associated'],
        ]),
      {
        timeoutMs: 10_000,
        intervalMs: 50,
        waitingFor: 'the secondary CIDR to be associated',
      },
    );
    const groups = await fx.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [VPC] },
          { Name: 'group-id', Values: [NODE_SG, RDS_SG, 'sg-00000000000000000'] },
        ],
      }),
    );
    expect(groups.SecurityGroups?.map((g) => g.GroupId)).toEqual([NODE_SG, RDS_SG]);
  });
});
