import { describe, expect, test } from '@jest/globals';
import type { Ec2Api, SecurityGroup, Subnet, Vpc } from '../../../../operator/aws/index.ts';
import { Ec2RetryableError } from '../../../../operator/aws/index.ts';
import { VpcNetworkDirectory, type NetworkChange } from '../../../../operator/controllers/vpcnetwork/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import { silentLogger } from '../../../../operator/observability/logger.ts';

/** The two describes the directory makes, answering from fields a test edits. */
class VpcFake {
  vpc: Vpc = { id: 'vpc-1', cidrBlocks: ['10.0.0.0/16'], ipv6CidrBlocks: [] };
  subnets: Subnet[] = [];
  groups: SecurityGroup[] = [];
  failNext = false;
  failGroupsNext = false;
  readonly calls: { method: string; filter?: unknown }[] = [];

  api(): Ec2Api {
    return {
      describeVpc: async (vpcId: string) => {
        this.calls.push({ method: 'describeVpc', filter: vpcId });
        if (this.failNext) {
          this.failNext = false;
          throw new Ec2RetryableError('EC2 had a moment', { code: 'InternalError', action: 'DescribeVpcs' });
        }
        return structuredClone(this.vpc);
      },
      describeSubnets: async (filter: { ids?: string[]; vpcId?: string; tagKeys?: string[] }) => {
        this.calls.push({ method: 'describeSubnets', filter });
        return this.subnets
          .filter((s) => filter.ids === undefined || filter.ids.includes(s.id))
          .filter((s) => filter.vpcId === undefined || s.vpcId === filter.vpcId)
          .filter((s) => filter.tagKeys === undefined || filter.tagKeys.some((key) => key in s.tags))
          .map((s) => structuredClone(s));
      },
      describeVpcSecurityGroups: async (vpcId: string) => {
        this.calls.push({ method: 'describeVpcSecurityGroups', filter: vpcId });
        if (this.failGroupsNext) {
          this.failGroupsNext = false;
          throw new Ec2RetryableError('EC2 had a moment', { code: 'InternalError', action: 'DescribeSecurityGroups' });
        }
        return this.groups.filter((group) => group.vpcId === vpcId).map((group) => structuredClone(group));
      },
    } as unknown as Ec2Api;
  }
}

const subnet = (id: string, free: number, tags: Record<string, string> = { 'kubernetes.io/role/cni': '1' }) => ({
  id,
  vpcId: 'vpc-1',
  availabilityZone: 'us-west-2a',
  cidrBlock: `cidr-${id}`,
  ipv6CidrBlock: '',
  availableIpAddressCount: free,
  tags,
});

function directory(fake: VpcFake, clock = new FakeClock(), overrides: { intervalMs?: number } = {}) {
  return new VpcNetworkDirectory({
    ec2: fake.api(),
    vpcId: 'vpc-1',
    tagKey: 'kubernetes.io/role/cni',
    intervalMs: overrides.intervalMs ?? 60_000,
    onDemandMinIntervalMs: 0,
    clock,
    log: silentLogger,
  });
}

