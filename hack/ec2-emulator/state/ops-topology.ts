import { Ec2Fault, invalidValue } from '../protocol/errors.ts';
import type { LaunchInstanceInput, Seed, SeedResult, SeedTags, SeedVpc } from '../types.ts';
import { type IdKind, assertWellFormedId } from './ids.ts';
import { instanceTypes } from './instance-types.ts';
import { Ipv4Pool, cidrContains, cidrsOverlap, parseCidr } from './ipam.ts';
import { type Ipv6Cidr, Ipv6Pool, ipv6CidrContains, ipv6CidrsOverlap, parseIpv6Cidr } from './ipam6.ts';
import type { Instance, SecurityGroup, Subnet, Tags, Vpc } from './model.ts';
import { createNetworkInterface, removeEniCascade } from './ops-eni.ts';
import type { Store } from './store.ts';

/** Topology operations of the control API: VPCs, CIDRs, subnets, groups, instances (launch/terminate). */

/** AWS allows 5 IPv4 blocks and 5 IPv6 blocks per VPC by default. */
const MAX_VPC_CIDRS = 5;
/** A VPC's IPv6 blocks are /56 and a subnet's is one /64 of them. */
const VPC_IPV6_PREFIX = 56;
const SUBNET_IPV6_PREFIX = 64;

const toTags = (tags: SeedTags | undefined): Tags => new Map(Object.entries(tags ?? {}));

function chooseId(store: Store, kind: IdKind, requested: string | undefined): string {
  if (requested === undefined) return store.newId(kind);
  assertWellFormedId(kind, requested);
  if (!store.reserveId(requested)) throw invalidValue(`The id '${requested}' is already in use.`);
  return requested;
}

/** `us-west-2` + `b` → `usw2-az2` (the AZ id format; the mapping is per account on AWS, fixed here). */
function availabilityZoneId(region: string, zone: string): string {
  const [area = '', direction = '', number = ''] = region.split('-');
  const letter = zone.slice(region.length);
  return `${area}${direction.charAt(0)}${number}-az${letter.charCodeAt(0) - 96}`;
}

export function addVpc(
  store: Store,
  spec: { id?: string; cidrBlocks: string[]; ipv6CidrBlocks?: string[]; tags?: SeedTags },
): Vpc {
  const [primary, ...secondary] = spec.cidrBlocks;
  if (primary === undefined) throw invalidValue('A VPC needs at least one CIDR block.');
  const vpc: Vpc = {
    id: chooseId(store, 'vpc', spec.id),
    seq: store.nextSeq(),
    cidrs: [{ associationId: store.newId('vpcCidr'), cidr: parseCidr(primary), associatedAt: 0 }],
    ipv6Cidrs: [],
    tags: toTags(spec.tags),
    defaultGroupId: '',
  };
  store.vpcs.set(vpc.id, vpc);
  vpc.defaultGroupId = addSecurityGroup(store, vpc.id, {
    name: 'default',
    description: 'default VPC security group',
  }).id;
  for (const block of secondary) addVpcCidr(store, vpc.id, block, 0);
  for (const block of spec.ipv6CidrBlocks ?? []) addVpcIpv6Cidr(store, vpc.id, block);
  return vpc;
}

export function addVpcCidr(store: Store, vpcId: string, cidrBlock: string, associatingMs: number): Vpc {
  const vpc = store.requireVpc(vpcId);
  const cidr = parseCidr(cidrBlock);
  if (vpc.cidrs.some((existing) => cidrsOverlap(existing.cidr, cidr))) {
    throw new Ec2Fault('InvalidVpc.Range', `The CIDR '${cidrBlock}' conflicts with another CIDR block of ${vpc.id}.`);
  }
  if (vpc.cidrs.length >= MAX_VPC_CIDRS) {
    throw new Ec2Fault(
      'CidrLimitExceeded',
      `The maximum number of CIDR blocks (${MAX_VPC_CIDRS}) for ${vpc.id} has been reached.`,
    );
  }
  vpc.cidrs.push({ associationId: store.newId('vpcCidr'), cidr, associatedAt: store.now() + associatingMs });
  return vpc;
}

/** Associates an IPv6 /56 with the VPC (AssociateVpcCidrBlock with a BYOIP block, associated at once). */
export function addVpcIpv6Cidr(store: Store, vpcId: string, cidrBlock: string): Vpc {
  const vpc = store.requireVpc(vpcId);
  const cidr = parseIpv6Cidr(cidrBlock, VPC_IPV6_PREFIX);
  if (vpc.ipv6Cidrs.some((existing) => ipv6CidrsOverlap(existing.cidr, cidr))) {
    throw new Ec2Fault('InvalidVpc.Range', `The CIDR '${cidrBlock}' conflicts with another CIDR block of ${vpc.id}.`);
  }
  if (vpc.ipv6Cidrs.length >= MAX_VPC_CIDRS) {
    throw new Ec2Fault(
      'CidrLimitExceeded',
      `The maximum number of IPv6 CIDR blocks (${MAX_VPC_CIDRS}) for ${vpc.id} has been reached.`,
    );
  }
  vpc.ipv6Cidrs.push({ associationId: store.newId('vpcCidr'), cidr });
  return vpc;
}

