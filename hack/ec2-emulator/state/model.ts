import type { Cidr, Ipv4Pool } from './ipam.ts';
import type { Ipv6Cidr, Ipv6Pool } from './ipam6.ts';

/**
 * The emulator's records. `seq` is a global creation counter: iteration order for Describe and the cursor in
 * NextToken. `visibleAt` (epoch ms) implements eventual consistency: before it, the record is invisible to
 * explicit-id lookups and filters (docs/ec2-semantics.md#eventual-consistency).
 */
export type Tags = Map<string, string>;

export interface VpcCidrAssociation {
  associationId: string;
  cidr: Cidr;
  /** Reported `associating` until this time, then `associated`. */
  associatedAt: number;
}

/** An IPv6 /56 of the VPC (Amazon-provided or BYOIP; associated at once). */
export interface VpcIpv6CidrAssociation {
  associationId: string;
  cidr: Ipv6Cidr;
}

export interface Vpc {
  id: string;
  seq: number;
  cidrs: VpcCidrAssociation[];
  ipv6Cidrs: VpcIpv6CidrAssociation[];
  tags: Tags;
  defaultGroupId: string;
}

export interface Subnet {
  id: string;
  seq: number;
  vpcId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  pool: Ipv4Pool;
  /** The subnet's one IPv6 /64, undefined for an IPv4-only subnet. */
  ipv6: { associationId: string; pool: Ipv6Pool } | undefined;
  /** An ENI created here without Ipv6AddressCount/Ipv6Addresses gets one IPv6 address. */
  assignIpv6AddressOnCreation: boolean;
  tags: Tags;
}

export interface SecurityGroup {
  id: string;
  seq: number;
  name: string;
  description: string;
  vpcId: string;
  tags: Tags;
}

export type InstanceState = 'running' | 'terminated';

export interface Instance {
  id: string;
  seq: number;
  reservationId: string;
  instanceType: string;
  state: InstanceState;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  primaryEniId: string;
  launchTime: number;
  visibleAt: number;
  tags: Tags;
}

export type EniInterfaceType = 'interface' | 'trunk' | 'branch';
export type EniStatus = 'available' | 'in-use';

export interface Attachment {
  attachmentId: string;
  instanceId: string;
  deviceIndex: number;
  networkCardIndex: number;
  attachTime: number;
  /** Reported `attaching` until this time, then `attached`. */
  attachedAt: number;
  deleteOnTermination: boolean;
}

export interface NetworkInterface {
  id: string;
  seq: number;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  description: string;
  interfaceType: EniInterfaceType;
  status: EniStatus;
  macAddress: string;
  /** Primary first. */
  privateIpAddresses: string[];
  ipv6Addresses: string[];
  groupIds: string[];
  /** Idle timeouts set on the ENI; undefined = the instance type's defaults (not reported by Describe). */
  connectionTracking: ConnectionTracking | undefined;
  tags: Tags;
  sourceDestCheck: boolean;
  attachment: Attachment | undefined;
  visibleAt: number;
}

/** ConnectionTrackingSpecification of an ENI, in seconds; a missing member keeps the default. */
export interface ConnectionTracking {
  tcpEstablishedTimeout?: number;
  udpStreamTimeout?: number;
  udpTimeout?: number;
}

export interface TrunkAssociation {
  id: string;
  seq: number;
  branchId: string;
  trunkId: string;
  vlanId: number;
  visibleAt: number;
}

/** Network facts of an instance type (from operator/limits/instance-types.json). */
export interface InstanceTypeInfo {
  instanceType: string;
  maximumNetworkInterfaces: number;
  ipv4PerInterface: number;
  isTrunkingCompatible: boolean;
  branchInterfaces: number;
  defaultNetworkCardIndex: number;
  networkCards: { networkCardIndex: number; maximumNetworkInterfaces: number }[];
  hypervisor: string;
  isBareMetal: boolean;
}
