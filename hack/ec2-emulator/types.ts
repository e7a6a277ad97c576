/**
 * Public types of the EC2 emulator: options, the seed-file format, the control surface and the state dump.
 * Other helpers code against these; change them additively only.
 */

/** Per-action latency: a uniform distribution between minMs and maxMs (inclusive). */
export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

/**
 * `true` = realistic defaults (describes 20–80 ms, mutations 50–200 ms); `false` = none; an object maps an
 * action name (or `'*'` for all others) to its range.
 */
export type LatencyConfig = boolean | Record<string, LatencyRange>;

export interface ThrottlingConfig {
  enabled: boolean;
  /** Multiplies every bucket's capacity and refill rate (AWS's defaults, docs/ec2-semantics.md#throttling). 0.1 = ten times stricter. */
  scale?: number;
}

export interface QuotaConfig {
  /** Security groups per ENI: AWS default 5, adjustable up to 16. */
  securityGroupsPerInterface?: number;
  /** ENIs per availability zone (AWS: 5,000 per Region, enforced per AZ). */
  networkInterfacesPerAz?: number;
}

export interface Ec2EmulatorOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Only loopback is supported. */
  host?: '127.0.0.1';
  /** Topology to create at start. */
  seed?: Seed;
  /** Seed of the deterministic generator for ids, IPs and MACs (default 'sgp'). */
  rngSeed?: string;
  /** AWS's per-action token buckets. Default: off (tests opt in). */
  throttling?: ThrottlingConfig;
  /** Default: no added latency. */
  latency?: LatencyConfig;
  /** Visibility delay after a create (ENIs, instances, associations). Default 0. */
  eventualConsistencyMs?: number;
  /** 'verify' re-computes SigV4 with the known credentials; default 'off' (any signature accepted). */
  sigv4?: 'off' | 'verify';
  /** Known credentials for sigv4 'verify' (access key id → secret). Default: {test: 'test'}. */
  credentials?: Record<string, string>;
  /** Default 'us-west-2'. */
  region?: string;
  /** 12-digit owner id. Default '111122223333'. */
  accountId?: string;
  quotas?: QuotaConfig;
  /** When false, trunk ENI creation and trunk association calls fail with UnauthorizedOperation (real-AWS gating). */
  trunkingEnabled?: boolean;
  /** How long a new attachment reports `attaching` before `attached`. Default 0. */
  attachDelayMs?: number;
  /** Refuse DeleteNetworkInterface on an associated branch (default: allowed, association dropped). */
  strictBranchDeletion?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Seed file

export type SeedTags = Record<string, string>;

export interface SeedSubnet {
  /** Explicit id (`subnet-` + 8 or 17 hex); generated when omitted. */
  id?: string;
  cidrBlock: string;
  /** A /64 of one of the VPC's IPv6 blocks; omitted = an IPv4-only subnet. */
  ipv6CidrBlock?: string;
  /** ENIs created without an IPv6 request get one IPv6 address (needs ipv6CidrBlock). */
  assignIpv6AddressOnCreation?: boolean;
  availabilityZone: string;
  tags?: SeedTags;
}

export interface SeedSecurityGroup {
  id?: string;
  name: string;
  description?: string;
  tags?: SeedTags;
}

export interface SeedInstance {
  id?: string;
  instanceType: string;
  /** Subnet id, or the value of its `Name` tag. */
  subnet: string;
  /** Security group ids or names (of this VPC) for the primary ENI. */
  securityGroups: string[];
  /** Connection-tracking idle timeouts of the primary ENI (seconds); omitted = the defaults. */
  connectionTracking?: SeedConnectionTracking;
  tags?: SeedTags;
  /** Launch this many identical instances (ids generated). Default 1. */
  count?: number;
}

/** ConnectionTrackingSpecification in seconds (TCP established 60..432000, UDP stream 60..180, UDP 30..60). */
export interface SeedConnectionTracking {
  tcpEstablishedTimeout?: number;
  udpStreamTimeout?: number;
  udpTimeout?: number;
}

export interface SeedVpc {
  id?: string;
  /** Primary block first; further blocks become secondary associations. */
  cidrBlocks: string[];
  /** IPv6 /56 blocks (BYOIP-style, associated at once). */
  ipv6CidrBlocks?: string[];
  tags?: SeedTags;
  subnets: SeedSubnet[];
  securityGroups?: SeedSecurityGroup[];
  instances?: SeedInstance[];
}

/** The seed-file format (`--seed-file`, `control.seed`). */
export interface Seed {
  vpcs: SeedVpc[];
}

// ---------------------------------------------------------------------------------------------------------------
// Control surface (in-process `control`, and JSON under /_emulator/)

export interface FaultRule {
  /** EC2 action name, or '*' for every action. */
  action: string;
  code: string;
  /** HTTP status; default 500 for Internal*, 503 for Unavailable/RequestLimitExceeded, else 400. */
  status?: number;
  message?: string;
  /** Fail the next N matching calls (default 1 when probability is not given). */
  count?: number;
  /** Fail each matching call with this probability (0..1), indefinitely (deterministic from rngSeed). */
  probability?: number;
  /**
   * 'before' (default): fail without touching state. 'after': perform the action, then answer the error
   * (a lost response — the client's retry must be made safe by ClientToken).
   */
  phase?: 'before' | 'after';
}

export interface LaunchInstanceInput {
  id?: string;
  instanceType: string;
  /** Subnet id or Name tag. */
  subnet: string;
  securityGroups: string[];
  connectionTracking?: SeedConnectionTracking;
  tags?: SeedTags;
}

