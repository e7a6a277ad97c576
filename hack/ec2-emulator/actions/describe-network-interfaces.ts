import { assertWellFormedId, notFoundMany } from '../state/ids.ts';
import type { NetworkInterface } from '../state/model.ts';
import type { Store } from '../state/store.ts';
import type { ActionDefinition } from './context.ts';
import { type Filter, type FilterSchema, compileFilters, exactValues, readFilters } from './filters.ts';
import { inSeqOrder, readPaging, takePage } from './paging.ts';
import { attachmentStatus, networkInterfaceXml, privateDnsName } from './shapes.ts';

/** DescribeNetworkInterfaces (docs/ec2-semantics.md#describes): explicit ids, filters answered from indexes first, pagination. */

const schema = (store: Store): FilterSchema<NetworkInterface> => ({
  tags: (eni) => eni.tags,
  fields: {
    'network-interface-id': (eni) => eni.id,
    'attachment.instance-id': (eni) => eni.attachment?.instanceId,
    'attachment.attachment-id': (eni) => eni.attachment?.attachmentId,
    'attachment.status': (eni) => (eni.attachment ? attachmentStatus(store, eni.attachment) : undefined),
    'attachment.device-index': (eni) => eni.attachment?.deviceIndex,
    'attachment.network-card-index': (eni) => eni.attachment?.networkCardIndex,
    'attachment.delete-on-termination': (eni) => eni.attachment?.deleteOnTermination,
    'attachment.instance-owner-id': (eni) => (eni.attachment ? store.config.accountId : undefined),
    'interface-type': (eni) => eni.interfaceType,
    description: (eni) => eni.description,
    status: (eni) => eni.status,
    'vpc-id': (eni) => eni.vpcId,
    'subnet-id': (eni) => eni.subnetId,
    'group-id': (eni) => eni.groupIds,
    'group-name': (eni) => eni.groupIds.map((id) => store.groups.get(id)?.name),
    'availability-zone': (eni) => eni.availabilityZone,
    'private-ip-address': (eni) => eni.privateIpAddresses,
    'addresses.private-ip-address': (eni) => eni.privateIpAddresses,
    'addresses.primary': (eni) =>
      eni.privateIpAddresses.length > 0 ? [true, ...eni.privateIpAddresses.slice(1).map(() => false)] : [],
    'ipv6-addresses.ipv6-address': (eni) => eni.ipv6Addresses,
    'mac-address': (eni) => eni.macAddress,
    'owner-id': () => store.config.accountId,
    'requester-managed': () => false,
    'requester-id': () => store.config.accountId,
    'source-dest-check': (eni) => eni.sourceDestCheck,
    'private-dns-name': (eni) => eni.privateIpAddresses.map((ip) => privateDnsName(store, ip)),
  },
});

/** The smallest candidate set an index can give for these filters; undefined = scan everything. */
function candidates(store: Store, filters: Filter[]): Iterable<NetworkInterface> {
  const sets: Iterable<string>[] = [];
  const ids = exactValues(filters, 'network-interface-id');
  if (ids) sets.push(ids);
  const instanceIds = exactValues(filters, 'attachment.instance-id');
  if (instanceIds) sets.push(instanceIds.flatMap((id) => [...(store.enisByInstance.get(id) ?? [])]));
  const subnetIds = exactValues(filters, 'subnet-id');
  if (subnetIds) sets.push(subnetIds.flatMap((id) => [...(store.enisBySubnet.get(id) ?? [])]));
  for (const filter of filters) {
    if (filter.name.startsWith('tag:')) {
      const found = store.eniTags.lookup(filter.name.slice(4), filter.values);
      if (found) sets.push(found);
    } else if (filter.name === 'tag-key') {
      const keys = exactValues(filters, 'tag-key');
      if (keys) sets.push(new Set(keys.flatMap((key) => [...store.eniTags.withKey(key)])));
    }
  }
  if (sets.length === 0) return store.enis.values();
  const sizes = sets.map((set) => (Array.isArray(set) ? set.length : (set as Set<string>).size));
  const smallest = sets[sizes.indexOf(Math.min(...sizes))] ?? [];
  return inSeqOrder(new Set(smallest), store.enis);
}

export const describeNetworkInterfacesAction: ActionDefinition = {
  name: 'DescribeNetworkInterfaces',
  params: ['NetworkInterfaceId', 'Filter', 'MaxResults', 'NextToken', 'IncludeManagedResources'],
  handle({ params, store }) {
    const ids = params.list('NetworkInterfaceId');
    for (const id of ids) assertWellFormedId('eni', id);
    const paging = readPaging(params, 'DescribeNetworkInterfaces', { min: 5, max: 1000 }, ids.length > 0);
    const filters = readFilters(params);
    const matches = compileFilters(filters, schema(store));
    let source: Iterable<NetworkInterface>;
    if (ids.length > 0) {
      const missing = ids.filter((id) => {
        const eni = store.enis.get(id);
        return !eni || !store.isVisible(eni);
      });
      if (missing.length > 0) throw notFoundMany('eni', missing);
      source = inSeqOrder(new Set(ids), store.enis);
    } else {
      source = candidates(store, filters);
    }
    const { page, nextToken } = takePage(
      source,
      paging,
      'DescribeNetworkInterfaces',
      (eni) => store.isVisible(eni) && matches(eni),
    );
    return { networkInterfaceSet: page.map((eni) => networkInterfaceXml(store, eni)), nextToken };
  },
};
