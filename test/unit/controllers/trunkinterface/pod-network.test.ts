import { describe, expect, test } from '@jest/globals';
import type { CNINode, TrunkInterface } from '../../../../operator/api/types.ts';
import type { Instance } from '../../../../operator/aws/index.ts';
import {
  branchSubnetProblem,
  desiredTrunkGroups,
  knownSubnet,
  nodeNetworkState,
  trunkCreateSpec,
  withPrimaryFromCniNode,
} from '../../../../operator/controllers/trunkinterface/pod-network.ts';
import type { TrunkStatus } from '../../../../operator/controllers/trunkinterface/status.ts';

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

describe('trunkCreateSpec', () => {
  test('without an ENIConfig: the node subnet, the primary ENI groups and its connection tracking', () => {
    expect(trunkCreateSpec(instance, undefined)).toEqual({
      subnetId: 'subnet-node',
      securityGroupIds: ['sg-node-a', 'sg-node-b'],
      connectionTracking: tracking,
    });
  });
  test("with an ENIConfig: its subnet and groups; no groups in it means the primary's", () => {
    expect(trunkCreateSpec(instance, { subnetId: 'subnet-pods', securityGroupIds: ['sg-pods'] })).toEqual({
      subnetId: 'subnet-pods',
      securityGroupIds: ['sg-pods'],
      connectionTracking: tracking,
    });
    expect(trunkCreateSpec(instance, { subnetId: 'subnet-pods', securityGroupIds: [] }).securityGroupIds).toEqual([
      'sg-node-a',
      'sg-node-b',
    ]);
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
