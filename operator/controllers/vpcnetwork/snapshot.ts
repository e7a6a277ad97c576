/**
 * What the operator knows of the cluster VPC's address ranges, as data: the VPC's associated IPv4 CIDR
 * blocks and the subnets tagged for pods (the VPC CNI's "enhanced subnet discovery" tag,
 * `kubernetes.io/role/cni`, by default). Pure: the directory (./directory.ts) fills snapshots from EC2 and
 * these functions compare them, so "what changed" and "which subnets may this node use" have one answer.
 */
import type { Subnet } from '../../aws/index.ts';

/** A subnet branch ENIs may be created in when the node's own subnet has no free address. */
export interface PodSubnet {
  id: string;
  availabilityZone: string;
  cidrBlock: string;
  /** '' when the subnet has no IPv6 block. */
  ipv6CidrBlock: string;
  /** Free IPv4 addresses when last described (EC2's AvailableIpAddressCount). */
  availableIpAddressCount: number;
}

export interface VpcNetworkSnapshot {
  vpcId: string;
  /** Associated IPv4 CIDR blocks, primary first. */
  cidrBlocks: string[];
  /** Subnets of the VPC carrying the pod-subnet tag, sorted by id. */
  podSubnets: PodSubnet[];
}

export type NetworkChange =
  | { kind: 'cidr-added' | 'cidr-removed'; cidrBlock: string }
  | { kind: 'subnet-added' | 'subnet-removed'; subnet: PodSubnet };

export function toPodSubnet(subnet: Subnet): PodSubnet {
  return {
    id: subnet.id,
    availabilityZone: subnet.availabilityZone,
    cidrBlock: subnet.cidrBlock,
    ipv6CidrBlock: subnet.ipv6CidrBlock,
    availableIpAddressCount: subnet.availableIpAddressCount,
  };
}

/**
 * CIDR blocks and tagged subnets that appeared or went away between two snapshots. Free-address counts
 * move all the time and are not changes; the first snapshot (previous undefined) reports nothing, so a
 * restart does not announce the whole VPC again.
 */
export function diffNetwork(previous: VpcNetworkSnapshot | undefined, next: VpcNetworkSnapshot): NetworkChange[] {
  if (previous === undefined) return [];
  const changes: NetworkChange[] = [];
  const before = new Set(previous.cidrBlocks);
  const after = new Set(next.cidrBlocks);
  for (const cidrBlock of next.cidrBlocks) if (!before.has(cidrBlock)) changes.push({ kind: 'cidr-added', cidrBlock });
  for (const cidrBlock of previous.cidrBlocks) {
    if (!after.has(cidrBlock)) changes.push({ kind: 'cidr-removed', cidrBlock });
  }
  const oldSubnets = new Map(previous.podSubnets.map((subnet) => [subnet.id, subnet]));
  const newSubnets = new Map(next.podSubnets.map((subnet) => [subnet.id, subnet]));
  for (const subnet of next.podSubnets) if (!oldSubnets.has(subnet.id)) changes.push({ kind: 'subnet-added', subnet });
  for (const subnet of previous.podSubnets) {
    if (!newSubnets.has(subnet.id)) changes.push({ kind: 'subnet-removed', subnet });
  }
  return changes;
}

/** The tagged subnets in one availability zone (a branch ENI must be in its trunk's zone), sorted by id. */
export function podSubnetsInZone(snapshot: VpcNetworkSnapshot | undefined, availabilityZone: string): PodSubnet[] {
  return (snapshot?.podSubnets ?? []).filter((subnet) => subnet.availabilityZone === availabilityZone);
}

/** One line per change, for logs and events: "subnet subnet-1 (100.64.0.0/24, us-west-2a) tagged for pods". */
export function describeChange(change: NetworkChange, vpcId: string): string {
  switch (change.kind) {
    case 'cidr-added':
      return `VPC ${vpcId} gained CIDR block ${change.cidrBlock}`;
    case 'cidr-removed':
      return `VPC ${vpcId} lost CIDR block ${change.cidrBlock}`;
    case 'subnet-added':
      return (
        `subnet ${change.subnet.id} (${change.subnet.cidrBlock}, ${change.subnet.availabilityZone}, ` +
        `${change.subnet.availableIpAddressCount} free addresses) is tagged for pods`
      );
    case 'subnet-removed':
      return `subnet ${change.subnet.id} (${change.subnet.cidrBlock}, ${change.subnet.availabilityZone}) is no longer tagged for pods`;
    default: {
      const unknown: never = change;
      return String(unknown);
    }
  }
}
