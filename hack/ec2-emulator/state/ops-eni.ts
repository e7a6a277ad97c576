import { Ec2Fault, invalidValue, unauthorized } from '../protocol/errors.ts';
import { assertWellFormedId, notFound } from './ids.ts';
import { instanceTypes } from './instance-types.ts';
import type { ConnectionTracking, NetworkInterface, Subnet, Tags } from './model.ts';
import { dropAssociationsOf } from './ops-trunk.ts';
import type { Store } from './store.ts';

/** ENI lifecycle rules (docs/ec2-semantics.md#eni-and-attachment-states). Every function validates fully before it mutates anything. */

export interface CreateEniInput {
  subnetId: string;
  /** undefined = the VPC's default group (as AWS does when SecurityGroupId is omitted). */
  groupIds: string[] | undefined;
  description: string;
  interfaceType: 'interface' | 'trunk';
  tags: Tags;
  secondaryPrivateIpCount: number;
  privateIpAddress?: string;
  /** Ipv6AddressCount; undefined = the subnet's AssignIpv6AddressOnCreation decides (one address or none). */
  ipv6AddressCount?: number;
  /** Ipv6Addresses.N: specific addresses of the subnet's IPv6 block. */
  ipv6Addresses?: string[];
  connectionTracking?: ConnectionTracking;
  /** Control-API creations skip the per-AZ ENI quota. */
  bypassQuota?: boolean;
}

/** EC2's bounds for ConnectionTrackingSpecification, in seconds. */
export const CONNECTION_TRACKING_BOUNDS = {
  tcpEstablishedTimeout: { name: 'TcpEstablishedTimeout', min: 60, max: 432000 },
  udpStreamTimeout: { name: 'UdpStreamTimeout', min: 60, max: 180 },
  udpTimeout: { name: 'UdpTimeout', min: 30, max: 60 },
} as const;

export function validateConnectionTracking(spec: ConnectionTracking): void {
  for (const [key, bounds] of Object.entries(CONNECTION_TRACKING_BOUNDS)) {
    const value = spec[key as keyof ConnectionTracking];
    if (value !== undefined && (value < bounds.min || value > bounds.max)) {
      throw invalidValue(
        `Value (${value}) for parameter ConnectionTrackingSpecification.${bounds.name} is invalid. ` +
          `It must be between ${bounds.min} and ${bounds.max} seconds.`,
      );
    }
  }
}

/**
 * The IPv6 addresses a new ENI asks for, checked against the subnet before anything is taken. Asking for
 * IPv6 in a subnet without an IPv6 block is refused (400 InvalidParameterValue); a count of 0 overrides the
 * subnet's auto-assign, as on EC2.
 */
function ipv6Request(subnet: Subnet, input: CreateEniInput): { count: number; addresses: string[] } {
  const addresses = input.ipv6Addresses ?? [];
  if (input.ipv6AddressCount !== undefined && addresses.length > 0) {
    throw new Ec2Fault(
      'InvalidParameterCombination',
      'The parameters Ipv6AddressCount and Ipv6Addresses cannot be specified together.',
    );
  }
  const count =
    addresses.length > 0
      ? 0
      : (input.ipv6AddressCount ?? (subnet.assignIpv6AddressOnCreation && subnet.ipv6 !== undefined ? 1 : 0));
  if ((count > 0 || addresses.length > 0) && subnet.ipv6 === undefined) {
    throw invalidValue(
      `The subnet '${subnet.id}' does not have an IPv6 CIDR block; IPv6 addresses cannot be assigned to a network interface in it.`,
    );
  }
  const pool = subnet.ipv6?.pool;
  for (const [index, ip] of addresses.entries()) {
    if (pool === undefined || !pool.isFree(ip) || addresses.indexOf(ip) !== index) {
      throw new Ec2Fault('InvalidIPAddress.InUse', `Address ${ip} is in use or not in subnet ${subnet.id}.`);
    }
  }
  return { count, addresses };
}

