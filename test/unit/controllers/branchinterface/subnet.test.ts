import { describe, expect, test } from '@jest/globals';
import { chooseBranchSubnet, type SubnetChoiceInput } from '../../../../operator/controllers/branchinterface/subnet.ts';
import type { PodSubnet } from '../../../../operator/controllers/vpcnetwork/index.ts';

const podSubnet = (id: string, free: number): PodSubnet => ({
  id,
  availabilityZone: 'us-west-2a',
  cidrBlock: `cidr-of-${id}`,
  ipv6CidrBlock: '',
  availableIpAddressCount: free,
});

function input(overrides: Partial<SubnetChoiceInput> = {}, exhausted: string[] = []): SubnetChoiceInput {
  return {
    nodeSubnet: { subnetId: 'subnet-node', subnetCidr: '10.0.0.0/24', subnetV6Cidr: '' },
    nodeName: 'node-a',
    availabilityZone: 'us-west-2a',
    podSubnets: [],
    isExhausted: (id) => exhausted.includes(id),
    tagKey: 'kubernetes.io/role/cni',
    needsIpv6: false,
    ...overrides,
  };
}

const v6 = (subnet: PodSubnet, block: string): PodSubnet => ({ ...subnet, ipv6CidrBlock: block });
const dualStackNode = { subnetId: 'subnet-node', subnetCidr: '10.0.0.0/24', subnetV6Cidr: '2600:1f14:0:1::/64' };

describe('chooseBranchSubnet', () => {
  test('the node subnet while it has room, even when tagged subnets exist (EKS behaviour)', () => {
    const choice = chooseBranchSubnet(input({ podSubnets: [podSubnet('subnet-b', 200)] }));
    expect(choice).toEqual({ outcome: 'node-subnet', subnet: input().nodeSubnet });
  });

  test('a full node subnet falls over to the tagged subnet with the most free addresses', () => {
    const choice = chooseBranchSubnet(
      input({ podSubnets: [podSubnet('subnet-b', 20), podSubnet('subnet-c', 200), podSubnet('subnet-d', 50)] }, [
        'subnet-node',
      ]),
    );
    expect(choice).toMatchObject({
      outcome: 'pod-subnet',
      subnet: { subnetId: 'subnet-c', subnetCidr: 'cidr-of-subnet-c', subnetV6Cidr: '' },
    });
    if (choice.outcome === 'pod-subnet') {
      expect(choice.message).toBe(
        'subnet subnet-node of node node-a has no free IPv4 address; the branch ENI goes to subnet subnet-c ' +
          '(cidr-of-subnet-c, tagged kubernetes.io/role/cni, 200 free)',
      );
    }
  });

  test('ties go to the lowest id, so replicas and retries choose alike', () => {
    const choice = chooseBranchSubnet(
      input({ podSubnets: [podSubnet('subnet-z', 10), podSubnet('subnet-a', 10)] }, ['subnet-node']),
    );
    expect(choice).toMatchObject({ subnet: { subnetId: 'subnet-a' } });
  });

  test('tagged subnets that are full, marked exhausted, or the node subnet itself are skipped', () => {
    const choice = chooseBranchSubnet(
      input(
        {
          podSubnets: [podSubnet('subnet-node', 0), podSubnet('subnet-b', 0), podSubnet('subnet-c', 90)],
        },
        ['subnet-node', 'subnet-c'],
      ),
    );
    expect(choice.outcome).toBe('exhausted');
    if (choice.outcome === 'exhausted') {
      expect(choice.message).toBe(
        'subnet subnet-node of node node-a has no free IPv4 address, and the subnets tagged kubernetes.io/role/cni ' +
          'in us-west-2a (subnet-node, subnet-b, subnet-c) have none either; free addresses, or create a subnet in ' +
          'us-west-2a (a new VPC CIDR block works too) and tag it kubernetes.io/role/cni: the operator picks it up ' +
          'without a restart',
      );
    }
  });

  test('with the tag key turned off the branch never leaves the node subnet, and the message says how to allow it', () => {
    const choice = chooseBranchSubnet(input({ tagKey: '', podSubnets: [] }, ['subnet-node']));
    expect(choice).toEqual({
      outcome: 'exhausted',
      message:
        'subnet subnet-node of node node-a has no free IPv4 address; free addresses, or set --pod-subnet-tag-key ' +
        'so branch ENIs can use subnets tagged for pods in the same zone',
    });
  });

  test('no tagged subnet at all: the message says which tag to add where', () => {
    const choice = chooseBranchSubnet(input({}, ['subnet-node']));
    expect(choice).toMatchObject({ outcome: 'exhausted' });
    if (choice.outcome === 'exhausted') {
      expect(choice.message).toContain('no subnet in us-west-2a is tagged kubernetes.io/role/cni');
    }
  });

  describe('when branch ENIs need an IPv6 address (IPv6 cluster or dual-stack)', () => {
    test('the node subnet with an IPv6 block is used as before', () => {
      const choice = chooseBranchSubnet(input({ needsIpv6: true, nodeSubnet: dualStackNode }));
      expect(choice).toEqual({ outcome: 'node-subnet', subnet: dualStackNode });
    });

    test('a node subnet without an IPv6 block is an error naming the subnet, the node and the fix', () => {
      const choice = chooseBranchSubnet(input({ needsIpv6: true, podSubnets: [v6(podSubnet('subnet-b', 9), 'b6')] }));
      expect(choice).toEqual({
        outcome: 'no-ipv6-block',
        message:
          "subnet subnet-node of node node-a has no IPv6 CIDR block, and this pod's branch ENI needs an IPv6 address " +
          '(IPv6 cluster or --dual-stack-branch-enis); associate an IPv6 /64 of the VPC with subnet-node ' +
          '(aws ec2 associate-subnet-cidr-block) and the pod gets its ENI',
      });
    });

    test('a full node subnet falls over only to tagged subnets that have an IPv6 block', () => {
      const podSubnets = [
        podSubnet('subnet-big-v4-only', 500),
        v6(podSubnet('subnet-small', 20), '2600:1f14:0:2::/64'),
      ];
      const choice = chooseBranchSubnet(
        input({ needsIpv6: true, nodeSubnet: dualStackNode, podSubnets }, ['subnet-node']),
      );
      expect(choice).toMatchObject({
        outcome: 'pod-subnet',
        subnet: { subnetId: 'subnet-small', subnetV6Cidr: '2600:1f14:0:2::/64' },
      });
    });

    test('tagged subnets without an IPv6 block do not count: the message says so', () => {
      const choice = chooseBranchSubnet(
        input({ needsIpv6: true, nodeSubnet: dualStackNode, podSubnets: [podSubnet('subnet-b', 500)] }, [
          'subnet-node',
        ]),
      );
      expect(choice).toMatchObject({ outcome: 'exhausted' });
      expect(choice.outcome === 'exhausted' && choice.message).toContain(
        '(subnet-b) have none with an IPv6 block either',
      );
    });
  });
});
