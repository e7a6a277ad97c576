/**
 * The EC2 port: the only EC2 calls the operator makes, in our own domain types. Controllers receive an
 * {@link Ec2Api} and cannot tell whether it is the SDK adapter (aimed at AWS or at hack/ec2-emulator),
 * the throttled layer above it, or a test double.
 *
 * Errors: every method rejects with a subclass of `Ec2Error` from ./ec2-errors.ts (`Ec2NotFoundError`,
 * `Ec2ThrottledError`, `Ec2LimitError`, `Ec2InvalidInputError`, `Ec2UnauthorizedError`,
 * `Ec2RetryableError`), never with a raw SDK error.
 */

/** Who is waiting on a call decides its place in the rate-limited queue. */
export type CallPriority =
  /** A pod or node is waiting for this call (create/associate/annotate path). */
  | 'critical'
  /** Ordinary reconcile work (policy validation, group updates, releases after cooldown). */
  | 'normal'
  /** Sweeps and verification that nobody waits on. */
  | 'background';

export interface CallOptions {
  signal?: AbortSignal;
  /** Defaults to 'normal'. */
  priority?: CallPriority;
}

export type Tags = Record<string, string>;

export type NetworkInterfaceStatus = 'pending' | 'available' | 'attaching' | 'in-use' | 'detaching' | 'associated';
export type InterfaceType = 'interface' | 'trunk' | 'branch' | string;

/**
 * An ENI's connection-tracking idle timeouts (EC2's ConnectionTrackingSpecification), in seconds, with EC2's
 * member names. A member left out keeps the instance type's default.
 */
export interface ConnectionTracking {
  tcpEstablishedTimeout?: number;
  udpStreamTimeout?: number;
  udpTimeout?: number;
}

export interface NetworkInterfaceAttachment {
  attachmentId: string;
  instanceId: string;
  deviceIndex: number;
  networkCardIndex: number;
  status: 'attaching' | 'attached' | 'detaching' | 'detached';
  deleteOnTermination: boolean;
}

export interface NetworkInterface {
  id: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  description: string;
  interfaceType: InterfaceType;
  status: NetworkInterfaceStatus;
  macAddress: string;
  privateIpAddress: string;
  /** First IPv6 address, or '' when the ENI has none. */
  ipv6Address: string;
  securityGroupIds: string[];
  tags: Tags;
  attachment?: NetworkInterfaceAttachment;
}

export interface Instance {
  id: string;
  instanceType: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  /** Attached ENIs with their device slots. The primary ENI has deviceIndex 0 on card 0. */
  networkInterfaces: {
    id: string;
    deviceIndex: number;
    networkCardIndex: number;
    interfaceType: InterfaceType;
    securityGroupIds: string[];
    subnetId: string;
    privateIpAddress: string;
    /** Timeouts set on the ENI; undefined when it runs with the defaults. */
    connectionTracking?: ConnectionTracking;
  }[];
}

export interface InstanceTypeNetworkInfo {
  instanceType: string;
  maximumNetworkInterfaces: number;
  ipv4AddressesPerInterface: number;
  defaultNetworkCardIndex: number;
  networkCards: { networkCardIndex: number; maximumNetworkInterfaces: number }[];
  hypervisor: 'nitro' | 'xen' | '';
  bareMetal: boolean;
}

export interface Subnet {
  id: string;
  vpcId: string;
  availabilityZone: string;
  cidrBlock: string;
  /** '' when the subnet has no IPv6 block. */
  ipv6CidrBlock: string;
  availableIpAddressCount: number;
  tags: Tags;
}

export interface Vpc {
  id: string;
  /** Associated IPv4 blocks (state 'associated'), primary first. */
  cidrBlocks: string[];
  ipv6CidrBlocks: string[];
}

export interface SecurityGroup {
  id: string;
  vpcId: string;
  /** GroupName: unique in its VPC regardless of case, immutable (EC2 has no rename). */
  name: string;
  tags: Tags;
}

export interface TrunkAssociation {
  associationId: string;
  branchInterfaceId: string;
  trunkInterfaceId: string;
  vlanId: number;
}

/** Filters for DescribeNetworkInterfaces; every field narrows (AND), a list inside a field widens (OR). */
export interface NetworkInterfaceFilter {
  ids?: string[];
  vpcId?: string;
  subnetId?: string;
  status?: NetworkInterfaceStatus[];
  interfaceType?: InterfaceType[];
  attachedInstanceId?: string;
  description?: string;
  /** tag key → accepted values (`tag:<key>` filters). */
  tags?: Record<string, string[]>;
}

export interface CreateNetworkInterfaceInput {
  subnetId: string;
  securityGroupIds: string[];
  description: string;
  /** Omit for an ordinary (branch) ENI. */
  interfaceType?: 'trunk';
  /**
   * IPv6 addresses to assign from the subnet's IPv6 block (Ipv6AddressCount). Omitted: the subnet's
   * auto-assign setting decides, as for any ENI. EC2 refuses a count above 0 in a subnet without an IPv6 block.
   */
  ipv6AddressCount?: number;
  /** ConnectionTrackingSpecification; omitted: the instance type's defaults. */
  connectionTracking?: ConnectionTracking;
  tags: Tags;
  /** Same token across retries of one logical create: EC2 returns the first ENI instead of a second one. */
  clientToken: string;
}