describe('VpcNetworkDirectory', () => {
  test('follows CIDR blocks and tagged subnets, telling listeners what changed', async () => {
    const fake = new VpcFake();
    fake.subnets = [subnet('subnet-node', 10, {}), subnet('subnet-pods', 200)];
    const network = directory(fake);
    const seen: NetworkChange[][] = [];
    network.onChange((_snapshot, changes) => seen.push([...changes]));

    await network.refresh();
    expect(network.snapshot()).toMatchObject({
      cidrBlocks: ['10.0.0.0/16'],
      podSubnets: [{ id: 'subnet-pods', cidrBlock: 'cidr-subnet-pods', availableIpAddressCount: 200 }],
    });
    expect(fake.calls[1]).toEqual({
      method: 'describeSubnets',
      filter: { vpcId: 'vpc-1', tagKeys: ['kubernetes.io/role/cni'] },
    });

    fake.vpc.cidrBlocks.push('100.64.0.0/16');
    fake.subnets.push(subnet('subnet-new', 250));
    await network.refresh();
    expect(seen).toEqual([
      [],
      [
        { kind: 'cidr-added', cidrBlock: '100.64.0.0/16' },
        { kind: 'subnet-added', subnet: expect.objectContaining({ id: 'subnet-new' }) },
      ],
    ]);
  });

  test('an exhausted subnet stays marked until a describe started after the mark counts free addresses', async () => {
    const fake = new VpcFake();
    fake.subnets = [subnet('subnet-node', 0, {})];
    const clock = new FakeClock();
    const network = directory(fake, clock);
    await network.refresh();
    expect(network.isExhausted('subnet-node')).toBe(false); // untagged: unknown until a create fails

    clock.advance(1_000);
    network.reportExhausted('subnet-node');
    expect(network.isExhausted('subnet-node')).toBe(true);
    await network.refresh();
    expect(fake.calls.at(-1)).toEqual({ method: 'describeSubnets', filter: { ids: ['subnet-node'] } });
    expect(network.isExhausted('subnet-node')).toBe(true); // still 0 free

    fake.subnets = [subnet('subnet-node', 5, {})];
    clock.advance(1_000);
    await network.refresh();
    expect(network.isExhausted('subnet-node')).toBe(false);
  });

  test('a tagged subnet counted empty is exhausted without any failed create', async () => {
    const fake = new VpcFake();
    fake.subnets = [subnet('subnet-pods', 0)];
    const network = directory(fake);
    await network.refresh();
    expect(network.isExhausted('subnet-pods')).toBe(true);
  });

  test('run(): a failed refresh keeps the last view, and a reported exhaustion refreshes at once', async () => {
    const fake = new VpcFake();
    fake.subnets = [subnet('subnet-pods', 100)];
    const network = directory(fake, new FakeClock(), { intervalMs: 3_600_000 });
    const stop = new AbortController();
    const running = network.run(stop.signal);
    await until(() => network.snapshot() !== undefined);

    fake.failNext = true;
    const describesBefore = fake.calls.length;
    network.reportExhausted('subnet-node');
    await until(() => fake.calls.length > describesBefore);
    expect(network.snapshot()?.podSubnets.map((s) => s.id)).toEqual(['subnet-pods']);

    fake.subnets.push(subnet('subnet-more', 100));
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
  const describes = (fake: VpcFake) => fake.calls.filter((call) => call.method === 'describeVpcSecurityGroups').length;

  test('described only when asked for or while wanted; listeners get every describe, sorted by id', async () => {
    const fake = new VpcFake();
    fake.groups = [
      { id: 'sg-2', name: 'b', vpcId: 'vpc-1', tags: {} },
      { id: 'sg-1', name: 'a', vpcId: 'vpc-1', tags: { Name: 'a' } },
      { id: 'sg-3', name: 'elsewhere', vpcId: 'vpc-2', tags: {} },
    ];
    const clock = new FakeClock();
    const dir = directory(fake, clock);
    const seen: string[][] = [];
    dir.onSecurityGroups((snapshot) => seen.push(snapshot.groups.map((group) => group.id)));

    await dir.refresh();
    expect(describes(fake)).toBe(0);
    expect(dir.securityGroups()).toBeUndefined();

    dir.requestSecurityGroups();
    await dir.refresh();
    expect(dir.securityGroups()).toEqual({
      describedAtMs: clock.now(),
      groups: [fake.groups[1], fake.groups[0]],
    });
    await dir.refresh(); // the request was served; nobody wants them
    expect(describes(fake)).toBe(1);

    let wanted = true;
    dir.describeSecurityGroupsWhile(() => wanted);
    await dir.refresh();
    await dir.refresh();
    wanted = false;
    await dir.refresh();
    expect(describes(fake)).toBe(3);
    expect(seen).toEqual([
      ['sg-1', 'sg-2'],
      ['sg-1', 'sg-2'],
      ['sg-1', 'sg-2'],
    ]);
  });

  test('a failed describe keeps the last view and asks again at the next refresh', async () => {
    const fake = new VpcFake();
    fake.groups = [{ id: 'sg-1', name: 'a', vpcId: 'vpc-1', tags: {} }];
    const clock = new FakeClock();
    const dir = directory(fake, clock);
    dir.requestSecurityGroups();
    await dir.refresh();
    const first = dir.securityGroups();

    clock.advance(1_000);
    fake.failGroupsNext = true;
    dir.requestSecurityGroups();
    await dir.refresh();
    expect(dir.securityGroups()).toBe(first);

    fake.groups = [];
    await dir.refresh();
    expect(dir.securityGroups()).toEqual({ describedAtMs: clock.now(), groups: [] });
  });
});
