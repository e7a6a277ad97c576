import { describe, expect, test } from '@jest/globals';
import type { Instance, NetworkInterface, Subnet } from '../../../../operator/aws/index.ts';
import type { InstanceTypeLimits } from '../../../../operator/limits/index.ts';
import { nextTrunkStep, type TrunkFacts } from '../../../../operator/controllers/trunkinterface/plan.ts';

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
  ...overrides,
});

describe('nextTrunkStep', () => {
  test.each<[string, TrunkFacts, Record<string, unknown>]>([
    [
      'no trunk anywhere: create with the primary ENI groups (sorted) in the instance subnet',
      facts({}),
      { kind: 'create', subnetId: 'subnet-1', securityGroupIds: ['sg-a', 'sg-b'] },
    ],
    ['instance pending: wait', facts({ instance: { ...instance, state: 'pending' } }), { kind: 'wait-instance' }],
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

  test('the no-free-slot message counts the ENIs and says what to change', () => {
    const step = nextTrunkStep(facts({ instance: full }));
    expect(step.kind === 'no-free-slot' ? step.message : '').toBe(
      'instance i-1 (m5.large) has no free ENI slot for the trunk ENI: 3 of 3 ENIs are attached; ' +
        "lower the VPC CNI's WARM_ENI_TARGET/MAX_ENI, or replace the node, so one slot stays free",
    );
  });
});