export interface AddSubnetInput {
  vpcId: string;
  id?: string;
  cidrBlock: string;
  ipv6CidrBlock?: string;
  assignIpv6AddressOnCreation?: boolean;
  availabilityZone: string;
  tags?: SeedTags;
}

export interface AddSecurityGroupInput {
  vpcId: string;
  id?: string;
  name: string;
  description?: string;
  tags?: SeedTags;
}

export interface BulkCreateNetworkInterfacesInput {
  subnetId: string;
  count: number;
  securityGroupIds?: string[];
  description?: string;
  tags?: SeedTags;
}

export interface ActionCounters {
  calls: number;
  errors: number;
  throttled: number;
}

/**
 * One mutating call the emulator carried out: its effect happened, even when an injected fault then lost the
 * response. Describe* calls and calls refused before they ran (throttled, faulted, invalid) are not logged.
 * The target ENI's tags are taken before the call ran, so a deleted ENI still names its owner.
 */
export interface MutationRecord {
  /** 1, 2, … in the order the calls took effect. */
  seq: number;
  /** When the call took effect, on the emulator's clock (Date.now unless an in-process test passed its own). */
  atMs: number;
  action: string;
  /** The ENI the call acted on (NetworkInterfaceId, or BranchInterfaceId; a disassociation's branch; a create's new ENI). */
  networkInterfaceId?: string;
  /** That ENI's tags when the call arrived (a create: the tags it was created with). */
  tags?: Record<string, string>;
  associationId?: string;
}

export interface DumpAttachment {
  attachmentId: string;
  instanceId: string;
  deviceIndex: number;
  networkCardIndex: number;
  status: string;
  deleteOnTermination: boolean;
}

export interface DumpNetworkInterface {
  id: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  description: string;
  interfaceType: string;
  status: string;
  macAddress: string;
  privateIpAddress: string;
  secondaryPrivateIpAddresses: string[];
  ipv6Addresses: string[];
  securityGroupIds: string[];
  /** Idle timeouts set on the ENI (absent: the defaults). */
  connectionTracking?: SeedConnectionTracking;
  tags: SeedTags;
  attachment?: DumpAttachment;
}

export interface DumpAssociation {
  associationId: string;
  branchInterfaceId: string;
  trunkInterfaceId: string;
  vlanId: number;
}

export interface DumpInstance {
  id: string;
  instanceType: string;
  state: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  primaryNetworkInterfaceId: string;
  tags: SeedTags;
}

export interface DumpSubnet {
  id: string;
  vpcId: string;
  cidrBlock: string;
  /** '' for an IPv4-only subnet. */
  ipv6CidrBlock: string;
  availabilityZone: string;
  availableIpAddressCount: number;
  tags: SeedTags;
}

export interface DumpVpc {
  id: string;
  cidrBlocks: { associationId: string; cidrBlock: string; state: string }[];
  ipv6CidrBlocks: string[];
  tags: SeedTags;
}

export interface DumpSecurityGroup {
  id: string;
  name: string;
  vpcId: string;
  tags: SeedTags;
}

export interface EmulatorDump {
  vpcs: DumpVpc[];
  subnets: DumpSubnet[];
  securityGroups: DumpSecurityGroup[];
  instances: DumpInstance[];
  networkInterfaces: DumpNetworkInterface[];
  associations: DumpAssociation[];
}

/** What `seed` created, keyed the way the seed named things. */
export interface SeedResult {
  vpcIds: string[];
  subnetIds: string[];
  securityGroupIds: string[];
  instanceIds: string[];
}

/** In-process control handle; every method is also `POST /_emulator/<method>` with a JSON body. */
export interface EmulatorControl {
  seed(seed: Seed): SeedResult;
  launchInstance(input: LaunchInstanceInput): DumpInstance;
  terminateInstance(instanceId: string): void;
  addVpcCidr(vpcId: string, cidrBlock: string): DumpVpc;
  /** Associates an IPv6 /56 with the VPC. */
  addVpcIpv6Cidr(vpcId: string, cidrBlock: string): DumpVpc;
  /** Associates an IPv6 /64 (of the VPC's blocks) with an IPv4-only subnet. */
  addSubnetIpv6Cidr(subnetId: string, cidrBlock: string): DumpSubnet;
  addSubnet(input: AddSubnetInput): DumpSubnet;
  addSecurityGroup(input: AddSecurityGroupInput): DumpSecurityGroup;
  /** Creates ENIs directly (no throttling, no quota): for scale tests and benchmarks. Returns their ids. */
  bulkCreateNetworkInterfaces(input: BulkCreateNetworkInterfacesInput): string[];
  /** Replaces the fault rules. `[]` clears them. */
  setFaults(rules: FaultRule[]): void;
  setThrottling(config: ThrottlingConfig): void;
  setLatency(config: LatencyConfig): void;
  setEventualConsistency(delayMs: number): void;
  setQuotas(quotas: QuotaConfig): void;
  setTrunkingEnabled(enabled: boolean): void;
  /** Empties all state, faults, counters and knobs back to the start options (the seed is NOT re-applied). */
  reset(): void;
  dump(): EmulatorDump;
  counters(): Record<string, ActionCounters>;
  /** Every mutating call carried out since the start (or the last reset), oldest first. */
  mutations(): MutationRecord[];
}

export interface RunningEc2Emulator {
  /** `http://127.0.0.1:<port>` — give it to the SDK as `endpoint`. */
  endpoint: string;
  port: number;
  control: EmulatorControl;
  stop(): Promise<void>;
}
