import { describe, expect, test } from '@jest/globals';
import type { Instance, NetworkInterface, Subnet } from '../../../../operator/aws/index.ts';
import type { InstanceTypeLimits } from '../../../../operator/limits/index.ts';
import {
  attachPollDelayMs,
  chooseTrunk,
  nextTrunkStep,
  type TrunkCandidates,
  type TrunkFacts,
} from '../../../../operator/controllers/trunkinterface/plan.ts';
import type { TrunkPlacement } from '../../../../operator/controllers/trunkinterface/pod-network.ts';
import { readyFields, recordedSubnet } from '../../../../operator/controllers/trunkinterface/status.ts';

const limits: InstanceTypeLimits = {
  instanceType: 'm5.large',
  maxEnis: 3,
  ipv4PerEni: 10,
  isTrunkingCompatible: true,
  branchEnis: 9,
  defaultNetworkCardIndex: 0,
  networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 3 }],
  source: 'table',
};
const primary = {
  id: 'eni-primary',
  deviceIndex: 0,
  networkCardIndex: 0,
  interfaceType: 'interface',
  securityGroupIds: ['sg-b', 'sg-a'],
  subnetId: 'subnet-1',
  privateIpAddress: '10.0.0.10',
};
const instance: Instance = {
  id: 'i-1',
  instanceType: 'm5.large',
  state: 'running',
  subnetId: 'subnet-1',
  vpcId: 'vpc-1',
  availabilityZone: 'us-west-2a',
  privateIpAddress: '10.0.0.10',
  networkInterfaces: [primary],
};
const subnet: Subnet = {
  id: 'subnet-1',
  vpcId: 'vpc-1',
  availabilityZone: 'us-west-2a',
  cidrBlock: '10.0.0.0/24',
  ipv6CidrBlock: '',
  availableIpAddressCount: 200,
  tags: {},
};
const trunk: NetworkInterface = {
  id: 'eni-trunk',
  subnetId: 'subnet-1',
  vpcId: 'vpc-1',
  availabilityZone: 'us-west-2a',
  description: 'aws-k8s-trunk-eni',
  interfaceType: 'trunk',
  status: 'available',
  macAddress: '02:00:00:00:00:01',
  privateIpAddress: '10.0.0.20',
  ipv6Address: '',
  securityGroupIds: ['sg-a', 'sg-b'],
  tags: { 'eks:eni:owner': 'sgp-operator' },
};
const attachment = (status: 'attaching' | 'attached' | 'detaching', deleteOnTermination: boolean) => ({
  attachmentId: 'eni-attach-1',
  instanceId: 'i-1',
  deviceIndex: 2,
  networkCardIndex: 0,
  status,
  deleteOnTermination,
});
const withTrunkOnDevice2: Instance = {
  ...instance,
  networkInterfaces: [primary, { ...primary, id: 'eni-trunk', deviceIndex: 2, interfaceType: 'trunk' }],
};
const full: Instance = {
  ...instance,
  networkInterfaces: [
    primary,
    { ...primary, id: 'eni-s1', deviceIndex: 1 },
    { ...primary, id: 'eni-s2', deviceIndex: 2 },
  ],
};

const facts = (overrides: Partial<TrunkFacts>): TrunkFacts => ({
  instance,
  limits,
  trunk: undefined,
  strays: [],
  subnet: undefined,
  placement: { kind: 'node-subnet' },
  ...overrides,
});
const pods: TrunkPlacement = { kind: 'eni-config', subnetId: 'subnet-pods', securityGroupIds: ['sg-pods'] };
const waiting = { kind: 'wait', message: 'node node-a uses ENIConfig pods-a, which does not exist' } as const;

