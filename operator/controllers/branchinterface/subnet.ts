/**
 * Which subnet a branch ENI is created in. Pure.
 *
 * The node's branch subnet — the trunk's, as EKS does, or its ENIConfig's with custom networking (the trunk
 * controller records which in TrunkInterface status.branchSubnet) — while it has free addresses. When it is known to be
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
import { OperatorError, OutsideFixError } from '../../errors.ts';
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
  /** Branch ENIs get an IPv6 address (IPv6 cluster or dual-stack): only subnets with an IPv6 block will do. */
  needsIpv6: boolean;
}

export type SubnetChoice =
  | { outcome: 'node-subnet'; subnet: BranchSubnet }
  | { outcome: 'pod-subnet'; subnet: BranchSubnet; message: string }
  | { outcome: 'exhausted'; message: string }
  /** The node's subnet has no IPv6 block and branch ENIs need one: fixed in EC2, not by another subnet. */
  | { outcome: 'no-ipv6-block'; message: string };

export function chooseBranchSubnet(input: SubnetChoiceInput): SubnetChoice {
  const { nodeSubnet } = input;
  if (input.needsIpv6 && nodeSubnet.subnetV6Cidr === '') {
    return {
      outcome: 'no-ipv6-block',
      message:
        `subnet ${nodeSubnet.subnetId} of node ${input.nodeName} has no IPv6 CIDR block, and this pod's branch ENI ` +
        'needs an IPv6 address (IPv6 cluster or --dual-stack-branch-enis); associate an IPv6 /64 of the VPC with ' +
        `${nodeSubnet.subnetId} (aws ec2 associate-subnet-cidr-block) and the pod gets its ENI`,
    };
  }
  if (!input.isExhausted(nodeSubnet.subnetId)) return { outcome: 'node-subnet', subnet: nodeSubnet };

  const candidates = input.podSubnets
    .filter((subnet) => subnet.id !== nodeSubnet.subnetId && !input.isExhausted(subnet.id))
    .filter((subnet) => subnet.availableIpAddressCount > 0)
    .filter((subnet) => !input.needsIpv6 || subnet.ipv6CidrBlock !== '')
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
    const v6 = input.needsIpv6 ? ' with an IPv6 block' : '';
    return {
      outcome: 'exhausted',
      message:
        `subnet ${nodeSubnet.subnetId} of node ${input.nodeName} has no free IPv4 address, and ` +
        (tagged.length === 0
          ? `no subnet in ${input.availabilityZone} is tagged ${input.tagKey}`
          : `the subnets tagged ${input.tagKey} in ${input.availabilityZone} (${tagged.join(', ')}) have none${v6} either`) +
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

/** The node's branch subnet as the trunk records it (its ENIConfig's, else the trunk's own subnet). */
export function nodeBranchSubnet(trunk: TrunkInterface & { status: { subnetId: string } }): BranchSubnet {
  const recorded = trunk.status.branchSubnet;
  if (recorded !== undefined) {
    return {
      subnetId: recorded.subnetId,
      subnetCidr: recorded.cidrBlock,
      subnetV6Cidr: recorded.ipv6CidrBlock ?? '',
    };
  }
  return {
    subnetId: trunk.status.subnetId,
    subnetCidr: trunk.status.subnetCidr ?? '',
    subnetV6Cidr: trunk.status.subnetV6Cidr ?? '',
  };
}

/** The choice for a branch on `trunk`, from what the directory knows now. */
export function subnetForBranch(
  trunk: TrunkInterface & { status: { subnetId: string } },
  directory: SubnetDirectory,
  needsIpv6: boolean,
): SubnetChoice {
  const zone = trunk.status.availabilityZone ?? '';
  return chooseBranchSubnet({
    nodeSubnet: nodeBranchSubnet(trunk),
    needsIpv6,
    nodeName: trunk.spec.nodeName,
    availabilityZone: zone,
    // Without a tag key the operator never leaves the node's subnet.
    podSubnets: directory.tagKey === '' ? [] : podSubnetsInZone(directory.snapshot(), zone),
    isExhausted: (subnetId) => directory.isExhausted(subnetId),
    tagKey: directory.tagKey,
  });
}

/**
 * Why no subnet takes the branch: a full zone retries on the usual backoff (addresses come back as pods go);
 * a missing IPv6 block is fixed in EC2, where no watch sees it, so it waits on the long one.
 */
export function noSubnetError(choice: Extract<SubnetChoice, { outcome: 'exhausted' | 'no-ipv6-block' }>): Error {
  return choice.outcome === 'exhausted' ? new OperatorError(choice.message) : new OutsideFixError(choice.message);
}
