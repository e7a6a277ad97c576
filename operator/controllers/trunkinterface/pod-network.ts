/**
 * The node's pod network as the trunk controller applies it. Pure: ./pod-network-sync.ts gathers the facts
 * (the node's ENIConfig, the subnets described) and carries out what these functions decide.
 *
 * - Where the trunk is created: in the ENIConfig's subnet with its groups (custom networking), else in the
 *   node's subnet with the primary ENI's groups; always with the primary ENI's connection-tracking timeouts,
 *   as EKS's controller copies them (docs/networks.md#connection-tracking).
 * - Where new branch ENIs go (status.branchSubnet): the ENIConfig's subnet, which may have changed since the
 *   trunk was created, else the trunk's. The subnet must be in the node's zone, and have an IPv6 block when
 *   branch ENIs need IPv6 addresses.
 * - Which groups the trunk carries: with custom networking the ENIConfig's (the primary ENI's when it names
 *   none), changed in place when the ENIConfig is edited, where EKS asks users to replace the node
 *   (docs/networks.md#custom-networking-eniconfig).
 *
 * A running pod's branch ENI is never part of any of this: it keeps its subnet, address and VLAN.
 */
import type { CNINode, NodeNetworkState, TrunkInterface } from '../../api/types.ts';
import type { Subnet } from '../../aws/index.ts';
import type { NodePodNetwork } from '../podnetwork/eniconfig.ts';
import type { TrunkStatus } from './status.ts';

/** Condition on TrunkInterface: where new branch ENIs go, or why they cannot go there. */
export const POD_NETWORK_CONDITION = 'PodNetworkReady';
/** A problem fixed in EC2 or in an ENIConfig's subnet (no watch tells us): looked at again this often. */
export const POD_NETWORK_RECHECK_MS = 60_000;

/** When to look at the trunk again: within a minute while its pod network has a problem. */
export function recheckAfterMs(ms: number, status: TrunkStatus): number {
  const condition = status.conditions?.find((c) => c.type === POD_NETWORK_CONDITION);
  return condition?.status === 'False' ? Math.min(ms, POD_NETWORK_RECHECK_MS) : ms;
}

/**
 * Where a trunk that does not exist yet is created (the plan's create step, ./plan.ts). While the node's
 * ENIConfig is missing or unusable it is not created at all: in the node's subnet it (and every branch ENI it
 * carries) would be in the wrong place for good. A trunk that exists is adopted wherever it is.
 */
export type TrunkPlacement =
  | { kind: 'node-subnet' }
  /** The ENIConfig's subnet; its groups, or the primary ENI's when it names none. */
  | { kind: 'eni-config'; subnetId: string; securityGroupIds: string[] }
  | { kind: 'wait'; message: string };

export function trunkPlacement(
  decision: NodePodNetwork,
  problem: { isBlocking: boolean; message: string } | undefined,
): TrunkPlacement {
  if (problem?.isBlocking) return { kind: 'wait', message: problem.message };
  if (decision.kind === 'eni-config') {
    return { kind: 'eni-config', subnetId: decision.subnetId, securityGroupIds: decision.securityGroups };
  }
  return { kind: 'node-subnet' };
}

export type BranchSubnet = NonNullable<TrunkStatus['branchSubnet']>;

export function toBranchSubnet(subnet: Pick<Subnet, 'id' | 'cidrBlock' | 'ipv6CidrBlock'>): BranchSubnet {
  return {
    subnetId: subnet.id,
    cidrBlock: subnet.cidrBlock,
    ...(subnet.ipv6CidrBlock ? { ipv6CidrBlock: subnet.ipv6CidrBlock } : {}),
  };
}

/** The subnet new branch ENIs should go to, or undefined until the trunk's own subnet is known. */
export function branchSubnetTarget(decision: NodePodNetwork, status: TrunkStatus): string | undefined {
  if (decision.kind === 'eni-config') return decision.subnetId;
  return status.subnetId;
}

/**
 * A view of the node's pod network taken before status knew where branch ENIs go (the trunk was not Ready):
 * its target is not the one status gives now.
 */
export function isStale(view: { decision: NodePodNetwork; target: string | undefined }, status: TrunkStatus): boolean {
  return view.decision.kind !== 'problem' && branchSubnetTarget(view.decision, status) !== view.target;
}

/**
 * What the trunk status already knows of `subnetId`, so no DescribeSubnets is needed: the branch subnet or the
 * trunk's own subnet as recorded. A subnet recorded without an IPv6 block is asked again while branch ENIs
 * need one (a block may have been added since).
 */
export function knownSubnet(status: TrunkStatus, subnetId: string, needsIpv6: boolean): BranchSubnet | undefined {
  const candidates: (BranchSubnet | undefined)[] = [
    status.branchSubnet,
    status.subnetId !== undefined && status.subnetCidr !== undefined
      ? {
          subnetId: status.subnetId,
          cidrBlock: status.subnetCidr,
          ...(status.subnetV6Cidr ? { ipv6CidrBlock: status.subnetV6Cidr } : {}),
        }
      : undefined,
  ];
  return candidates.find((known) => known?.subnetId === subnetId && (!needsIpv6 || known.ipv6CidrBlock !== undefined));
}

