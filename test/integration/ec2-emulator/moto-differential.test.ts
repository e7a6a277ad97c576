import {
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { eventually } from '../harness/index.ts';
import { type Fixture, NODE_SG, SUBNET_A, clientFor, startFixture, stopFixture } from './fixture.ts';

/**
 * Differential check against moto (an independent EC2 implementation generated from the same botocore
 * model): for the Describe* calls moto implements, every member moto returns must also come back from the
 * emulator, after SDK parsing. Values differ by design; shapes must not. Trunk calls are not compared
 * (moto does not implement them).
 */
const hasMoto = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
// Reason when skipped: moto (python3 -m moto.server) is not installed on this machine.
const maybe = hasMoto ? test : test.skip;

/** Members moto emits that the emulator deliberately leaves out (not used by the operator or VPC-RC). */
const NOT_EMULATED = new Set([
  'Instances.*.BlockDeviceMappings.*',
  'Instances.*.ClientToken',
  'Instances.*.KeyName',
  'Instances.*.PublicDnsName',
  'Instances.*.StateReason',
  'Instances.*.StateTransitionReason',
  'Instances.*.IamInstanceProfile',
  'Instances.*.Platform',
  'Instances.*.PlatformDetails',
  'Instances.*.MetadataOptions',
  'Instances.*.EnclaveOptions',
  'Instances.*.CapacityReservationSpecification',
  'Instances.*.HibernationOptions',
  'Instances.*.MaintenanceOptions',
  'Instances.*.PrivateDnsNameOptions',
  'Instances.*.CpuOptions',
  'Instances.*.NetworkInterfaces.*.Association',
]);

function shape(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) shape(item, `${prefix}.*`, out);
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$metadata') continue;
      shape(child, prefix ? `${prefix}.${key}` : key, out);
    }
  } else if (prefix) {
    out.add(prefix);
  }
  return out;
}

const ignored = (path: string): boolean =>
  [...NOT_EMULATED].some(
    (pattern) => path === pattern.replace(/\.\*$/, '') || path.startsWith(pattern.replace(/\.\*$/, '')),
  );

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let moto: ChildProcess | undefined;
let motoEc2: EC2Client | undefined;
let fx: Fixture | undefined;
const motoIds = { vpc: '', subnet: '', group: '', instance: '', eni: '' };

beforeAll(async () => {
  if (!hasMoto) return;
  const port = await freePort();
  moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const client = clientFor(`http://127.0.0.1:${port}`);
  motoEc2 = client;
  await eventually(() => client.send(new DescribeVpcsCommand({})), {
    timeoutMs: 60_000,
    intervalMs: 250,
    waitingFor: 'moto server to answer',
  });
  const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc?.VpcId ?? '';
  const subnet =
    (
      await client.send(
        new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.42.96.0/19', AvailabilityZone: 'us-west-2a' }),
      )
    ).Subnet?.SubnetId ?? '';
  const group =
    (await client.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: 'node', Description: 'node' })))
      .GroupId ?? '';
  const image = (await client.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? '';
  const instance =
    (
      await client.send(
        new RunInstancesCommand({
          ImageId: image,
          InstanceType: 'm5.large',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnet,
          SecurityGroupIds: [group],
        }),
      )
    ).Instances?.[0]?.InstanceId ?? '';
  const eni =
    (
      await client.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnet,
          Groups: [group],
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'k', Value: 'v' }] }],
        }),
      )
    ).NetworkInterface?.NetworkInterfaceId ?? '';
  Object.assign(motoIds, { vpc, subnet, group, instance, eni });
  fx = await startFixture();
}, 90_000);

afterAll(async () => {
  motoEc2?.destroy();
  moto?.kill('SIGTERM');
  await stopFixture(fx);
});

maybe(
  'Describe* shapes match moto for every member moto returns',
  async () => {
    const ours = fx?.ec2;
    const theirs = motoEc2;
    if (!ours || !theirs) throw new Error('fixture not started');
    const ourEni =
      (
        await ours.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: SUBNET_A,
            Groups: [NODE_SG],
            TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'k', Value: 'v' }] }],
          }),
        )
      ).NetworkInterface?.NetworkInterfaceId ?? '';
    const pairs: [string, Promise<unknown>, Promise<unknown>][] = [
      [
        'DescribeVpcs',
        ours.send(new DescribeVpcsCommand({})).then((o) => o.Vpcs?.[0]),
        theirs.send(new DescribeVpcsCommand({ VpcIds: [motoIds.vpc] })).then((o) => o.Vpcs?.[0]),
      ],
      [
        'DescribeSubnets',
        ours.send(new DescribeSubnetsCommand({ SubnetIds: [SUBNET_A] })).then((o) => o.Subnets?.[0]),
        theirs.send(new DescribeSubnetsCommand({ SubnetIds: [motoIds.subnet] })).then((o) => o.Subnets?.[0]),
      ],
      [
        'DescribeSecurityGroups',
        ours.send(new DescribeSecurityGroupsCommand({ GroupIds: [NODE_SG] })).then((o) => o.SecurityGroups?.[0]),
        theirs
          .send(new DescribeSecurityGroupsCommand({ GroupIds: [motoIds.group] }))
          .then((o) => o.SecurityGroups?.[0]),
      ],
      [
        'DescribeNetworkInterfaces',
        ours
          .send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ourEni] }))
          .then((o) => o.NetworkInterfaces?.[0]),
        theirs
          .send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [motoIds.eni] }))
          .then((o) => o.NetworkInterfaces?.[0]),
      ],
      [
        'DescribeInstances',
        ours.send(new DescribeInstancesCommand({})).then((o) => o.Reservations?.[0]),
        theirs.send(new DescribeInstancesCommand({ InstanceIds: [motoIds.instance] })).then((o) => o.Reservations?.[0]),
      ],
      [
        'DescribeInstanceTypes',
        ours
          .send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large'] }))
          .then((o) => o.InstanceTypes?.[0]?.NetworkInfo),
        theirs
          .send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large'] }))
          .then((o) => o.InstanceTypes?.[0]?.NetworkInfo),
      ],
    ];
    const missing: Record<string, string[]> = {};
    for (const [action, oursPromise, theirsPromise] of pairs) {
      const [mine, reference] = [shape(await oursPromise), shape(await theirsPromise)];
      const gaps = [...reference].filter((path) => !mine.has(path) && !ignored(path)).sort();
      if (gaps.length > 0) missing[action] = gaps;
    }
    expect(missing).toEqual({});
  },
  60_000,
);
