/**
 * Pure translation between @aws-sdk/client-ec2 shapes and our domain types (ec2-api.ts). The SDK marks
 * every field optional; a field EC2 always sends but that is missing here becomes '' or 0 rather than
 * `undefined` leaking into controllers, and lists become [] .
 */
import type {
  ConnectionTrackingSpecificationRequest,
  ConnectionTrackingSpecificationResponse,
  Filter,
  Instance as SdkInstance,
  InstanceTypeInfo,
  NetworkInterface as SdkNetworkInterface,
  SecurityGroup as SdkSecurityGroup,
  Subnet as SdkSubnet,
  Tag,
  TrunkInterfaceAssociation,
  Vpc as SdkVpc,
} from '@aws-sdk/client-ec2';
import type {
  ConnectionTracking,
  Instance,
  InstanceTypeNetworkInfo,
  NetworkInterface,
  NetworkInterfaceAttachment,
  NetworkInterfaceFilter,
  NetworkInterfaceStatus,
  SecurityGroup,
  Subnet,
  Tags,
  TrunkAssociation,
  Vpc,
} from './ec2-api.ts';

export function toSdkTags(tags: Tags): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromSdkTags(tags: Tag[] | undefined): Tags {
  const result: Tags = {};
  for (const tag of tags ?? []) {
    if (tag.Key !== undefined) result[tag.Key] = tag.Value ?? '';
  }
  return result;
}

/** `tag:<key>` filters; every key narrows, values of one key widen. */
export function tagFilters(tags: Record<string, string[]> | undefined): Filter[] {
  return Object.entries(tags ?? {}).map(([key, values]) => ({ Name: `tag:${key}`, Values: values }));
}

/** Filters only: explicit NetworkInterfaceId.N would fail the whole call on one unknown id (docs/ec2-semantics.md#describes). */
export function networkInterfaceFilters(filter: NetworkInterfaceFilter): Filter[] {
  const filters: Filter[] = [];
  const add = (name: string, values: string[] | undefined): void => {
    if (values !== undefined) filters.push({ Name: name, Values: values });
  };
  add('network-interface-id', filter.ids);
  add('vpc-id', filter.vpcId === undefined ? undefined : [filter.vpcId]);
  add('subnet-id', filter.subnetId === undefined ? undefined : [filter.subnetId]);
  add('status', filter.status);
  add('interface-type', filter.interfaceType);
  add('attachment.instance-id', filter.attachedInstanceId === undefined ? undefined : [filter.attachedInstanceId]);
  add('description', filter.description === undefined ? undefined : [filter.description]);
  filters.push(...tagFilters(filter.tags));
  return filters;
}

const ENI_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'available',
  'attaching',
  'in-use',
  'detaching',
  'associated',
]);
const ATTACHMENT_STATUSES: ReadonlySet<string> = new Set(['attaching', 'attached', 'detaching', 'detached']);
const INSTANCE_STATES: ReadonlySet<string> = new Set([
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
]);

function toAttachment(eni: SdkNetworkInterface): NetworkInterfaceAttachment | undefined {
  const att = eni.Attachment;
  if (att?.AttachmentId === undefined) return undefined;
  const status = att.Status ?? 'attached';
  return {
    attachmentId: att.AttachmentId,
    instanceId: att.InstanceId ?? '',
    deviceIndex: att.DeviceIndex ?? 0,
    networkCardIndex: att.NetworkCardIndex ?? 0,
    status: (ATTACHMENT_STATUSES.has(status) ? status : 'attached') as NetworkInterfaceAttachment['status'],
    deleteOnTermination: att.DeleteOnTermination ?? false,
  };
}

export function toNetworkInterface(eni: SdkNetworkInterface): NetworkInterface {
  const status = eni.Status ?? 'pending';
  const attachment = toAttachment(eni);
  return {
    id: eni.NetworkInterfaceId ?? '',
    subnetId: eni.SubnetId ?? '',
    vpcId: eni.VpcId ?? '',
    availabilityZone: eni.AvailabilityZone ?? '',
    description: eni.Description ?? '',
    interfaceType: eni.InterfaceType ?? 'interface',
    status: (ENI_STATUSES.has(status) ? status : 'pending') as NetworkInterfaceStatus,
    macAddress: eni.MacAddress ?? '',
    privateIpAddress: eni.PrivateIpAddress ?? '',
    ipv6Address: eni.Ipv6Address ?? eni.Ipv6Addresses?.[0]?.Ipv6Address ?? '',
    securityGroupIds: (eni.Groups ?? []).flatMap((g) => (g.GroupId === undefined ? [] : [g.GroupId])),
    tags: fromSdkTags(eni.TagSet),
    ...(attachment === undefined ? {} : { attachment }),
  };
}