describe('nextTrunkStep', () => {
  test.each<[string, TrunkFacts, Record<string, unknown>]>([
    [
      'no trunk anywhere: create with the primary ENI groups (sorted) in the instance subnet',
      facts({}),
      { kind: 'create', subnetId: 'subnet-1', securityGroupIds: ['sg-a', 'sg-b'] },
    ],
    [
      "an ENIConfig: create in its subnet with its groups, still with the primary ENI's connection tracking",
      facts({ placement: pods }),
      {
        kind: 'create',
        subnetId: 'subnet-pods',
        securityGroupIds: ['sg-pods'],
        message: expect.stringContaining('subnet-pods'),
      },
    ],
    [
      "an ENIConfig without groups: its subnet, the primary ENI's groups",
      facts({ placement: { kind: 'eni-config', subnetId: 'subnet-pods', securityGroupIds: [] } }),
      { kind: 'create', subnetId: 'subnet-pods', securityGroupIds: ['sg-a', 'sg-b'] },
    ],
    [
      'an unusable ENIConfig and no trunk: create nothing, wait for the pod network',
      facts({ placement: waiting }),
      { kind: 'wait-pod-network', message: waiting.message },
    ],
    [
      'an unusable ENIConfig and every slot taken: the pod network is waited for first',
      facts({ instance: full, placement: waiting }),
      { kind: 'wait-pod-network' },
    ],
    [
      'an unusable ENIConfig but our unattached trunk exists: attach it (where it is is decided)',
      facts({ trunk, placement: waiting }),
      { kind: 'attach', eniId: 'eni-trunk' },
    ],
    [
      'an unusable ENIConfig but a trunk is attached: adopt it',
      facts({
        instance: withTrunkOnDevice2,
        trunk: { ...trunk, attachment: attachment('attached', true) },
        subnet,
        placement: waiting,
      }),
      { kind: 'ready' },
    ],
    ['instance pending: wait', facts({ instance: { ...instance, state: 'pending' } }), { kind: 'wait-instance' }],
    [
      'instance pending and an unusable ENIConfig: the instance first',
      facts({ instance: { ...instance, state: 'pending' }, placement: waiting }),
      { kind: 'wait-instance' },
    ],
    ['instance stopped: wait', facts({ instance: { ...instance, state: 'stopped' } }), { kind: 'wait-instance' }],
    [
      'strays from failed attempts go first',
      facts({ strays: ['eni-old'] }),
      { kind: 'delete-stray', eniId: 'eni-old' },
    ],
    [
      'our unattached trunk (crash after create): attach at the highest free index',
      facts({ trunk }),
      { kind: 'attach', eniId: 'eni-trunk', deviceIndex: 2, networkCardIndex: 0 },
    ],
    [
      'every slot taken, nothing created: no free slot, nothing to delete',
      facts({ instance: full }),
      { kind: 'no-free-slot', eniId: undefined },
    ],
    [
      'every slot taken with our unattached trunk: no free slot, delete it',
      facts({ instance: full, trunk }),
      { kind: 'no-free-slot', eniId: 'eni-trunk' },
    ],
    [
      'attached without DeleteOnTermination: set it',
      facts({
        instance: withTrunkOnDevice2,
        trunk: { ...trunk, status: 'in-use', attachment: attachment('attached', false) },
      }),
      { kind: 'set-delete-on-termination', eniId: 'eni-trunk', attachmentId: 'eni-attach-1' },
    ],
    [
      'attaching with DeleteOnTermination: wait',
      facts({ instance: withTrunkOnDevice2, trunk: { ...trunk, attachment: attachment('attaching', true) } }),
      { kind: 'wait-attached', eniId: 'eni-trunk' },
    ],
    [
      'detaching: wait, never create a second trunk',
      facts({ instance: withTrunkOnDevice2, trunk: { ...trunk, attachment: attachment('detaching', true) } }),
      { kind: 'wait-attached', eniId: 'eni-trunk' },
    ],
    [
      'attached, subnet unknown: describe it',
      facts({ instance: withTrunkOnDevice2, trunk: { ...trunk, attachment: attachment('attached', true) } }),
      { kind: 'describe-subnet', subnetId: 'subnet-1' },
    ],
    [
      'attached, subnet known: ready',
      facts({ instance: withTrunkOnDevice2, trunk: { ...trunk, attachment: attachment('attached', true) }, subnet }),
      { kind: 'ready' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(nextTrunkStep(input)).toMatchObject(expected);
  });

  test("a create always carries the primary ENI's connection tracking; an instance without it carries none", () => {
    const tracking = { tcpEstablishedTimeout: 3600, udpTimeout: 45 };
    const tracked: Instance = { ...instance, networkInterfaces: [{ ...primary, connectionTracking: tracking }] };
    expect(nextTrunkStep(facts({ instance: tracked }))).toMatchObject({ kind: 'create', connectionTracking: tracking });
    expect(nextTrunkStep(facts({ instance: tracked, placement: pods }))).toMatchObject({
      connectionTracking: tracking,
    });
    expect(nextTrunkStep(facts({}))).not.toHaveProperty('connectionTracking');
  });

  test('the no-free-slot message counts the ENIs and says what to change', () => {
    const step = nextTrunkStep(facts({ instance: full }));
    expect(step.kind === 'no-free-slot' ? step.message : '').toBe(
      'instance i-1 (m5.large) has no free ENI slot for the trunk ENI: 3 of 3 ENIs are attached; ' +
        "lower the VPC CNI's WARM_ENI_TARGET/MAX_ENI, or replace the node, so one slot stays free",
    );
  });
});

describe('chooseTrunk', () => {
  const unattached = (id: string): NetworkInterface => ({ ...trunk, id });
  const attached = (id: string): NetworkInterface => ({
    ...trunk,
    id,
    status: 'in-use',
    attachment: attachment('attached', true),
  });
  test.each<[string, NetworkInterface[], string | undefined, string | undefined, TrunkCandidates]>([
    [
      'nothing of ours, nothing attached',
      [],
      undefined,
      undefined,
      { trunk: undefined, describeAttachedId: undefined, strays: [] },
    ],
    [
      'one unattached ENI of ours (a crash after create): keep it',
      [unattached('eni-b')],
      undefined,
      undefined,
      { trunk: unattached('eni-b'), describeAttachedId: undefined, strays: [] },
    ],
    [
      'several unattached: keep the lowest id, the rest are strays',
      [unattached('eni-c'), unattached('eni-a'), unattached('eni-b')],
      undefined,
      undefined,
      { trunk: unattached('eni-a'), describeAttachedId: undefined, strays: ['eni-b', 'eni-c'] },
    ],
    [
      'several unattached: the one status names wins over a lower id',
      [unattached('eni-a'), unattached('eni-c')],
      undefined,
      'eni-c',
      { trunk: unattached('eni-c'), describeAttachedId: undefined, strays: ['eni-a'] },
    ],
    [
      'ours attached: keep it, every unattached one is a stray',
      [attached('eni-t'), unattached('eni-a')],
      'eni-t',
      'eni-a',
      { trunk: attached('eni-t'), describeAttachedId: undefined, strays: ['eni-a'] },
    ],
    [
      'a trunk attached that is not ours (adoption): describe it, our unattached ones are strays',
      [unattached('eni-a')],
      'eni-eks',
      undefined,
      { trunk: undefined, describeAttachedId: 'eni-eks', strays: ['eni-a'] },
    ],
    [
      'an ENI still attaching or detaching elsewhere is neither kept nor a stray',
      [{ ...trunk, id: 'eni-x', status: 'attaching' }],
      undefined,
      undefined,
      { trunk: undefined, describeAttachedId: undefined, strays: [] },
    ],
  ])('%s', (_name, ours, attachedId, recordedEniId, expected) => {
    expect(chooseTrunk(ours, attachedId, recordedEniId)).toEqual(expected);
  });
});

describe('attachPollDelayMs', () => {
  test.each([
    [0, 1_000],
    [1, 2_000],
    [4, 16_000],
    [5, 30_000],
    [60, 30_000],
  ])('poll %i waits %i ms', (attempt, expected) => {
    expect(attachPollDelayMs(attempt)).toBe(expected);
  });
});

describe('trunk status fields', () => {
  test('Ready records the ENI, its attachment, its subnet and sorted groups; no IPv6 CIDR when the subnet has none', () => {
    expect(
      readyFields(
        { ...trunk, securityGroupIds: ['sg-b', 'sg-a'], attachment: attachment('attached', true) },
        subnet,
        instance,
      ),
    ).toEqual({
      eniId: 'eni-trunk',
      attachmentId: 'eni-attach-1',
      subnetId: 'subnet-1',
      subnetCidr: '10.0.0.0/24',
      availabilityZone: 'us-west-2a',
      securityGroups: ['sg-a', 'sg-b'],
      primaryInterface: { securityGroups: ['sg-a', 'sg-b'] },
    });
    expect(readyFields(trunk, { ...subnet, ipv6CidrBlock: '2600:1f14::/64' }, instance)).toMatchObject({
      subnetV6Cidr: '2600:1f14::/64',
    });
  });

  test("Ready records the primary ENI's groups and connection tracking, which branch ENIs copy", () => {
    const tracking = { tcpEstablishedTimeout: 3600, udpStreamTimeout: 120 };
    const tracked: Instance = { ...instance, networkInterfaces: [{ ...primary, connectionTracking: tracking }] };
    expect(readyFields(trunk, subnet, tracked).primaryInterface).toEqual({
      securityGroups: ['sg-a', 'sg-b'],
      connectionTracking: tracking,
    });
  });

  test('the recorded subnet spares a describe only once id, CIDR and zone are all on record', () => {
    expect(recordedSubnet(undefined, 'vpc-1')).toBeUndefined();
    expect(recordedSubnet({ subnetId: 'subnet-1', availabilityZone: 'us-west-2a' }, 'vpc-1')).toBeUndefined();
    expect(
      recordedSubnet({ subnetId: 'subnet-1', subnetCidr: '10.0.0.0/24', availabilityZone: 'us-west-2a' }, 'vpc-1'),
    ).toEqual({ ...subnet, availableIpAddressCount: 0 });
  });

  test('a recorded Ready status plans straight to ready: the re-check describes no subnet', () => {
    const recorded = recordedSubnet(
      readyFields({ ...trunk, attachment: attachment('attached', true) }, subnet, instance),
      'vpc-1',
    );
    const step = nextTrunkStep(
      facts({
        instance: withTrunkOnDevice2,
        trunk: { ...trunk, attachment: attachment('attached', true) },
        subnet: recorded,
      }),
    );
    expect(step.kind).toBe('ready');
  });
});