/**
 * Associates an IPv6 /64 of the VPC's blocks with a subnet (AssociateSubnetCidrBlock): a subnet holds at most
 * one, and no two subnets of a VPC share one.
 */
export function addSubnetIpv6Cidr(store: Store, subnetId: string, cidrBlock: string): Subnet {
  const subnet = store.requireSubnet(subnetId);
  if (subnet.ipv6 !== undefined) {
    throw new Ec2Fault('InvalidSubnet.Conflict', `The subnet '${subnet.id}' already has an IPv6 CIDR block.`);
  }
  const cidr = checkSubnetIpv6Cidr(store, store.requireVpc(subnet.vpcId), cidrBlock);
  subnet.ipv6 = { associationId: store.newId('subnetCidr'), pool: new Ipv6Pool(cidr) };
  return subnet;
}

function checkSubnetIpv6Cidr(store: Store, vpc: Vpc, cidrBlock: string): Ipv6Cidr {
  const cidr = parseIpv6Cidr(cidrBlock, SUBNET_IPV6_PREFIX);
  if (!vpc.ipv6Cidrs.some((block) => ipv6CidrContains(block.cidr, cidr))) {
    throw new Ec2Fault('InvalidSubnet.Range', `The CIDR '${cidrBlock}' is invalid for ${vpc.id}.`);
  }
  for (const other of store.subnets.values()) {
    if (other.vpcId === vpc.id && other.ipv6 !== undefined && ipv6CidrsOverlap(other.ipv6.pool.cidr, cidr)) {
      throw new Ec2Fault('InvalidSubnet.Conflict', `The CIDR '${cidrBlock}' conflicts with another subnet`);
    }
  }
  return cidr;
}

export function addSubnet(
  store: Store,
  spec: {
    vpcId: string;
    id?: string;
    cidrBlock: string;
    ipv6CidrBlock?: string;
    assignIpv6AddressOnCreation?: boolean;
    availabilityZone: string;
    tags?: SeedTags;
  },
): Subnet {
  const vpc = store.requireVpc(spec.vpcId);
  const cidr = parseCidr(spec.cidrBlock);
  if (!vpc.cidrs.some((block) => cidrContains(block.cidr, cidr))) {
    throw new Ec2Fault('InvalidSubnet.Range', `The CIDR '${spec.cidrBlock}' is invalid for ${vpc.id}.`);
  }
  for (const other of store.subnets.values()) {
    if (other.vpcId === vpc.id && cidrsOverlap(other.pool.cidr, cidr)) {
      throw new Ec2Fault('InvalidSubnet.Conflict', `The CIDR '${spec.cidrBlock}' conflicts with another subnet`);
    }
  }
  if (spec.assignIpv6AddressOnCreation === true && spec.ipv6CidrBlock === undefined) {
    throw invalidValue(
      "Invalid value 'true' for assign-ipv6-address-on-creation. Cannot set assign-ipv6-address-on-creation " +
        'to true unless the subnet has an IPv6 CIDR block associated with it.',
    );
  }
  const ipv6Cidr = spec.ipv6CidrBlock === undefined ? undefined : checkSubnetIpv6Cidr(store, vpc, spec.ipv6CidrBlock);
  const region = store.config.region;
  if (!spec.availabilityZone.startsWith(region) || !/^[a-z]$/.test(spec.availabilityZone.slice(region.length))) {
    throw invalidValue(`Value (${spec.availabilityZone}) for parameter availabilityZone is invalid in ${region}.`);
  }
  const subnet: Subnet = {
    id: chooseId(store, 'subnet', spec.id),
    seq: store.nextSeq(),
    vpcId: vpc.id,
    availabilityZone: spec.availabilityZone,
    availabilityZoneId: availabilityZoneId(region, spec.availabilityZone),
    pool: new Ipv4Pool(cidr),
    ipv6:
      ipv6Cidr === undefined ? undefined : { associationId: store.newId('subnetCidr'), pool: new Ipv6Pool(ipv6Cidr) },
    assignIpv6AddressOnCreation: spec.assignIpv6AddressOnCreation ?? false,
    tags: toTags(spec.tags),
  };
  store.subnets.set(subnet.id, subnet);
  return subnet;
}

export function addSecurityGroup(
  store: Store,
  vpcId: string,
  spec: { id?: string; name: string; description?: string; tags?: SeedTags },
): SecurityGroup {
  // EC2: "Names are case-insensitive and must be unique within the VPC."
  const lowerName = spec.name.toLowerCase();
  for (const group of store.groups.values()) {
    if (group.vpcId === vpcId && group.name.toLowerCase() === lowerName) {
      throw new Ec2Fault(
        'InvalidGroup.Duplicate',
        `The security group '${spec.name}' already exists for VPC '${vpcId}'`,
      );
    }
  }
  const group: SecurityGroup = {
    id: chooseId(store, 'group', spec.id),
    seq: store.nextSeq(),
    name: spec.name,
    description: spec.description ?? spec.name,
    vpcId,
    tags: toTags(spec.tags),
  };
  store.groups.set(group.id, group);
  return group;
}

