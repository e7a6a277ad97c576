import { invalidCombination, invalidValue, missingParameter } from '../protocol/errors.ts';
import { assertWellFormedId } from '../state/ids.ts';
import type { ConnectionTracking } from '../state/model.ts';
import {
  attachNetworkInterface,
  createNetworkInterface,
  deleteNetworkInterface,
  detachNetworkInterface,
  modifyConnectionTracking,
  modifyDeleteOnTermination,
  modifySecurityGroups,
} from '../state/ops-eni.ts';
import type { QueryParams } from '../protocol/query.ts';
import type { ActionDefinition } from './context.ts';
import { readTagSpecifications } from './context.ts';
import { networkInterfaceXml } from './shapes.ts';

/** CreateNetworkInterface, Attach/Detach/Delete and ModifyNetworkInterfaceAttribute (docs/ec2-semantics.md#eni-and-attachment-states). */

const INTERFACE_TYPES = new Set(['interface', 'trunk', 'efa', 'efa-only', 'branch']);

/** `ConnectionTrackingSpecification.*`, or undefined when no member is given. */
function readConnectionTracking(params: QueryParams): ConnectionTracking | undefined {
  const prefix = 'ConnectionTrackingSpecification';
  const spec: ConnectionTracking = {};
  const tcpEstablished = params.int(`${prefix}.TcpEstablishedTimeout`);
  const udpStream = params.int(`${prefix}.UdpStreamTimeout`);
  const udp = params.int(`${prefix}.UdpTimeout`);
  if (tcpEstablished !== undefined) spec.tcpEstablishedTimeout = tcpEstablished;
  if (udpStream !== undefined) spec.udpStreamTimeout = udpStream;
  if (udp !== undefined) spec.udpTimeout = udp;
  return Object.keys(spec).length > 0 ? spec : undefined;
}

export const createNetworkInterfaceAction: ActionDefinition = {
  name: 'CreateNetworkInterface',
  idempotent: true,
  params: [
    'SubnetId',
    'Description',
    'SecurityGroupId',
    'InterfaceType',
    'TagSpecification',
    'SecondaryPrivateIpAddressCount',
    'PrivateIpAddress',
    'PrivateIpAddresses',
    'Ipv6AddressCount',
    'Ipv6Addresses',
    'Ipv4Prefix',
    'Ipv4PrefixCount',
    'Ipv6Prefix',
    'Ipv6PrefixCount',
    'ClientToken',
    'EnablePrimaryIpv6',
    'ConnectionTrackingSpecification',
    'Operator',
  ],
  handle({ params, store }) {
    const subnetId = params.required('SubnetId');
    assertWellFormedId('subnet', subnetId);
    const groupIds = params.list('SecurityGroupId');
    for (const id of groupIds) assertWellFormedId('group', id);
    const interfaceType = params.string('InterfaceType') ?? 'interface';
    if (!INTERFACE_TYPES.has(interfaceType)) {
      throw invalidValue(`Value (${interfaceType}) for parameter interfaceType is invalid.`);
    }
    if (interfaceType !== 'interface' && interfaceType !== 'trunk') {
      throw invalidValue(`The interface type '${interfaceType}' is not supported by this emulator.`);
    }
    const secondaryCount = params.int('SecondaryPrivateIpAddressCount', { min: 0, max: 49 }) ?? 0;
    const privateIpAddresses = params.structs('PrivateIpAddresses');
    if (params.has('SecondaryPrivateIpAddressCount') && privateIpAddresses.length > 0) {
      throw invalidCombination('SecondaryPrivateIpAddressCount cannot be combined with PrivateIpAddresses.');
    }
    if (
      (params.has('Ipv4PrefixCount') || params.structs('Ipv4Prefix').length > 0) &&
      (secondaryCount > 0 || privateIpAddresses.length > 0)
    ) {
      throw invalidCombination('IPv4 prefixes cannot be combined with secondary private IP addresses.');
    }
    const clientToken = params.string('ClientToken');
    if (clientToken !== undefined && clientToken.length > 64)
      throw invalidValue('The client token must be at most 64 characters.');
    const ipv6AddressCount = params.int('Ipv6AddressCount', { min: 0, max: 50 });
    const ipv6Addresses = params.structs('Ipv6Addresses').map((item) => item.required('Ipv6Address'));
    const connectionTracking = readConnectionTracking(params);
    const eni = createNetworkInterface(store, {
      subnetId,
      groupIds: groupIds.length > 0 ? groupIds : undefined,
      description: params.string('Description') ?? '',
      interfaceType,
      tags: readTagSpecifications(params, 'network-interface'),
      secondaryPrivateIpCount: secondaryCount + Math.max(0, privateIpAddresses.length - 1),
      privateIpAddress: params.string('PrivateIpAddress') ?? privateIpAddresses[0]?.string('PrivateIpAddress'),
      ...(ipv6AddressCount === undefined ? {} : { ipv6AddressCount }),
      ...(ipv6Addresses.length === 0 ? {} : { ipv6Addresses }),
      ...(connectionTracking === undefined ? {} : { connectionTracking }),
    });
    // The create response shows `pending` (botocore example); Describe shows `available`.
    return { networkInterface: networkInterfaceXml(store, eni, 'pending'), clientToken };
  },
};

