import { attachmentStatus, cidrState } from './actions/shapes.ts';
import type { Instance, NetworkInterface, Subnet, Vpc } from './state/model.ts';
import type { Store } from './state/store.ts';
import type { DumpInstance, DumpNetworkInterface, DumpSubnet, DumpVpc, EmulatorDump } from './types.ts';

/** Plain-JSON views of the state for assertions (ignores eventual consistency: the truth, not what EC2 shows). */

export function dumpNetworkInterface(store: Store, eni: NetworkInterface): DumpNetworkInterface {
  const attachment = eni.attachment;
  return {
    id: eni.id,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    availabilityZone: eni.availabilityZone,
    description: eni.description,
    interfaceType: eni.interfaceType,
    status: eni.status,
    macAddress: eni.macAddress,
    privateIpAddress: eni.privateIpAddresses[0] ?? '',
    secondaryPrivateIpAddresses: eni.privateIpAddresses.slice(1),
    ipv6Addresses: [...eni.ipv6Addresses],
    securityGroupIds: [...eni.groupIds],
    ...(eni.connectionTracking && { connectionTracking: { ...eni.connectionTracking } }),
    tags: Object.fromEntries(eni.tags),
    ...(attachment && {
      attachment: {
        attachmentId: attachment.attachmentId,
        instanceId: attachment.instanceId,
        deviceIndex: attachment.deviceIndex,
        networkCardIndex: attachment.networkCardIndex,
        status: attachmentStatus(store, attachment),
        deleteOnTermination: attachment.deleteOnTermination,
      },
    }),
  };
}

export function dumpInstance(instance: Instance): DumpInstance {
  return {
    id: instance.id,
    instanceType: instance.instanceType,
    state: instance.state,
    subnetId: instance.subnetId,
    vpcId: instance.vpcId,
    availabilityZone: instance.availabilityZone,
    privateIpAddress: instance.privateIpAddress,
    primaryNetworkInterfaceId: instance.primaryEniId,
    tags: Object.fromEntries(instance.tags),
  };
}

export function dumpSubnet(subnet: Subnet): DumpSubnet {
  return {
    id: subnet.id,
    vpcId: subnet.vpcId,
    cidrBlock: subnet.pool.cidr.text,
    ipv6CidrBlock: subnet.ipv6?.pool.cidr.text ?? '',
    availabilityZone: subnet.availabilityZone,
    availableIpAddressCount: subnet.pool.available,
    tags: Object.fromEntries(subnet.tags),
  };
}

export function dumpVpc(store: Store, vpc: Vpc): DumpVpc {
  return {
    id: vpc.id,
    cidrBlocks: vpc.cidrs.map((c) => ({
      associationId: c.associationId,
      cidrBlock: c.cidr.text,
      state: cidrState(store, c.associatedAt),
    })),
    ipv6CidrBlocks: vpc.ipv6Cidrs.map((c) => c.cidr.text),
    tags: Object.fromEntries(vpc.tags),
  };
}

export function dumpState(store: Store): EmulatorDump {
  return {
    vpcs: [...store.vpcs.values()].map((vpc) => dumpVpc(store, vpc)),
    subnets: [...store.subnets.values()].map(dumpSubnet),
    securityGroups: [...store.groups.values()].map((g) => ({
      id: g.id,
      name: g.name,
      vpcId: g.vpcId,
      tags: Object.fromEntries(g.tags),
    })),
    instances: [...store.instances.values()].map(dumpInstance),
    networkInterfaces: [...store.enis.values()].map((eni) => dumpNetworkInterface(store, eni)),
    associations: [...store.associations.values()].map((a) => ({
      associationId: a.id,
      branchInterfaceId: a.branchId,
      trunkInterfaceId: a.trunkId,
      vlanId: a.vlanId,
    })),
  };
}
