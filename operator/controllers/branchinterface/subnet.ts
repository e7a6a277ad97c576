/**
 * Which subnet a branch ENI is created in. Pure.
 *
 * The node's subnet (the trunk's), as EKS does, while it has free addresses. When it is known to be
 * exhausted — EC2 answered InsufficientFreeAddressesInSubnet, or the last DescribeSubnets counted no free
 * address — the branch goes to a subnet tagged for pods (`kubernetes.io/role/cni` by default, the tag the VPC
 * CNI's subnet discovery reads) in the node's availability zone: EC2 only associates a branch with a trunk in
 * the same VPC and zone. Among those, the one with the most free addresses wins (ties: lowest id), so pods
 * spread over the added ranges instead of draining one subnet first.
 *
 * The choice is written to BranchInterface status before CreateNetworkInterface (allocate.ts) and is part
 * of the create's ClientToken, so a retry after a crash asks EC2 for the same ENI in the same subnet.
 */
import type { TrunkInterface } from '../../api/types.ts';
import type { SubnetDirectory } from '../vpcnetwork/directory.ts';
import type { PodSubnet } from '../vpcnetwork/snapshot.ts';
import { podSubnetsInZone } from '../vpcnetwork/snapshot.ts';

export interface BranchSubnet {
  subnetId: string;
  subnetCidr: string;
  /** '' when the subnet has no IPv6 block. */
  subnetV6Cidr: string;
}

export interface SubnetChoiceInput {
  /** The trunk's subnet (the node's). */
  nodeSubnet: BranchSubnet;
  nodeName: string;
  availabilityZone: string;
  /** Tagged subnets in the node's zone. */
  podSubnets: readonly PodSubnet[];
  /** Subnets known to have no free address. */
  isExhausted: (subnetId: string) => boolean;
  /** The tag key, for messages. */
  tagKey: string;
}

export type SubnetChoice =
  | { outcome: 'node-subnet'; subnet: BranchSubnet }
  | { outcome: 'pod-subnet'; subnet: BranchSubnet; message: string }
  | { outcome: 'exhausted'; message: string };

export function chooseBranchSubnet(input: SubnetChoiceInput): SubnetChoice {
  const { nodeSubnet } = input;
  if (!input.isExhausted(nodeSubnet.subnetId)) return { outcome: 'node-subnet', subnet: nodeSubnet };

  const candidates = input.podSubnets
    .filter((subnet) => subnet.id !== nodeSubnet.subnetId && !input.isExhausted(subnet.id))
    .filter((subnet) => subnet.availableIpAddressCount > 0)
    .sort((a, b) => b.availableIpAddressCount - a.availableIpAddressCount || (a.id < b.id ? -1 : 1));
  const best = candidates[0];
  if (best === undefined && input.tagKey === '') {
    return {
      outcome: 'exhausted',
      message:
        `subnet ${nodeSubnet.subnetId} of node ${input.nodeName} has no free IPv4 address; free addresses, or ` +
        'set --pod-subnet-tag-key so branch ENIs can use subnets tagged for pods in the same zone',
    };
  }
  if (best === undefined) {
    const tagged = input.podSubnets.map((subnet) => subnet.id);
    return {
      outcome: 'exhausted',
      message:
        `subnet ${nodeSubnet.subnetId} of node ${input.nodeName} has no free IPv4 address, and ` +
        (tagged.length === 0
          ? `no subnet in ${input.availabilityZone} is tagged ${input.tagKey}`
          : `the subnets tagged ${input.tagKey} in ${input.availabilityZone} (${tagged.join(', ')}) have none either`) +
        `; free addresses, or create a subnet in ${input.availabilityZone} (a new VPC CIDR block works too) ` +
        `and tag it ${input.tagKey}: the operator picks it up without a restart`,
    };
  }
  return {
    outcome: 'pod-subnet',
    subnet: { subnetId: best.id, subnetCidr: best.cidrBlock, subnetV6Cidr: best.ipv6CidrBlock },
    message:
      `subnet ${nodeSubnet.subnetId} of node ${input.nodeName} has no free IPv4 address; the branch ENI goes ` +
      `to subnet ${best.id} (${best.cidrBlock}, tagged ${input.tagKey}, ${best.availableIpAddressCount} free)`,
  };
}

/** The choice for a branch on `trunk`, from what the directory knows now. */
export function subnetForBranch(
  trunk: TrunkInterface & { status: { subnetId: string } },
  directory: SubnetDirectory,
): SubnetChoice {
  const zone = trunk.status.availabilityZone ?? '';
  return chooseBranchSubnet({
    nodeSubnet: {
      subnetId: trunk.status.subnetId,
      subnetCidr: trunk.status.subnetCidr ?? '',
      subnetV6Cidr: trunk.status.subnetV6Cidr ?? '',
    },
    nodeName: trunk.spec.nodeName,
    availabilityZone: zone,
    // Without a tag key the operator never leaves the node's subnet.
    podSubnets: directory.tagKey === '' ? [] : podSubnetsInZone(directory.snapshot(), zone),
    isExhausted: (subnetId) => directory.isExhausted(subnetId),
    tagKey: directory.tagKey,
  });
}
