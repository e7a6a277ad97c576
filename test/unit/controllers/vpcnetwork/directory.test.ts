import { describe, expect, test } from '@jest/globals';
import { Ec2RetryableError } from '../../../../operator/aws/index.ts';
import { VpcNetworkDirectory, type NetworkChange } from '../../../../operator/controllers/vpcnetwork/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import { silentLogger } from '../../../../operator/observability/logger.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';

const TAG_KEY = 'kubernetes.io/role/cni';
const TAGGED = { [TAG_KEY]: '1' };
/** A /28 holds 11 addresses once AWS's five are reserved. */
const SMALL_SUBNET_ADDRESSES = 11;

function directory(ec2: EmulatedEc2, vpc: TestVpc, clock = new FakeClock(), overrides: { intervalMs?: number } = {}) {
  return new VpcNetworkDirectory({
    ec2,
    vpcId: vpc.vpcId,
    tagKey: TAG_KEY,
    intervalMs: overrides.intervalMs ?? 60_000,
    onDemandMinIntervalMs: 0,
    clock,
    log: silentLogger,
  });
}

/** Takes `count` addresses of `subnetId` with unattached ENIs; returns their ids. */
function fill(ec2: EmulatedEc2, subnetId: string, count: number): string[] {
  return ec2.control.bulkCreateNetworkInterfaces({ subnetId, count });
}

describe('VpcNetworkDirectory', () => {
  test('follows CIDR blocks and tagged subnets, telling listeners what changed', async () => {
    const ec2 = new EmulatedEc2();
    const vpc = ec2.seedVpc({
      subnets: [
        { cidrBlock: '10.0.0.0/24', availabilityZone: 'us-west-2a' },
        { cidrBlock: '10.0.1.0/24', availabilityZone: 'us-west-2a', tags: TAGGED },
      ],
    });
    const podSubnet = ec2.control.dump().subnets.find((subnet) => subnet.cidrBlock === '10.0.1.0/24');
    const network = directory(ec2, vpc);
    const seen: NetworkChange[][] = [];
    network.onChange((_snapshot, changes) => seen.push([...changes]));

    await network.refresh();
    expect(network.snapshot()).toMatchObject({
      cidrBlocks: ['10.0.0.0/16'],
      podSubnets: [{ id: podSubnet?.id, cidrBlock: '10.0.1.0/24', availableIpAddressCount: 251 }],
    });
    expect(ec2.calls[1]).toEqual({ method: 'describeSubnets', input: { vpcId: vpc.vpcId, tagKeys: [TAG_KEY] } });

    ec2.control.addVpcCidr(vpc.vpcId, '100.64.0.0/16');
    const added = ec2.control.addSubnet({
      vpcId: vpc.vpcId,
      cidrBlock: '100.64.0.0/24',
      availabilityZone: 'us-west-2a',
      tags: TAGGED,
    });
    await network.refresh();
    expect(seen).toEqual([
      [],
      [
        { kind: 'cidr-added', cidrBlock: '100.64.0.0/16' },
        { kind: 'subnet-added', subnet: expect.objectContaining({ id: added.id }) },
      ],
    ]);
  });

  test('an exhausted subnet stays marked until a describe started after the mark counts free addresses', async () => {
    const ec2 = new EmulatedEc2();
    const vpc = ec2.seedVpc({ subnets: [{ cidrBlock: '10.0.0.0/28', availabilityZone: 'us-west-2a' }] });
    const taken = fill(ec2, vpc.subnetId, SMALL_SUBNET_ADDRESSES);
    const clock = new FakeClock();
    const network = directory(ec2, vpc, clock);
    await network.refresh();
    expect(network.isExhausted(vpc.subnetId)).toBe(false); // untagged: unknown until a create fails

    clock.advance(1_000);
    network.reportExhausted(vpc.subnetId);
    expect(network.isExhausted(vpc.subnetId)).toBe(true);
    await network.refresh();
    expect(ec2.calls.at(-1)).toEqual({ method: 'describeSubnets', input: { ids: [vpc.subnetId] } });
    expect(network.isExhausted(vpc.subnetId)).toBe(true); // still 0 free

    for (const id of taken.slice(0, 5)) await ec2.prepare.deleteNetworkInterface(id);
    clock.advance(1_000);
    await network.refresh();
    expect(network.isExhausted(vpc.subnetId)).toBe(false);
  });

  test('a tagged subnet counted empty is exhausted without any failed create', async () => {
    const ec2 = new EmulatedEc2();
    const vpc = ec2.seedVpc({ subnets: [{ cidrBlock: '10.0.0.0/28', availabilityZone: 'us-west-2a', tags: TAGGED }] });
    fill(ec2, vpc.subnetId, SMALL_SUBNET_ADDRESSES);
    const network = directory(ec2, vpc);
    await network.refresh();
    expect(network.isExhausted(vpc.subnetId)).toBe(true);
  });

  test('run(): a failed refresh keeps the last view, and a reported exhaustion refreshes at once', async () => {
    const ec2 = new EmulatedEc2();
    const vpc = ec2.seedVpc({
      subnets: [
        { cidrBlock: '10.0.0.0/24', availabilityZone: 'us-west-2a' },
        { cidrBlock: '10.0.1.0/24', availabilityZone: 'us-west-2a', tags: TAGGED },
      ],
    });
    const podSubnet = ec2.control.dump().subnets.find((subnet) => subnet.cidrBlock === '10.0.1.0/24');
    const network = directory(ec2, vpc, new FakeClock(), { intervalMs: 3_600_000 });
    const stop = new AbortController();
    const running = network.run(stop.signal);
    await until(() => network.snapshot() !== undefined);

    ec2.failNext(
      'describeVpc',
      new Ec2RetryableError('EC2 had a moment', { code: 'InternalError', action: 'DescribeVpcs' }),
    );
    const describesBefore = ec2.calls.length;
    network.reportExhausted(vpc.subnetId);
    await until(() => ec2.calls.length > describesBefore);
    expect(network.snapshot()?.podSubnets.map((s) => s.id)).toEqual([podSubnet?.id]);

    ec2.control.addSubnet({ vpcId: vpc.vpcId, cidrBlock: '10.0.2.0/24', availabilityZone: 'us-west-2a', tags: TAGGED });
    network.requestRefresh();
    await until(() => network.snapshot()?.podSubnets.length === 2);
    stop.abort();
    await running;
  });
});

