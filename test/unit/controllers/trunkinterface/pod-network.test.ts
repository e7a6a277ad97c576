import { describe, expect, test } from '@jest/globals';
import type { CNINode, TrunkInterface } from '../../../../operator/api/types.ts';
import type { Instance } from '../../../../operator/aws/index.ts';
import {
  branchSubnetProblem,
  desiredTrunkGroups,
  isStale,
  knownSubnet,
  nodeNetworkState,
  recheckAfterMs,
  trunkPlacement,
  withPrimaryFromCniNode,
  type TrunkPlacement,
} from '../../../../operator/controllers/trunkinterface/pod-network.ts';
import type { TrunkStatus } from '../../../../operator/controllers/trunkinterface/status.ts';
import type { NodePodNetwork } from '../../../../operator/controllers/podnetwork/index.ts';

const tracking = { tcpEstablishedTimeout: 3600, udpTimeout: 45 };
const instance: Instance = {
  id: 'i-0123456789abcdef0',
  instanceType: 'm5.large',
  state: 'running',
  subnetId: 'subnet-node',
  vpcId: 'vpc-1',
  availabilityZone: 'us-west-2a',
  privateIpAddress: '10.0.0.10',
  networkInterfaces: [
    {
      id: 'eni-primary',
      deviceIndex: 0,
      networkCardIndex: 0,
      interfaceType: 'interface',
      securityGroupIds: ['sg-node-b', 'sg-node-a'],
      subnetId: 'subnet-node',
      privateIpAddress: '10.0.0.10',
      connectionTracking: tracking,
    },
  ],
};
const trunk = (status: TrunkStatus): TrunkInterface => ({
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'TrunkInterface',
  metadata: { name: 'node-a' },
  spec: { nodeName: 'node-a', instanceId: instance.id, instanceType: 'm5.large' },
  status,
});

const onEniConfig: NodePodNetwork = {
  kind: 'eni-config',
  name: 'pods-a',
  subnetId: 'subnet-pods',
  securityGroups: ['sg-pods'],
};
const missing: NodePodNetwork = {
  kind: 'problem',
  reason: 'ENIConfigNotFound',
  message: 'ENIConfig pods-a is missing',
};

describe('trunkPlacement: where a trunk not made yet goes', () => {
  test.each<[string, NodePodNetwork, { isBlocking: boolean; message: string } | undefined, TrunkPlacement]>([
    ["the node's own subnet", { kind: 'node-subnet' }, undefined, { kind: 'node-subnet' }],
    [
      'an ignored ENIConfig (custom networking off): the node subnet',
      { kind: 'node-subnet', warning: 'ignored' },
      undefined,
      { kind: 'node-subnet' },
    ],
    [
      "the ENIConfig's subnet and groups",
      onEniConfig,
      undefined,
      { kind: 'eni-config', subnetId: 'subnet-pods', securityGroupIds: ['sg-pods'] },
    ],
    [
      'a subnet without the IPv6 block branch ENIs need does not hold the trunk back',
      onEniConfig,
      { isBlocking: false, message: 'no IPv6 block' },
      { kind: 'eni-config', subnetId: 'subnet-pods', securityGroupIds: ['sg-pods'] },
    ],
    [
      'an ENIConfig subnet in another zone: wait, saying why',
      onEniConfig,
      { isBlocking: true, message: 'subnet-pods is in us-west-2b' },
      { kind: 'wait', message: 'subnet-pods is in us-west-2b' },
    ],
    [
      'a missing ENIConfig: wait',
      missing,
      { isBlocking: true, message: 'ENIConfig pods-a is missing' },
      { kind: 'wait', message: 'ENIConfig pods-a is missing' },
    ],
  ])('%s', (_name, decision, problem, expected) => {
    expect(trunkPlacement(decision, problem)).toEqual(expected);
  });
});

describe('isStale: a view taken before status knew the trunk subnet is taken again', () => {
  const ready: TrunkStatus = { state: 'Ready', subnetId: 'subnet-node', subnetCidr: '10.0.0.0/24' };
  test.each<[string, NodePodNetwork, string | undefined, TrunkStatus, boolean]>([
    ['node subnet, taken before the trunk was Ready', { kind: 'node-subnet' }, undefined, ready, true],
    ['node subnet, taken with the subnet known', { kind: 'node-subnet' }, 'subnet-node', ready, false],
    ['node subnet, the trunk found in another subnet', { kind: 'node-subnet' }, 'subnet-old', ready, true],
    ["an ENIConfig: its subnet does not depend on the trunk's", onEniConfig, 'subnet-pods', ready, false],
    ['a problem: nothing to look at again', missing, undefined, ready, false],
  ])('%s', (_name, decision, target, status, expected) => {
    expect(isStale({ decision, target }, status)).toBe(expected);
  });
});

describe('recheckAfterMs', () => {
  const condition = (status: 'True' | 'False'): TrunkStatus => ({
    conditions: [
      { type: 'PodNetworkReady', status, reason: 'r', message: 'm', lastTransitionTime: '2026-03-01T00:00:00Z' },
    ],
  });
  test.each<[string, number, TrunkStatus, number]>([
    ['no pod network condition: as asked', 900_000, {}, 900_000],
    ['pod network fine: as asked', 900_000, condition('True'), 900_000],
    ['a pod network problem: within a minute', 900_000, condition('False'), 60_000],
    ['a problem, asked sooner: sooner', 5_000, condition('False'), 5_000],
  ])('%s', (_name, ms, status, expected) => {
    expect(recheckAfterMs(ms, status)).toBe(expected);
  });
});

