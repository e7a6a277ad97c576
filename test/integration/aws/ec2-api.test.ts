/**
 * The EC2 layer against hack/ec2-emulator through the real @aws-sdk/client-ec2: the rate limiter keeps a
 * burst inside EC2's buckets, faults are retried without duplicate ENIs, errors are classified.
 *
 * Bucket scale: EC2's default buckets at scale 1 make 500 creates take ~80 s (100 burst, then 5/s). Both
 * the emulator's buckets and ours are multiplied by the SAME factor (4): the shape — a burst, then the
 * refill rate — is unchanged, the burst is still exceeded on both actions (500 > 400 creates, 500 > 200
 * associates), so the test still proves zero RequestLimitExceeded, in ~20 s instead of ~110 s.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { startEc2Emulator, type RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import {
  branchEniTags,
  branchEnisOfPodFilter,
  clientToken,
  createEc2Api,
  Ec2NotFoundError,
  Ec2RetryableError,
  Ec2UnauthorizedError,
  trunkEniTags,
  type CreateEc2ApiOptions,
  type Ec2Api,
} from '../../../operator/aws/index.ts';
import { TAG } from '../../../operator/api/constants.ts';
import { escapeFilterValue } from '../../../operator/controllers/securitygroupgrant/index.ts';
import { uniqueName } from '../harness/index.ts';

const BUCKET_SCALE = 4;
const INSTANCES = 5;
const BRANCHES_PER_INSTANCE = 100;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const created: { destroy(): void }[] = [];
afterAll(() => created.forEach((c) => c.destroy()));

function api(emulator: RunningEc2Emulator, extra: Partial<CreateEc2ApiOptions> = {}): ReturnType<typeof createEc2Api> {
  return track(
    createEc2Api({
      region: 'us-west-2',
      endpoint: emulator.endpoint,
      credentials,
      buckets: { scale: BUCKET_SCALE },
      ...extra,
    }),
  );
}

function track<T extends { destroy(): void }>(client: T): T {
  created.push(client);
  return client;
}

interface Topology {
  subnetId: string;
  securityGroupId: string;
  instanceIds: string[];
}

async function start(): Promise<{ emulator: RunningEc2Emulator; topology: Topology }> {
  const emulator = await startEc2Emulator({
    port: 0,
    rngSeed: uniqueName('aws'),
    throttling: { enabled: true, scale: BUCKET_SCALE },
    latency: true,
  });
  const seeded = emulator.control.seed({
    vpcs: [
      {
        cidrBlocks: ['10.0.0.0/16'],
        subnets: [{ cidrBlock: '10.0.0.0/18', availabilityZone: 'us-west-2a', tags: { Name: 'nodes' } }],
        securityGroups: [{ name: 'pods' }],
        instances: [{ instanceType: 'm5.24xlarge', subnet: 'nodes', securityGroups: ['pods'], count: INSTANCES }],
      },
    ],
  });
  const [subnetId] = seeded.subnetIds;
  const [securityGroupId] = seeded.securityGroupIds;
  if (subnetId === undefined || securityGroupId === undefined) throw new Error('seed made no subnet or group');
  return { emulator, topology: { subnetId, securityGroupId, instanceIds: seeded.instanceIds } };
}

async function createTrunk(ec2: Ec2Api, topology: Topology, instanceId: string): Promise<string> {
  const trunk = await ec2.createNetworkInterface(
    {
      subnetId: topology.subnetId,
      securityGroupIds: [topology.securityGroupId],
      description: 'aws-k8s-trunk-eni',
      interfaceType: 'trunk',
      tags: trunkEniTags({ clusterName: 'it', instanceId, nodeName: instanceId }),
      clientToken: clientToken('trunk', instanceId),
    },
    { priority: 'critical' },
  );
  await ec2.attachNetworkInterface(
    { networkInterfaceId: trunk.id, instanceId, deviceIndex: 14 },
    { priority: 'critical' },
  );
  return trunk.id;
}

describe('burst of branch ENIs at default settings', () => {
  let emulator: RunningEc2Emulator;
  let topology: Topology;
  beforeAll(async () => ({ emulator, topology } = await start()));
  afterAll(async () => emulator.stop());

  test('500 branch create+associate complete and draw zero RequestLimitExceeded', async () => {
    const ec2 = api(emulator);
    const trunks = await Promise.all(topology.instanceIds.map((id) => createTrunk(ec2, topology, id)));
    const pods = trunks.flatMap((trunkEniId, n) =>
      Array.from({ length: BRANCHES_PER_INSTANCE }, (_, i) => ({
        trunkEniId,
        instanceId: topology.instanceIds[n] ?? '',
        vlanId: i + 1,
        podUid: `${uniqueName('pod')}-${n}-${i}`,
      })),
    );
    const results = await Promise.allSettled(
      pods.map(async (pod) => {
        const branch = await ec2.createNetworkInterface(
          {
            subnetId: topology.subnetId,
            securityGroupIds: [topology.securityGroupId],
            description: 'aws-k8s-branch-eni',
            tags: branchEniTags({
              clusterName: 'it',
              instanceId: pod.instanceId,
              nodeName: pod.instanceId,
              trunkEniId: pod.trunkEniId,
              vlanId: pod.vlanId,
              podNamespace: 'burst',
              podName: pod.podUid,
              podUid: pod.podUid,
            }),
            clientToken: clientToken('create-branch', pod.podUid),
          },
          { priority: 'critical' },
        );
        return ec2.associateTrunkInterface(
          {
            branchInterfaceId: branch.id,
            trunkInterfaceId: pod.trunkEniId,
            vlanId: pod.vlanId,
            clientToken: clientToken('associate', pod.podUid, pod.trunkEniId, pod.vlanId),
          },
          { priority: 'critical' },
        );
      }),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);

    const counters = emulator.control.counters();
    expect({
      createThrottled: counters.CreateNetworkInterface?.throttled,
      associateThrottled: counters.AssociateTrunkInterface?.throttled,
      attachThrottled: counters.AttachNetworkInterface?.throttled,
      creates: counters.CreateNetworkInterface?.calls,
      associates: counters.AssociateTrunkInterface?.calls,
    }).toEqual({
      createThrottled: 0,
      associateThrottled: 0,
      attachThrottled: 0,
      creates: INSTANCES + INSTANCES * BRANCHES_PER_INSTANCE,
      associates: INSTANCES * BRANCHES_PER_INSTANCE,
    });
    expect(emulator.control.dump().associations).toHaveLength(INSTANCES * BRANCHES_PER_INSTANCE);
  }, 180_000);
});

describe('faults', () => {
  let emulator: RunningEc2Emulator;
  let topology: Topology;
  beforeAll(async () => ({ emulator, topology } = await start()));
  afterAll(async () => emulator.stop());

  const branchInput = (podUid: string) => ({
    subnetId: topology.subnetId,
    securityGroupIds: [topology.securityGroupId],
    description: 'aws-k8s-branch-eni',
    tags: {
      ...branchEniTags({
        clusterName: 'it',
        instanceId: 'i-x',
        nodeName: 'n',
        trunkEniId: 'eni-x',
        vlanId: 1,
        podNamespace: 'ns',
        podName: 'p',
        podUid,
      }),
    },
    clientToken: clientToken('create-branch', podUid),
  });

  function enisOfPod(podUid: string): number {
    return emulator.control.dump().networkInterfaces.filter((eni) => eni.tags[TAG.podUid] === podUid).length;
  }

  test.each([
    [
      'lost responses (5xx after the ENI was made)',
      { code: 'InternalError', status: 500, phase: 'after' as const, count: 2 },
    ],
    ['throttling', { code: 'RequestLimitExceeded', status: 503, count: 2 }],
    ['unavailable', { code: 'Unavailable', status: 503, count: 1 }],
  ])('%s are retried by the SDK with the same ClientToken: one ENI', async (_name, fault) => {
    const ec2 = api(emulator, { maxAttempts: 3 });
    const podUid = uniqueName('pod');
    emulator.control.setFaults([{ action: 'CreateNetworkInterface', ...fault }]);
    const eni = await ec2.createNetworkInterface(branchInput(podUid), { priority: 'critical' });
    emulator.control.setFaults([]);
    expect(enisOfPod(podUid)).toBe(1);
    const described = await ec2.describeNetworkInterfaces(branchEnisOfPodFilter('it', podUid));
    expect(described.map((e) => e.id)).toEqual([eni.id]);
  });

  test('when the SDK gives up, the caller retries with the same token and still gets one ENI', async () => {
    const ec2 = api(emulator, { maxAttempts: 2 });
    const podUid = uniqueName('pod');
    emulator.control.setFaults([
      { action: 'CreateNetworkInterface', code: 'InternalError', status: 500, phase: 'after', count: 2 },
    ]);
    await expect(ec2.createNetworkInterface(branchInput(podUid))).rejects.toBeInstanceOf(Ec2RetryableError);
    emulator.control.setFaults([]);
    const eni = await ec2.createNetworkInterface(branchInput(podUid));
    expect(enisOfPod(podUid)).toBe(1);
    expect(eni.tags[TAG.podUid]).toBe(podUid);
  });

  test('a throttled response slows the bucket down (adaptive)', async () => {
    const ec2 = api(emulator, { maxAttempts: 3 });
    emulator.control.setFaults([{ action: 'CreateTags', code: 'RequestLimitExceeded', status: 503, count: 1 }]);
    const eni = await ec2.createNetworkInterface(branchInput(uniqueName('pod')));
    await ec2.createTags([eni.id], { extra: 'yes' });
    emulator.control.setFaults([]);
    expect(ec2.limiter.rateFactor('CreateTags')).toBe(0.5);
    expect(ec2.limiter.rateFactor('CreateNetworkInterface')).toBe(1);
  });

  test('deleting an ENI twice: the second is Ec2NotFoundError', async () => {
    const ec2 = api(emulator);
    const eni = await ec2.createNetworkInterface(branchInput(uniqueName('pod')));
    await ec2.deleteNetworkInterface(eni.id);
    await expect(ec2.deleteNetworkInterface(eni.id)).rejects.toBeInstanceOf(Ec2NotFoundError);
  });

  test('trunking not enabled: the error says what the account needs', async () => {
    const ec2 = api(emulator);
    emulator.control.setTrunkingEnabled(false);
    try {
      const err = await ec2.createNetworkInterface({ ...branchInput(uniqueName('pod')), interfaceType: 'trunk' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Ec2UnauthorizedError);
      expect((err as Error).message).toContain('allow-listed');
    } finally {
      emulator.control.setTrunkingEnabled(true);
    }
  });
});

describe('describes and endpoint', () => {
  let emulator: RunningEc2Emulator;
  let topology: Topology;
  beforeAll(async () => ({ emulator, topology } = await start()));
  afterAll(async () => emulator.stop());

  test('pages through more ENIs than one page holds', async () => {
    const marker = uniqueName('bulk');
    emulator.control.bulkCreateNetworkInterfaces({ subnetId: topology.subnetId, count: 1205, tags: { marker } });
    const ec2 = api(emulator);
    const enis = await ec2.describeNetworkInterfaces({ tags: { marker: [marker] } }, { priority: 'background' });
    expect(enis).toHaveLength(1205);
    expect(new Set(enis.map((e) => e.id)).size).toBe(1205);
  });

  test('describes an instance with its primary ENI, and an unknown one as not found', async () => {
    const ec2 = api(emulator);
    const [instanceId] = topology.instanceIds;
    const instance = await ec2.describeInstance(instanceId ?? '');
    expect(instance).toMatchObject({ id: instanceId, instanceType: 'm5.24xlarge', state: 'running' });
    expect(instance.networkInterfaces.map((e) => e.deviceIndex)).toEqual([0]);
    await expect(ec2.describeInstance('i-0000000000000dead')).rejects.toBeInstanceOf(Ec2NotFoundError);
  });

  test('security groups that do not exist are simply missing', async () => {
    const ec2 = api(emulator);
    const groups = await ec2.describeSecurityGroups([topology.securityGroupId, 'sg-0000000000000dead']);
    expect(groups.map((g) => g.id)).toEqual([topology.securityGroupId]);
  });

  test('groups by tag: tag:<key> with values, tag-key without, in one VPC only, values matched exactly', async () => {
    const ec2 = api(emulator);
    const team = uniqueName('team');
    const [vpcId] = emulator.control.seed({
      vpcs: [
        {
          cidrBlocks: ['10.50.0.0/16'],
          subnets: [],
          securityGroups: [
            { name: 'tagged', tags: { team } },
            { name: 'wildcard-lookalike', tags: { team: `${team}*` } },
          ],
        },
        { cidrBlocks: ['10.51.0.0/16'], subnets: [], securityGroups: [{ name: 'other-vpc', tags: { team } }] },
      ],
    }).vpcIds;
    const groupsOf = async (filter: { key: string; values?: string[] }) =>
      (await ec2.describeSecurityGroupsByTag({ vpcId: vpcId ?? '', ...filter })).map((g) => g.name).sort();
    expect(await groupsOf({ key: 'team', values: [team] })).toEqual(['tagged']);
    expect(await groupsOf({ key: 'team' })).toEqual(['tagged', 'wildcard-lookalike']);
    expect(await groupsOf({ key: 'team', values: [escapeFilterValue(`${team}*`)] })).toEqual(['wildcard-lookalike']);
    expect(await groupsOf({ key: 'no-such-key' })).toEqual([]);
  });

  test('IPv6 blocks, an IPv6 address and connection tracking go through the adapter both ways', async () => {
    const ec2 = api(emulator);
    const [vpcId] = emulator.control.seed({
      vpcs: [
        {
          cidrBlocks: ['10.60.0.0/16'],
          ipv6CidrBlocks: ['2600:1f14:60::/56'],
          subnets: [
            {
              cidrBlock: '10.60.0.0/24',
              ipv6CidrBlock: '2600:1f14:60:1::/64',
              availabilityZone: 'us-west-2a',
              tags: { Name: 'dual-stack' },
            },
          ],
          securityGroups: [{ name: 'dual' }],
          instances: [
            {
              instanceType: 'm5.large',
              subnet: 'dual-stack',
              securityGroups: ['dual'],
              connectionTracking: { tcpEstablishedTimeout: 3600, udpTimeout: 45 },
            },
          ],
        },
      ],
    }).vpcIds;
    const [subnet] = await ec2.describeSubnets({ vpcId: vpcId ?? '' });
    expect(subnet?.ipv6CidrBlock).toBe('2600:1f14:60:1::/64');
    expect((await ec2.describeVpc(vpcId ?? '')).ipv6CidrBlocks).toEqual(['2600:1f14:60::/56']);
    const instanceId = emulator.control.dump().instances.find((i) => i.vpcId === vpcId)?.id ?? '';
    const instance = await ec2.describeInstance(instanceId);
    const tracking = instance.networkInterfaces[0]?.connectionTracking;
    expect(tracking).toEqual({ tcpEstablishedTimeout: 3600, udpTimeout: 45 });

    const eni = await ec2.createNetworkInterface({
      subnetId: subnet?.id ?? '',
      securityGroupIds: [],
      description: 'aws-k8s-branch-eni',
      tags: {},
      clientToken: uniqueName('v6'),
      ipv6AddressCount: 1,
      ...(tracking === undefined ? {} : { connectionTracking: tracking }),
    });
    expect(eni.ipv6Address.startsWith('2600:1f14:60:1:')).toBe(true);
    const stored = emulator.control.dump().networkInterfaces.find((e) => e.id === eni.id);
    expect([stored?.ipv6Addresses, stored?.connectionTracking]).toEqual([
      [eni.ipv6Address],
      { tcpEstablishedTimeout: 3600, udpTimeout: 45 },
    ]);
  });

  test("a VPC's groups: every one with its name and tags, across pages, none of another VPC", async () => {
    const ec2 = api(emulator);
    const names = Array.from({ length: 1005 }, (_, index) => `g-${index}`);
    const [vpcId] = emulator.control.seed({
      vpcs: [
        {
          cidrBlocks: ['10.52.0.0/16'],
          subnets: [],
          securityGroups: names.map((name, index) => ({ name, tags: index === 7 ? { Name: 'seventh' } : undefined })),
        },
        { cidrBlocks: ['10.53.0.0/16'], subnets: [], securityGroups: [{ name: 'other-vpc' }] },
      ],
    }).vpcIds;
    const groups = await ec2.describeVpcSecurityGroups(vpcId ?? '');
    expect(groups.map((group) => group.name).sort()).toEqual(['default', ...names].sort());
    expect(groups.every((group) => group.vpcId === vpcId)).toBe(true);
    expect(groups.find((group) => group.name === 'g-7')?.tags).toEqual({ Name: 'seventh' });
  });

  test('the SDK honours AWS_ENDPOINT_URL_EC2 when no endpoint is given', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_EC2;
    process.env.AWS_ENDPOINT_URL_EC2 = emulator.endpoint;
    try {
      const ec2 = track(createEc2Api({ region: 'us-west-2', credentials }));
      const subnets = await ec2.describeSubnets({ ids: [topology.subnetId] });
      expect(subnets.map((s) => s.id)).toEqual([topology.subnetId]);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EC2;
      else process.env.AWS_ENDPOINT_URL_EC2 = saved;
    }
  });
});