/** Polls a condition on the event loop (the run loop is driven by real timers of 0–1 ms here). */
async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 2_000 && !condition(); attempt++) await new Promise((r) => setTimeout(r, 1));
  expect(condition()).toBe(true);
}

describe('VpcNetworkDirectory: security groups', () => {
  const describes = (ec2: EmulatedEc2) => ec2.callsOf('describeVpcSecurityGroups').length;
  const idsOf = (groups: readonly { id: string }[] | undefined) => groups?.map((group) => group.id);

  test('described only when asked for or while wanted; listeners get every describe, sorted by id', async () => {
    const ec2 = new EmulatedEc2();
    const vpc = ec2.seedVpc({ podGroups: 0 });
    ec2.control.addSecurityGroup({ vpcId: vpc.vpcId, id: 'sg-0000000000000000b', name: 'b' });
    ec2.control.addSecurityGroup({ vpcId: vpc.vpcId, id: 'sg-0000000000000000a', name: 'a', tags: { Name: 'a' } });
    ec2.control.seed({
      vpcs: [{ cidrBlocks: ['10.1.0.0/16'], subnets: [], securityGroups: [{ name: 'elsewhere' }] }],
    });
    const ours = ec2.control
      .dump()
      .securityGroups.filter((group) => group.vpcId === vpc.vpcId)
      .map((group) => group.id)
      .sort();
    const clock = new FakeClock();
    const network = directory(ec2, vpc, clock);
    const seen: (string[] | undefined)[] = [];
    network.onSecurityGroups((snapshot) => seen.push(idsOf(snapshot.groups)));

    await network.refresh();
    expect(describes(ec2)).toBe(0);
    expect(network.securityGroups()).toBeUndefined();

    network.requestSecurityGroups();
    await network.refresh();
    expect(network.securityGroups()?.describedAtMs).toBe(clock.now());
    // Every group of the cluster VPC (its default group, the nodes' group, a, b) with names and tags; none of
    // the other VPC's.
    expect(idsOf(network.securityGroups()?.groups)).toEqual(ours);
    expect(network.securityGroups()?.groups).toContainEqual({
      id: 'sg-0000000000000000a',
      vpcId: vpc.vpcId,
      name: 'a',
      tags: { Name: 'a' },
    });
    await network.refresh(); // the request was served; nobody wants them
    expect(describes(ec2)).toBe(1);

    let wanted = true;
    network.describeSecurityGroupsWhile(() => wanted);
    await network.refresh();
    await network.refresh();
    wanted = false;
    await network.refresh();
    expect(describes(ec2)).toBe(3);
    expect(seen).toEqual([ours, ours, ours]);
  });

  test('a failed describe keeps the last view and asks again at the next refresh', async () => {
    const ec2 = new EmulatedEc2();
    const vpc = ec2.seedVpc({ podGroups: ['cache'] });
    const clock = new FakeClock();
    const network = directory(ec2, vpc, clock);
    network.requestSecurityGroups();
    await network.refresh();
    const first = network.securityGroups();
    expect(idsOf(first?.groups)).toContain(vpc.groups['cache']);

    clock.advance(1_000);
    ec2.failNext(
      'describeVpcSecurityGroups',
      new Ec2RetryableError('EC2 had a moment', { code: 'InternalError', action: 'DescribeSecurityGroups' }),
    );
    network.requestSecurityGroups();
    await network.refresh();
    expect(network.securityGroups()).toBe(first);

    await ec2.deleteSecurityGroup(vpc.groups['cache'] ?? '');
    await network.refresh();
    expect(network.securityGroups()?.describedAtMs).toBe(clock.now());
    expect(idsOf(network.securityGroups()?.groups)).not.toContain(vpc.groups['cache']);
  });
});