export function toInstance(instance: SdkInstance): Instance {
  const state = instance.State?.Name ?? 'pending';
  return {
    id: instance.InstanceId ?? '',
    instanceType: instance.InstanceType ?? '',
    state: (INSTANCE_STATES.has(state) ? state : 'pending') as Instance['state'],
    subnetId: instance.SubnetId ?? '',
    vpcId: instance.VpcId ?? '',
    availabilityZone: instance.Placement?.AvailabilityZone ?? '',
    privateIpAddress: instance.PrivateIpAddress ?? '',
    networkInterfaces: (instance.NetworkInterfaces ?? []).map((eni) => ({
      id: eni.NetworkInterfaceId ?? '',
      deviceIndex: eni.Attachment?.DeviceIndex ?? 0,
      networkCardIndex: eni.Attachment?.NetworkCardIndex ?? 0,
      interfaceType: eni.InterfaceType ?? 'interface',
      securityGroupIds: (eni.Groups ?? []).flatMap((g) => (g.GroupId === undefined ? [] : [g.GroupId])),
      subnetId: eni.SubnetId ?? '',
      privateIpAddress: eni.PrivateIpAddress ?? '',
      ...connectionTrackingField(eni.ConnectionTrackingConfiguration),
    })),
  };
}

function connectionTrackingField(config: ConnectionTrackingSpecificationResponse | undefined): {
  connectionTracking?: ConnectionTracking;
} {
  if (config === undefined) return {};
  const tracking: ConnectionTracking = {};
  if (config.TcpEstablishedTimeout !== undefined) tracking.tcpEstablishedTimeout = config.TcpEstablishedTimeout;
  if (config.UdpStreamTimeout !== undefined) tracking.udpStreamTimeout = config.UdpStreamTimeout;
  if (config.UdpTimeout !== undefined) tracking.udpTimeout = config.UdpTimeout;
  return Object.keys(tracking).length === 0 ? {} : { connectionTracking: tracking };
}

export function toSdkConnectionTracking(tracking: ConnectionTracking): ConnectionTrackingSpecificationRequest {
  return {
    ...(tracking.tcpEstablishedTimeout === undefined ? {} : { TcpEstablishedTimeout: tracking.tcpEstablishedTimeout }),
    ...(tracking.udpStreamTimeout === undefined ? {} : { UdpStreamTimeout: tracking.udpStreamTimeout }),
    ...(tracking.udpTimeout === undefined ? {} : { UdpTimeout: tracking.udpTimeout }),
  };
}

export function toInstanceTypeNetworkInfo(info: InstanceTypeInfo): InstanceTypeNetworkInfo {
  const net = info.NetworkInfo;
  const hypervisor = info.Hypervisor === 'nitro' || info.Hypervisor === 'xen' ? info.Hypervisor : '';
  return {
    instanceType: info.InstanceType ?? '',
    maximumNetworkInterfaces: net?.MaximumNetworkInterfaces ?? 0,
    ipv4AddressesPerInterface: net?.Ipv4AddressesPerInterface ?? 0,
    defaultNetworkCardIndex: net?.DefaultNetworkCardIndex ?? 0,
    networkCards: (net?.NetworkCards ?? []).map((card) => ({
      networkCardIndex: card.NetworkCardIndex ?? 0,
      maximumNetworkInterfaces: card.MaximumNetworkInterfaces ?? 0,
    })),
    hypervisor,
    bareMetal: info.BareMetal ?? false,
  };
}

export function toSubnet(subnet: SdkSubnet): Subnet {
  const ipv6 = (subnet.Ipv6CidrBlockAssociationSet ?? []).find(
    (a) => a.Ipv6CidrBlockState?.State === 'associated' || a.Ipv6CidrBlockState === undefined,
  );
  return {
    id: subnet.SubnetId ?? '',
    vpcId: subnet.VpcId ?? '',
    availabilityZone: subnet.AvailabilityZone ?? '',
    cidrBlock: subnet.CidrBlock ?? '',
    ipv6CidrBlock: ipv6?.Ipv6CidrBlock ?? '',
    availableIpAddressCount: subnet.AvailableIpAddressCount ?? 0,
    tags: fromSdkTags(subnet.Tags),
  };
}

export function toVpc(vpc: SdkVpc): Vpc {
  const associated = (vpc.CidrBlockAssociationSet ?? [])
    .filter((a) => a.CidrBlockState?.State === 'associated')
    .flatMap((a) => (a.CidrBlock === undefined ? [] : [a.CidrBlock]));
  const primary = vpc.CidrBlock;
  const cidrBlocks =
    primary !== undefined && associated.includes(primary)
      ? [primary, ...associated.filter((c) => c !== primary)]
      : associated;
  return {
    id: vpc.VpcId ?? '',
    cidrBlocks,
    ipv6CidrBlocks: (vpc.Ipv6CidrBlockAssociationSet ?? [])
      .filter((a) => a.Ipv6CidrBlockState?.State === 'associated')
      .flatMap((a) => (a.Ipv6CidrBlock === undefined ? [] : [a.Ipv6CidrBlock])),
  };
}

export function toSecurityGroup(group: SdkSecurityGroup): SecurityGroup {
  return {
    id: group.GroupId ?? '',
    vpcId: group.VpcId ?? '',
    name: group.GroupName ?? '',
    tags: fromSdkTags(group.Tags),
  };
}

export function toTrunkAssociation(assoc: TrunkInterfaceAssociation | undefined): TrunkAssociation {
  return {
    associationId: assoc?.AssociationId ?? '',
    branchInterfaceId: assoc?.BranchInterfaceId ?? '',
    trunkInterfaceId: assoc?.TrunkInterfaceId ?? '',
    vlanId: assoc?.VlanId ?? 0,
  };
}