export function resolveGroups(store: Store, vpcId: string, subnetId: string, groupIds: string[]): string[] {
  const unique = [...new Set(groupIds)];
  for (const id of unique) {
    const group = store.requireGroup(id);
    if (group.vpcId !== vpcId) {
      throw new Ec2Fault(
        'InvalidParameter',
        `Security group ${id} and subnet ${subnetId} belong to different networks.`,
      );
    }
  }
  if (unique.length > store.config.securityGroupsPerInterface) {
    throw new Ec2Fault(
      'SecurityGroupsPerInterfaceLimitExceeded',
      `The maximum number of security groups per interface (${store.config.securityGroupsPerInterface}) has been reached.`,
    );
  }
  return unique;
}

export function createNetworkInterface(store: Store, input: CreateEniInput): NetworkInterface {
  const subnet = store.requireSubnet(input.subnetId);
  if (input.interfaceType === 'trunk' && !store.config.trunkingEnabled) throw unauthorized();
  const vpc = store.requireVpc(subnet.vpcId);
  const groupIds = resolveGroups(store, vpc.id, subnet.id, input.groupIds ?? [vpc.defaultGroupId]);
  if (
    !input.bypassQuota &&
    (store.enisPerAz.get(subnet.availabilityZone) ?? 0) >= store.config.networkInterfacesPerAz
  ) {
    throw new Ec2Fault(
      'NetworkInterfaceLimitExceeded',
      `You have reached the limit of network interfaces (${store.config.networkInterfacesPerAz}) for ${subnet.availabilityZone}.`,
    );
  }
  if (input.connectionTracking) validateConnectionTracking(input.connectionTracking);
  const ipv6 = ipv6Request(subnet, input);
  const needed = 1 + input.secondaryPrivateIpCount;
  if (subnet.pool.available < needed) {
    throw new Ec2Fault(
      'InsufficientFreeAddressesInSubnet',
      'The specified subnet does not have enough free addresses to satisfy the request.',
    );
  }
  const addresses: string[] = [];
  if (input.privateIpAddress !== undefined) {
    if (!subnet.pool.claim(input.privateIpAddress)) {
      throw new Ec2Fault(
        'InvalidIPAddress.InUse',
        `Address ${input.privateIpAddress} is in use or not in subnet ${subnet.id}.`,
      );
    }
    addresses.push(input.privateIpAddress);
  }
  const ipv6Pool = subnet.ipv6?.pool;
  const ipv6Addresses = [...ipv6.addresses];
  for (const ip of ipv6Addresses) ipv6Pool?.claim(ip);
  while (addresses.length < needed) {
    const ip = subnet.pool.allocate();
    if (ip === undefined) break;
    addresses.push(ip);
  }
  while (ipv6Pool !== undefined && ipv6Addresses.length < ipv6.count) ipv6Addresses.push(ipv6Pool.allocate(store.rng));
  const eni: NetworkInterface = {
    id: store.newId('eni'),
    seq: store.nextSeq(),
    subnetId: subnet.id,
    vpcId: vpc.id,
    availabilityZone: subnet.availabilityZone,
    description: input.description,
    interfaceType: input.interfaceType,
    status: 'available',
    macAddress: store.newMac(),
    privateIpAddresses: addresses,
    ipv6Addresses,
    groupIds,
    connectionTracking: input.connectionTracking,
    tags: input.tags,
    sourceDestCheck: true,
    attachment: undefined,
    visibleAt: store.visibleFrom(),
  };
  store.insertEni(eni);
  return eni;
}