export const attachNetworkInterfaceAction: ActionDefinition = {
  name: 'AttachNetworkInterface',
  params: [
    'NetworkInterfaceId',
    'InstanceId',
    'DeviceIndex',
    'NetworkCardIndex',
    'EnaSrdSpecification',
    'EnaQueueCount',
  ],
  handle({ params, store }) {
    const eniId = params.required('NetworkInterfaceId');
    const instanceId = params.required('InstanceId');
    const deviceIndex = params.int('DeviceIndex', { min: 0, max: 127 });
    if (deviceIndex === undefined) throw missingParameter('DeviceIndex');
    const networkCardIndex = params.int('NetworkCardIndex', { min: 0, max: 127 }) ?? 0;
    const eni = attachNetworkInterface(store, { eniId, instanceId, deviceIndex, networkCardIndex });
    return { attachmentId: eni.attachment?.attachmentId, networkCardIndex };
  },
};

export const detachNetworkInterfaceAction: ActionDefinition = {
  name: 'DetachNetworkInterface',
  params: ['AttachmentId', 'Force'],
  handle({ params, store }) {
    params.bool('Force');
    detachNetworkInterface(store, params.required('AttachmentId'));
    return { return: true };
  },
};

export const deleteNetworkInterfaceAction: ActionDefinition = {
  name: 'DeleteNetworkInterface',
  params: ['NetworkInterfaceId'],
  handle({ params, store }) {
    deleteNetworkInterface(store, params.required('NetworkInterfaceId'));
    return { return: true };
  },
};

export const modifyNetworkInterfaceAttributeAction: ActionDefinition = {
  name: 'ModifyNetworkInterfaceAttribute',
  params: [
    'NetworkInterfaceId',
    'SecurityGroupId',
    'Attachment',
    'Description',
    'SourceDestCheck',
    'EnaSrdSpecification',
    'EnablePrimaryIpv6',
    'ConnectionTrackingSpecification',
    'AssociatePublicIpAddress',
    'AssociatedSubnetId',
  ],
  handle({ params, store }) {
    const eniId = params.required('NetworkInterfaceId');
    const groupIds = params.list('SecurityGroupId');
    const attachmentId = params.string('Attachment.AttachmentId');
    const hasAttachment = [...params.keys()].some((key) => key.startsWith('Attachment.'));
    const connectionTracking = readConnectionTracking(params);
    const attributes = [
      groupIds.length > 0,
      hasAttachment,
      params.has('Description.Value'),
      params.has('SourceDestCheck.Value'),
      connectionTracking !== undefined,
    ].filter(Boolean).length;
    if (attributes > 1) throw invalidCombination('You can specify only one attribute at a time.');
    if (attributes === 0) throw missingParameter('an attribute to modify');
    if (groupIds.length > 0) {
      modifySecurityGroups(store, eniId, groupIds);
    } else if (connectionTracking !== undefined) {
      modifyConnectionTracking(store, eniId, connectionTracking);
    } else if (hasAttachment) {
      if (attachmentId === undefined) throw missingParameter('Attachment.AttachmentId');
      const deleteOnTermination = params.bool('Attachment.DeleteOnTermination');
      if (deleteOnTermination === undefined) throw missingParameter('Attachment.DeleteOnTermination');
      modifyDeleteOnTermination(store, eniId, attachmentId, deleteOnTermination);
    } else if (params.has('Description.Value')) {
      store.requireEni(eniId).description = params.string('Description.Value') ?? '';
    } else {
      const value = params.bool('SourceDestCheck.Value');
      store.requireEni(eniId).sourceDestCheck = value ?? true;
    }
    return { return: true };
  },
};