export interface Ec2Api {
  /** DescribeInstances for one instance. Throws Ec2NotFoundError when it does not exist (or is terminated and gone). */
  describeInstance(instanceId: string, options?: CallOptions): Promise<Instance>;
  /** DescribeInstanceTypes. Unknown types are left out of the result (not an error). */
  describeInstanceTypes(instanceTypes: string[], options?: CallOptions): Promise<InstanceTypeNetworkInfo[]>;
  /** DescribeSubnets by ids and/or VPC, tag values (`tag:<key>`) and tag keys (`tag-key`); pages internally. */
  describeSubnets(
    filter: { ids?: string[]; vpcId?: string; tags?: Record<string, string[]>; tagKeys?: string[] },
    options?: CallOptions,
  ): Promise<Subnet[]>;
  /** DescribeVpcs for one VPC. Throws Ec2NotFoundError. */
  describeVpc(vpcId: string, options?: CallOptions): Promise<Vpc>;
  /**
   * DescribeSecurityGroups by id, optionally within a VPC. Returns the groups that exist; ids that do not
   * exist are simply missing from the result (EC2's InvalidGroup.NotFound is translated), so callers can
   * name every missing group at once.
   */
  describeSecurityGroups(groupIds: string[], vpcId?: string, options?: CallOptions): Promise<SecurityGroup[]>;
  /**
   * DescribeSecurityGroups of one VPC carrying a tag: with `values`, a `tag:<key>` filter (any of them);
   * without, a `tag-key` filter (any value). Values are sent as given, so `*` and `?` act as EC2 wildcards.
   * Pages internally; no match is an empty list.
   */
  describeSecurityGroupsByTag(
    filter: { vpcId: string; key: string; values?: string[] },
    options?: CallOptions,
  ): Promise<SecurityGroup[]>;
  /**
   * DescribeSecurityGroups of one VPC (a `vpc-id` filter): every group with its name and tags. Pages
   * internally; what SecurityGroupPolicy groupNames and groupSelectors are resolved against.
   */
  describeVpcSecurityGroups(vpcId: string, options?: CallOptions): Promise<SecurityGroup[]>;
  /** DescribeNetworkInterfaces with filters; pages internally until done. */
  describeNetworkInterfaces(filter: NetworkInterfaceFilter, options?: CallOptions): Promise<NetworkInterface[]>;
  /** CreateNetworkInterface (trunk or branch). Idempotent through clientToken. */
  createNetworkInterface(input: CreateNetworkInterfaceInput, options?: CallOptions): Promise<NetworkInterface>;
  /** AttachNetworkInterface; returns the attachment id. Throws Ec2LimitError when no slot is free at that index. */
  attachNetworkInterface(
    input: { networkInterfaceId: string; instanceId: string; deviceIndex: number; networkCardIndex?: number },
    options?: CallOptions,
  ): Promise<string>;
  /** DetachNetworkInterface. */
  detachNetworkInterface(input: { attachmentId: string; force?: boolean }, options?: CallOptions): Promise<void>;
  /** ModifyNetworkInterfaceAttribute Attachment.DeleteOnTermination. */
  setDeleteOnTermination(
    input: { networkInterfaceId: string; attachmentId: string; deleteOnTermination: boolean },
    options?: CallOptions,
  ): Promise<void>;
  /** ModifyNetworkInterfaceAttribute SecurityGroupId.N: replaces the ENI's groups. */
  setSecurityGroups(
    input: { networkInterfaceId: string; securityGroupIds: string[] },
    options?: CallOptions,
  ): Promise<void>;
  /** DeleteNetworkInterface. Throws Ec2NotFoundError when already gone (callers treat that as done). */
  deleteNetworkInterface(networkInterfaceId: string, options?: CallOptions): Promise<void>;
  /** AssociateTrunkInterface. Idempotent through clientToken. */
  associateTrunkInterface(
    input: { branchInterfaceId: string; trunkInterfaceId: string; vlanId: number; clientToken: string },
    options?: CallOptions,
  ): Promise<TrunkAssociation>;
  /** DisassociateTrunkInterface. Throws Ec2NotFoundError when the association is already gone. */
  disassociateTrunkInterface(
    input: { associationId: string; clientToken: string },
    options?: CallOptions,
  ): Promise<void>;
  /** DescribeTrunkInterfaceAssociations by association ids or by trunk; pages internally. */
  describeTrunkInterfaceAssociations(
    filter: { associationIds?: string[]; trunkInterfaceId?: string },
    options?: CallOptions,
  ): Promise<TrunkAssociation[]>;
  /** CreateTags on any resources. */
  createTags(resourceIds: string[], tags: Tags, options?: CallOptions): Promise<void>;
  /** DeleteTags (by key; values ignored). */
  deleteTags(resourceIds: string[], tagKeys: string[], options?: CallOptions): Promise<void>;
  /** CreateNetworkInterfacePermission INSTANCE-ATTACH for another account (EKS's two-identity setup). */
  createNetworkInterfacePermission(
    input: { networkInterfaceId: string; awsAccountId: string },
    options?: CallOptions,
  ): Promise<void>;
}