describe('knownSubnet: no DescribeSubnets when status knows the subnet', () => {
  const status: TrunkStatus = { subnetId: 'subnet-node', subnetCidr: '10.0.0.0/24' };
  test.each<[string, TrunkStatus, string, boolean, object | undefined]>([
    ["the trunk's own subnet", status, 'subnet-node', false, { subnetId: 'subnet-node', cidrBlock: '10.0.0.0/24' }],
    ['another subnet is not known', status, 'subnet-other', false, undefined],
    ['recorded without an IPv6 block: asked again while IPv6 is needed', status, 'subnet-node', true, undefined],
    [
      'the branch subnet as recorded',
      { ...status, branchSubnet: { subnetId: 'subnet-pods', cidrBlock: '100.64.0.0/24', ipv6CidrBlock: '2600::/64' } },
      'subnet-pods',
      true,
      { subnetId: 'subnet-pods', cidrBlock: '100.64.0.0/24', ipv6CidrBlock: '2600::/64' },
    ],
  ])('%s', (_name, s, id, v6, expected) => {
    expect(knownSubnet(s, id, v6)).toEqual(expected);
  });
});

describe('branchSubnetProblem', () => {
  const base = {
    nodeName: 'node-a',
    subnetId: 'subnet-pods',
    availabilityZone: 'us-west-2a',
    needsIpv6: false,
    ipFamily: 'ipv4' as const,
    eniConfig: 'pods-a',
  };
  const subnet = { id: 'subnet-pods', availabilityZone: 'us-west-2a', ipv6CidrBlock: '' };
  test('a usable subnet is no problem', () => {
    expect(branchSubnetProblem({ ...base, subnet })).toBeUndefined();
  });
  test('a subnet that does not exist blocks', () => {
    expect(branchSubnetProblem({ ...base, subnet: undefined })).toMatchObject({
      reason: 'ENIConfigInvalid',
      isBlocking: true,
    });
  });
  test('a subnet in another zone blocks, naming both zones', () => {
    expect(branchSubnetProblem({ ...base, subnet: { ...subnet, availabilityZone: 'us-west-2b' } })).toEqual({
      reason: 'ENIConfigInvalid',
      isBlocking: true,
      message: expect.stringContaining(
        "ENIConfig pods-a's subnet subnet-pods is in us-west-2b but node node-a is in us-west-2a",
      ),
    });
  });
  test('no IPv6 block while IPv6 is needed: reported, not blocking (the trunk needs none)', () => {
    expect(branchSubnetProblem({ ...base, subnet, needsIpv6: true, ipFamily: 'ipv6' })).toEqual({
      reason: 'SubnetWithoutIPv6Block',
      isBlocking: false,
      message: expect.stringContaining(
        'has no IPv6 CIDR block, and branch ENIs need an IPv6 address (the cluster is IPv6)',
      ),
    });
  });
});

describe('desiredTrunkGroups', () => {
  const status: TrunkStatus = { securityGroups: ['sg-node'], primaryInterface: { securityGroups: ['sg-node'] } };
  test.each<[string, Parameters<typeof desiredTrunkGroups>[0], TrunkStatus, string[] | undefined]>([
    ['no ENIConfig, never had one: left alone, as on EKS', { kind: 'node-subnet' }, status, undefined],
    [
      "an ENIConfig's groups",
      { kind: 'eni-config', name: 'a', subnetId: 's', securityGroups: ['sg-pods'] },
      status,
      ['sg-pods'],
    ],
    [
      'an ENIConfig without groups: the primary ENI groups',
      { kind: 'eni-config', name: 'a', subnetId: 's', securityGroups: [] },
      status,
      ['sg-node'],
    ],
    [
      'the ENIConfig went away: back to the primary ENI groups',
      { kind: 'node-subnet' },
      { ...status, eniConfig: 'a' },
      ['sg-node'],
    ],
  ])('%s', (_name, decision, s, expected) => {
    expect(desiredTrunkGroups(decision, s)).toEqual(expected);
  });
});

describe('CNINode nodeNetworkState', () => {
  const ready: TrunkStatus = {
    state: 'Ready',
    branchSubnet: { subnetId: 'subnet-pods', cidrBlock: '100.64.0.0/24', ipv6CidrBlock: '2600::/64' },
    primaryInterface: { securityGroups: ['sg-node'], connectionTracking: tracking },
  };
  test('a Ready trunk writes where branches go and the primary ENI settings', () => {
    expect(nodeNetworkState(trunk(ready), ready)).toEqual({
      instanceID: instance.id,
      instanceType: 'm5.large',
      subnetID: 'subnet-pods',
      subnetCIDRBlock: '100.64.0.0/24',
      subnetV6CIDRBlock: '2600::/64',
      primaryNetworkInterfaceSecurityGroups: ['sg-node'],
      connectionTracking: tracking,
    });
    expect(nodeNetworkState(trunk(ready), { ...ready, state: 'Attaching' })).toBeUndefined();
  });

  test('a status without the primary ENI settings takes them from the CNINode of the same instance only', () => {
    const cni: CNINode = {
      apiVersion: 'vpcresources.k8s.aws/v1alpha1',
      kind: 'CNINode',
      metadata: { name: 'node-a' },
      status: { nodeNetworkState: nodeNetworkState(trunk(ready), ready) },
    };
    const old: TrunkStatus = { state: 'Ready', eniId: 'eni-trunk' };
    expect(withPrimaryFromCniNode(trunk(old), cni).status?.primaryInterface).toEqual(ready.primaryInterface);
    const otherInstance = { ...trunk(old), spec: { ...trunk(old).spec, instanceId: 'i-0fffffffffffffff0' } };
    expect(withPrimaryFromCniNode(otherInstance, cni).status?.primaryInterface).toBeUndefined();
  });
});
