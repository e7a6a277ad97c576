import type { XmlObject, XmlValue } from '../protocol/xml.ts';
import type {
  Attachment,
  Instance,
  InstanceTypeInfo,
  NetworkInterface,
  SecurityGroup,
  Subnet,
  Tags,
  TrunkAssociation,
  Vpc,
} from '../state/model.ts';
import type { Store } from '../state/store.ts';

/** Model → XML bodies with the EC2 model's element names (docs/ec2-semantics.md#the-wire). */

export const iso = (ms: number): string => new Date(ms).toISOString();

export const tagSet = (tags: Tags): XmlValue[] => [...tags].map(([key, value]) => ({ key, value }));

export function privateDnsName(store: Store, ip: string): string {
  const region = store.config.region;
  const suffix = region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
  return `ip-${ip.replaceAll('.', '-')}.${suffix}`;
}

export function attachmentStatus(store: Store, attachment: Attachment): 'attaching' | 'attached' {
  return store.now() < attachment.attachedAt ? 'attaching' : 'attached';
}

const groupSet = (store: Store, ids: string[]): XmlValue[] =>
  ids.map((groupId) => ({ groupId, groupName: store.groups.get(groupId)?.name ?? '' }));

export function networkInterfaceXml(store: Store, eni: NetworkInterface, status: string = eni.status): XmlObject {
  const owner = store.config.accountId;
  const primary = eni.privateIpAddresses[0] ?? '';
  const attachment = eni.attachment;
  return {
    networkInterfaceId: eni.id,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    availabilityZone: eni.availabilityZone,
    availabilityZoneId: store.subnets.get(eni.subnetId)?.availabilityZoneId,
    description: eni.description,
    ownerId: owner,
    requesterId: owner,
    requesterManaged: false,
    status,
    macAddress: eni.macAddress,
    privateIpAddress: primary,
    privateDnsName: privateDnsName(store, primary),
    sourceDestCheck: eni.sourceDestCheck,
    groupSet: groupSet(store, eni.groupIds),
    attachment: attachment && {
      attachmentId: attachment.attachmentId,
      instanceId: attachment.instanceId,
      instanceOwnerId: owner,
      deviceIndex: attachment.deviceIndex,
      networkCardIndex: attachment.networkCardIndex,
      status: attachmentStatus(store, attachment),
      attachTime: iso(attachment.attachTime),
      deleteOnTermination: attachment.deleteOnTermination,
    },
    tagSet: tagSet(eni.tags),
    privateIpAddressesSet: eni.privateIpAddresses.map((ip, index) => ({
      privateIpAddress: ip,
      privateDnsName: privateDnsName(store, ip),
      primary: index === 0,
    })),
    ipv6AddressesSet: eni.ipv6Addresses.map((ipv6Address) => ({ ipv6Address, isPrimaryIpv6: false })),
    // EC2 fills ipv6Address with the ENI's (first) IPv6 address; EKS's controller reads it for branch ENIs.
    ipv6Address: eni.ipv6Addresses[0],
    interfaceType: eni.interfaceType,
    ipv6Native: false,
    connectionTrackingConfiguration: eni.connectionTracking && { ...eni.connectionTracking },
  };
}

export function associationXml(association: TrunkAssociation): XmlObject {
  return {
    associationId: association.id,
    branchInterfaceId: association.branchId,
    trunkInterfaceId: association.trunkId,
    interfaceProtocol: 'VLAN',
    vlanId: association.vlanId,
    tagSet: [],
  };
}

export function instanceStateXml(instance: Instance): XmlObject {
  return instance.state === 'running' ? { code: 16, name: 'running' } : { code: 48, name: 'terminated' };
}