/**
 * DeleteSecurityGroup's rules: a VPC's default group cannot be deleted (CannotDelete), nor a group any ENI
 * still carries (DependencyViolation) — so a group in use by a running pod's branch ENI never disappears.
 */
export function deleteSecurityGroup(store: Store, groupId: string): void {
  const group = store.requireGroup(groupId);
  if (store.vpcs.get(group.vpcId)?.defaultGroupId === group.id) {
    throw new Ec2Fault(
      'CannotDelete',
      `the specified group: "${group.id}" name: "${group.name}" cannot be deleted by a user`,
    );
  }
  for (const eni of store.enis.values()) {
    if (eni.groupIds.includes(group.id)) {
      throw new Ec2Fault('DependencyViolation', `resource ${group.id} has a dependent object`);
    }
  }
  store.groups.delete(group.id);
}

function findSubnet(store: Store, reference: string): Subnet {
  const byId = store.subnets.get(reference);
  if (byId) return byId;
  for (const subnet of store.subnets.values()) if (subnet.tags.get('Name') === reference) return subnet;
  throw invalidValue(`No subnet has the id or Name tag '${reference}'.`);
}

function findGroup(store: Store, vpcId: string, reference: string): string {
  for (const group of store.groups.values()) {
    if (group.vpcId === vpcId && (group.id === reference || group.name === reference)) return group.id;
  }
  throw invalidValue(`No security group '${reference}' in ${vpcId}.`);
}

export function launchInstance(store: Store, input: LaunchInstanceInput): Instance {
  if (!instanceTypes().has(input.instanceType)) {
    throw new Ec2Fault(
      'InvalidInstanceType',
      `The following supplied instance types do not exist: [${input.instanceType}]`,
    );
  }
  const subnet = findSubnet(store, input.subnet);
  const groupIds = input.securityGroups.map((reference) => findGroup(store, subnet.vpcId, reference));
  const id = chooseId(store, 'instance', input.id);
  const primary = createNetworkInterface(store, {
    subnetId: subnet.id,
    groupIds,
    description: 'Primary network interface',
    interfaceType: 'interface',
    tags: new Map(),
    secondaryPrivateIpCount: 0,
    ...(input.connectionTracking === undefined ? {} : { connectionTracking: input.connectionTracking }),
    bypassQuota: true,
  });
  const now = store.now();
  primary.status = 'in-use';
  store.setAttachment(primary, {
    attachmentId: store.newId('attachment'),
    instanceId: id,
    deviceIndex: 0,
    networkCardIndex: 0,
    attachTime: now,
    attachedAt: now,
    deleteOnTermination: true,
  });
  const instance: Instance = {
    id,
    seq: store.nextSeq(),
    reservationId: store.newId('reservation'),
    instanceType: input.instanceType,
    state: 'running',
    subnetId: subnet.id,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: primary.privateIpAddresses[0] ?? '',
    primaryEniId: primary.id,
    launchTime: now,
    visibleAt: primary.visibleAt,
    tags: toTags(input.tags),
  };
  store.instances.set(instance.id, instance);
  store.instanceTags.add(instance.id, instance.tags);
  return instance;
}

/**
 * Terminates: DeleteOnTermination ENIs are deleted (a trunk's associations go with it, its branches become
 * `available`), the others are detached. The instance stays visible as `terminated`, as on AWS for a while.
 */
export function terminateInstance(store: Store, instanceId: string): void {
  const instance = store.requireInstance(instanceId);
  if (instance.state === 'terminated') return;
  for (const eni of store.attachedEnis(instance.id)) {
    if (eni.attachment?.deleteOnTermination) {
      removeEniCascade(store, eni);
    } else {
      store.setAttachment(eni, undefined);
      eni.status = 'available';
    }
  }
  instance.state = 'terminated';
}

export function applySeed(store: Store, seed: Seed): SeedResult {
  if (!seed || !Array.isArray(seed.vpcs)) throw invalidValue('A seed needs a "vpcs" array.');
  const result: SeedResult = { vpcIds: [], subnetIds: [], securityGroupIds: [], instanceIds: [] };
  for (const spec of seed.vpcs) seedVpc(store, spec, result);
  return result;
}

function seedVpc(store: Store, spec: SeedVpc, result: SeedResult): void {
  const vpc = addVpc(store, spec);
  result.vpcIds.push(vpc.id);
  for (const subnet of spec.subnets ?? []) result.subnetIds.push(addSubnet(store, { ...subnet, vpcId: vpc.id }).id);
  for (const group of spec.securityGroups ?? [])
    result.securityGroupIds.push(addSecurityGroup(store, vpc.id, group).id);
  for (const instance of spec.instances ?? []) {
    const count = instance.count ?? 1;
    for (let i = 0; i < count; i++) {
      const input = count === 1 ? instance : { ...instance, id: undefined };
      result.instanceIds.push(launchInstance(store, input).id);
    }
  }
}