export function attachNetworkInterface(
  store: Store,
  input: { eniId: string; instanceId: string; deviceIndex: number; networkCardIndex: number },
): NetworkInterface {
  const eni = store.requireEni(input.eniId);
  const instance = store.requireInstance(input.instanceId);
  if (instance.state !== 'running') {
    throw new Ec2Fault(
      'IncorrectInstanceState',
      `The instance '${instance.id}' is not in the 'running' or 'stopped' states.`,
    );
  }
  if (eni.status !== 'available') throw new Ec2Fault('InvalidNetworkInterface.InUse', `Interface: [${eni.id}] in use.`);
  if (eni.availabilityZone !== instance.availabilityZone || eni.vpcId !== instance.vpcId) {
    throw new Ec2Fault(
      'InvalidParameterCombination',
      `You may not attach a network interface to an instance if they are not in the same availability zone`,
    );
  }
  const type = instanceTypes().get(instance.instanceType);
  const card = type?.networkCards.find((c) => c.networkCardIndex === input.networkCardIndex);
  if (!type || !card) {
    throw invalidValue(
      `Network card index ${input.networkCardIndex} is invalid for instance type ${instance.instanceType}.`,
    );
  }
  const onCard = store
    .attachedEnis(instance.id)
    .filter((e) => e.attachment?.networkCardIndex === input.networkCardIndex);
  if (onCard.some((e) => e.attachment?.deviceIndex === input.deviceIndex)) {
    throw invalidValue(
      `Instance '${instance.id}' already has an interface attached at device index '${input.deviceIndex}'.`,
    );
  }
  if (onCard.length >= card.maximumNetworkInterfaces) {
    throw new Ec2Fault(
      'AttachmentLimitExceeded',
      `Interface count ${onCard.length + 1} exceeds the limit for ${instance.instanceType}`,
    );
  }
  if (eni.interfaceType === 'trunk') {
    if (!type.isTrunkingCompatible) {
      throw invalidValue(`Instance type ${instance.instanceType} does not support trunk network interfaces.`);
    }
    if (store.attachedEnis(instance.id).some((e) => e.interfaceType === 'trunk')) {
      throw invalidValue(`Instance '${instance.id}' already has a trunk network interface attached.`);
    }
  }
  const now = store.now();
  eni.status = 'in-use';
  store.setAttachment(eni, {
    attachmentId: store.newId('attachment'),
    instanceId: instance.id,
    deviceIndex: input.deviceIndex,
    networkCardIndex: input.networkCardIndex,
    attachTime: now,
    attachedAt: now + store.config.attachDelayMs,
    deleteOnTermination: false,
  });
  return eni;
}

export function eniByAttachment(store: Store, attachmentId: string): NetworkInterface {
  assertWellFormedId('attachment', attachmentId);
  const eni = store.enis.get(store.eniByAttachment.get(attachmentId) ?? '');
  if (!eni) throw notFound('attachment', attachmentId);
  return eni;
}

export function detachNetworkInterface(store: Store, attachmentId: string): NetworkInterface {
  const eni = eniByAttachment(store, attachmentId);
  if (eni.attachment?.deviceIndex === 0 && eni.attachment.networkCardIndex === 0) {
    throw new Ec2Fault(
      'OperationNotPermitted',
      'The network interface at device index 0 and networkCard index 0 cannot be detached.',
    );
  }
  store.setAttachment(eni, undefined);
  eni.status = 'available';
  return eni;
}

export function deleteNetworkInterface(store: Store, eniId: string): void {
  const eni = store.requireEni(eniId);
  const isAssociatedBranch = store.associationByBranch.has(eni.id);
  if (eni.attachment || (isAssociatedBranch && store.config.strictBranchDeletion)) {
    throw invalidValue(`Network interface '${eni.id}' is currently in use.`);
  }
  removeEniCascade(store, eni);
}

/** Removes an ENI and every trunk association it takes part in (branches of a trunk become available). */
export function removeEniCascade(store: Store, eni: NetworkInterface): void {
  dropAssociationsOf(store, eni.id);
  store.removeEni(eni);
}

export function modifySecurityGroups(store: Store, eniId: string, groupIds: string[]): void {
  const eni = store.requireEni(eniId);
  for (const id of groupIds) assertWellFormedId('group', id);
  eni.groupIds = resolveGroups(store, eni.vpcId, eni.subnetId, groupIds);
}

/** ModifyNetworkInterfaceAttribute ConnectionTrackingSpecification: the given members replace the ENI's. */
export function modifyConnectionTracking(store: Store, eniId: string, spec: ConnectionTracking): void {
  const eni = store.requireEni(eniId);
  validateConnectionTracking(spec);
  eni.connectionTracking = { ...eni.connectionTracking, ...spec };
}

export function modifyDeleteOnTermination(store: Store, eniId: string, attachmentId: string, value: boolean): void {
  const eni = store.requireEni(eniId);
  assertWellFormedId('attachment', attachmentId);
  if (eni.attachment?.attachmentId !== attachmentId) throw notFound('attachment', attachmentId);
  eni.attachment.deleteOnTermination = value;
}