export interface SubnetProblem {
  reason: 'ENIConfigInvalid' | 'SubnetWithoutIPv6Block';
  message: string;
  /** The trunk may still be created and branch ENIs still placed there (each pod then reports the problem). */
  isBlocking: boolean;
}

/** Whether the branch subnet, once described, can take the node's branch ENIs. */
export function branchSubnetProblem(input: {
  nodeName: string;
  subnet: Pick<Subnet, 'id' | 'availabilityZone' | 'ipv6CidrBlock'> | undefined;
  subnetId: string;
  /** The node's zone, when known. */
  availabilityZone: string | undefined;
  needsIpv6: boolean;
  ipFamily: 'ipv4' | 'ipv6';
  eniConfig: string | undefined;
}): SubnetProblem | undefined {
  const { nodeName, subnet, subnetId, eniConfig } = input;
  const whose = eniConfig === undefined ? `the subnet of node ${nodeName}` : `ENIConfig ${eniConfig}'s subnet`;
  if (subnet === undefined) {
    return {
      reason: 'ENIConfigInvalid',
      message: `${whose} ${subnetId} does not exist in EC2; fix spec.subnet of ENIConfig ${eniConfig ?? ''}`.trim(),
      isBlocking: true,
    };
  }
  if (input.availabilityZone !== undefined && subnet.availabilityZone !== input.availabilityZone) {
    return {
      reason: 'ENIConfigInvalid',
      message:
        `${whose} ${subnetId} is in ${subnet.availabilityZone} but node ${nodeName} is in ${input.availabilityZone}; ` +
        `EC2 attaches and associates ENIs only within one zone: give the node an ENIConfig whose subnet is in ` +
        `${input.availabilityZone} (one ENIConfig per zone, chosen by the zone label, is the usual layout)`,
      isBlocking: true,
    };
  }
  if (input.needsIpv6 && !subnet.ipv6CidrBlock) {
    const why = input.ipFamily === 'ipv6' ? 'the cluster is IPv6' : '--dual-stack-branch-enis is on';
    return {
      reason: 'SubnetWithoutIPv6Block',
      message:
        `${whose} ${subnetId} has no IPv6 CIDR block, and branch ENIs need an IPv6 address (${why}); pods on node ` +
        `${nodeName} get no branch ENI until an IPv6 /64 of the VPC is associated with ${subnetId} ` +
        `(aws ec2 associate-subnet-cidr-block); it is picked up within a minute`,
      isBlocking: false,
    };
  }
  return undefined;
}

/**
 * The groups the trunk should carry, or undefined to leave them: only a node on an ENIConfig (now, or when
 * the trunk was set up) has its trunk's groups managed; others keep the primary ENI's groups from creation,
 * as on EKS.
 */
export function desiredTrunkGroups(decision: NodePodNetwork, status: TrunkStatus): string[] | undefined {
  const primaryGroups = status.primaryInterface?.securityGroups;
  if (decision.kind === 'eni-config') {
    return decision.securityGroups.length > 0 ? decision.securityGroups : primaryGroups;
  }
  if (decision.kind === 'node-subnet' && status.eniConfig !== undefined) return primaryGroups;
  return undefined;
}

export function sameGroups(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = [...new Set(a ?? [])].sort();
  const right = [...new Set(b ?? [])].sort();
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/**
 * The CNINode status.nodeNetworkState of a Ready trunk: the instance, the subnet new branch ENIs go to and the
 * primary ENI's groups and timeouts. undefined until all of it is known.
 */
export function nodeNetworkState(trunk: TrunkInterface, status: TrunkStatus): NodeNetworkState | undefined {
  const groups = status.primaryInterface?.securityGroups ?? [];
  const subnet = status.branchSubnet;
  if (status.state !== 'Ready' || subnet === undefined || groups.length === 0) return undefined;
  const tracking = status.primaryInterface?.connectionTracking;
  return {
    instanceID: trunk.spec.instanceId,
    instanceType: trunk.spec.instanceType,
    subnetID: subnet.subnetId,
    subnetCIDRBlock: subnet.cidrBlock,
    ...(subnet.ipv6CidrBlock === undefined ? {} : { subnetV6CIDRBlock: subnet.ipv6CidrBlock }),
    primaryNetworkInterfaceSecurityGroups: groups,
    ...(tracking === undefined ? {} : { connectionTracking: tracking }),
  };
}

/**
 * A trunk whose status has no primaryInterface yet (recorded by an older version, or a TrunkInterface
 * re-created) takes it from the CNINode's nodeNetworkState when that describes the same instance.
 */
export function withPrimaryFromCniNode(trunk: TrunkInterface, cniNode: CNINode | undefined): TrunkInterface {
  const state = cniNode?.status?.nodeNetworkState;
  if (trunk.status === undefined || trunk.status.primaryInterface !== undefined) return trunk;
  if (state === undefined || state.instanceID !== trunk.spec.instanceId) return trunk;
  return {
    ...trunk,
    status: {
      ...trunk.status,
      primaryInterface: {
        securityGroups: [...state.primaryNetworkInterfaceSecurityGroups].sort(),
        ...(state.connectionTracking === undefined ? {} : { connectionTracking: state.connectionTracking }),
      },
    },
  };
}