export function instanceXml(store: Store, instance: Instance): XmlObject {
  const isRunning = instance.state === 'running';
  const enis = store.attachedEnis(instance.id).sort((a, b) => a.seq - b.seq);
  const primary = store.enis.get(instance.primaryEniId);
  return {
    instanceId: instance.id,
    imageId: 'ami-0123456789abcdef0',
    instanceState: instanceStateXml(instance),
    privateDnsName: isRunning ? privateDnsName(store, instance.privateIpAddress) : '',
    dnsName: '',
    reason: isRunning ? '' : 'User initiated',
    amiLaunchIndex: 0,
    productCodes: [],
    instanceType: instance.instanceType,
    launchTime: iso(instance.launchTime),
    placement: { availabilityZone: instance.availabilityZone, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: isRunning ? instance.subnetId : undefined,
    vpcId: isRunning ? instance.vpcId : undefined,
    privateIpAddress: isRunning ? instance.privateIpAddress : undefined,
    sourceDestCheck: true,
    groupSet: isRunning && primary ? groupSet(store, primary.groupIds) : [],
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: [],
    virtualizationType: 'hvm',
    tagSet: tagSet(instance.tags),
    hypervisor: 'xen',
    networkInterfaceSet: enis.map((eni) => {
      const body = networkInterfaceXml(store, eni);
      // The instance view of an ENI carries no availabilityZone/requester members (model: InstanceNetworkInterface).
      delete body.availabilityZone;
      delete body.availabilityZoneId;
      delete body.requesterId;
      delete body.requesterManaged;
      delete body.tagSet;
      return body;
    }),
    ebsOptimized: false,
    enaSupport: true,
    sriovNetSupport: 'simple',
  };
}

export function subnetXml(store: Store, subnet: Subnet): XmlObject {
  return {
    subnetId: subnet.id,
    subnetArn: `arn:aws:ec2:${store.config.region}:${store.config.accountId}:subnet/${subnet.id}`,
    state: 'available',
    vpcId: subnet.vpcId,
    cidrBlock: subnet.pool.cidr.text,
    availableIpAddressCount: subnet.pool.available,
    availabilityZone: subnet.availabilityZone,
    availabilityZoneId: subnet.availabilityZoneId,
    defaultForAz: false,
    mapPublicIpOnLaunch: false,
    ownerId: store.config.accountId,
    assignIpv6AddressOnCreation: subnet.assignIpv6AddressOnCreation,
    ipv6CidrBlockAssociationSet: subnet.ipv6
      ? [
          {
            associationId: subnet.ipv6.associationId,
            ipv6CidrBlock: subnet.ipv6.pool.cidr.text,
            ipv6CidrBlockState: { state: 'associated' },
            ipSource: 'amazon',
            ipv6AddressAttribute: 'public',
          },
        ]
      : [],
    tagSet: tagSet(subnet.tags),
    ipv6Native: false,
    privateDnsNameOptionsOnLaunch: {
      hostnameType: 'ip-name',
      enableResourceNameDnsARecord: false,
      enableResourceNameDnsAAAARecord: false,
    },
  };
}

export function cidrState(store: Store, associatedAt: number): 'associating' | 'associated' {
  return store.now() < associatedAt ? 'associating' : 'associated';
}

export function vpcXml(store: Store, vpc: Vpc): XmlObject {
  return {
    vpcId: vpc.id,
    ownerId: store.config.accountId,
    state: 'available',
    cidrBlock: vpc.cidrs[0]?.cidr.text,
    cidrBlockAssociationSet: vpc.cidrs.map((block) => ({
      associationId: block.associationId,
      cidrBlock: block.cidr.text,
      cidrBlockState: { state: cidrState(store, block.associatedAt) },
    })),
    ipv6CidrBlockAssociationSet: vpc.ipv6Cidrs.map((block) => ({
      associationId: block.associationId,
      ipv6CidrBlock: block.cidr.text,
      ipv6CidrBlockState: { state: 'associated' },
      networkBorderGroup: store.config.region,
      ipv6Pool: 'Amazon',
      ipSource: 'amazon',
      ipv6AddressAttribute: 'public',
    })),
    dhcpOptionsId: 'dopt-0123456789abcdef0',
    tagSet: tagSet(vpc.tags),
    instanceTenancy: 'default',
    isDefault: false,
  };
}

export function securityGroupXml(store: Store, group: SecurityGroup): XmlObject {
  return {
    ownerId: store.config.accountId,
    groupId: group.id,
    groupName: group.name,
    groupDescription: group.description,
    vpcId: group.vpcId,
    securityGroupArn: `arn:aws:ec2:${store.config.region}:${store.config.accountId}:security-group/${group.id}`,
    ipPermissions: [],
    ipPermissionsEgress: [
      { ipProtocol: '-1', groups: [], ipRanges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [], prefixListIds: [] },
    ],
    tagSet: tagSet(group.tags),
  };
}

export function instanceTypeXml(info: InstanceTypeInfo): XmlObject {
  const cards = info.networkCards;
  return {
    instanceType: info.instanceType,
    currentGeneration: true,
    bareMetal: info.isBareMetal,
    hypervisor: info.isBareMetal ? undefined : info.hypervisor,
    networkInfo: {
      networkPerformance: 'Up to 10 Gigabit',
      maximumNetworkInterfaces: info.maximumNetworkInterfaces,
      maximumNetworkCards: cards.length,
      defaultNetworkCardIndex: info.defaultNetworkCardIndex,
      networkCards: cards.map((card) => ({
        networkCardIndex: card.networkCardIndex,
        networkPerformance: 'Up to 10 Gigabit',
        maximumNetworkInterfaces: card.maximumNetworkInterfaces,
        baselineBandwidthInGbps: 0.75,
        peakBandwidthInGbps: 10,
        defaultEnaQueueCountPerInterface: 2,
      })),
      ipv4AddressesPerInterface: info.ipv4PerInterface,
      ipv6AddressesPerInterface: info.ipv4PerInterface,
      ipv6Supported: true,
      enaSupport: 'required',
      efaSupported: false,
      encryptionInTransitSupported: false,
      enaSrdSupported: false,
      connectionTrackingConfiguration: {
        defaultTcpEstablishedTimeout: 432000,
        defaultUdpStreamTimeout: 180,
        defaultUdpTimeout: 30,
      },
      flexibleEnaQueuesSupport: 'unsupported',
      secondaryNetworkSupported: false,
    },
  };
}
