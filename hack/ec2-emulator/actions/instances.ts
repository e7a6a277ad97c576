import { Ec2Fault } from '../protocol/errors.ts';
import { assertWellFormedId, notFoundMany } from '../state/ids.ts';
import { instanceTypes } from '../state/instance-types.ts';
import type { Instance, InstanceTypeInfo } from '../state/model.ts';
import type { Store } from '../state/store.ts';
import type { ActionDefinition } from './context.ts';
import { type FilterSchema, compileFilters, exactValues, readFilters } from './filters.ts';
import { inSeqOrder, readPaging, takePage } from './paging.ts';
import { instanceTypeXml, instanceXml, privateDnsName } from './shapes.ts';

/** DescribeInstances and DescribeInstanceTypes (docs/ec2-semantics.md#the-calls). */

const instanceSchema = (store: Store): FilterSchema<Instance> => ({
  tags: (instance) => instance.tags,
  fields: {
    'instance-id': (i) => i.id,
    'instance-type': (i) => i.instanceType,
    'instance-state-name': (i) => i.state,
    'instance-state-code': (i) => (i.state === 'running' ? 16 : 48),
    'vpc-id': (i) => i.vpcId,
    'subnet-id': (i) => i.subnetId,
    'availability-zone': (i) => i.availabilityZone,
    'private-ip-address': (i) => i.privateIpAddress,
    'private-dns-name': (i) => privateDnsName(store, i.privateIpAddress),
    'reservation-id': (i) => i.reservationId,
    'owner-id': () => store.config.accountId,
    'network-interface.network-interface-id': (i) => [...(store.enisByInstance.get(i.id) ?? [])],
    'network-interface.subnet-id': (i) => store.attachedEnis(i.id).map((eni) => eni.subnetId),
    'network-interface.vpc-id': (i) => store.attachedEnis(i.id).map((eni) => eni.vpcId),
    'network-interface.group-id': (i) => store.attachedEnis(i.id).flatMap((eni) => eni.groupIds),
    'instance.group-id': (i) => store.enis.get(i.primaryEniId)?.groupIds ?? [],
  },
});

export const describeInstancesAction: ActionDefinition = {
  name: 'DescribeInstances',
  params: ['InstanceId', 'Filter', 'MaxResults', 'NextToken', 'IncludeManagedResources'],
  handle({ params, store }) {
    const ids = params.list('InstanceId');
    for (const id of ids) assertWellFormedId('instance', id);
    const paging = readPaging(params, 'DescribeInstances', { min: 5, max: 1000 }, ids.length > 0);
    const filters = readFilters(params);
    const matches = compileFilters(filters, instanceSchema(store));
    let source: Iterable<Instance> = store.instances.values();
    if (ids.length > 0) {
      const missing = ids.filter((id) => {
        const instance = store.instances.get(id);
        return !instance || !store.isVisible(instance);
      });
      if (missing.length > 0) throw notFoundMany('instance', missing);
      source = inSeqOrder(new Set(ids), store.instances);
    } else {
      const filterIds = exactValues(filters, 'instance-id');
      const tagFilter = filters.find((f) => f.name.startsWith('tag:'));
      const tagged = tagFilter ? store.instanceTags.lookup(tagFilter.name.slice(4), tagFilter.values) : undefined;
      if (filterIds) source = inSeqOrder(new Set(filterIds), store.instances);
      else if (tagged) source = inSeqOrder(tagged, store.instances);
    }
    const { page, nextToken } = takePage(source, paging, 'DescribeInstances', (i) => store.isVisible(i) && matches(i));
    return {
      reservationSet: page.map((instance) => ({
        reservationId: instance.reservationId,
        ownerId: store.config.accountId,
        groupSet: [],
        instancesSet: [instanceXml(store, instance)],
      })),
      nextToken,
    };
  },
};

const typeSchema: FilterSchema<InstanceTypeInfo & { seq: number }> = {
  fields: {
    'instance-type': (t) => t.instanceType,
    hypervisor: (t) => t.hypervisor,
    'bare-metal': (t) => t.isBareMetal,
    'current-generation': () => true,
    'network-info.maximum-network-interfaces': (t) => t.maximumNetworkInterfaces,
    'network-info.maximum-network-cards': (t) => t.networkCards.length,
    'network-info.ipv4-addresses-per-interface': (t) => t.ipv4PerInterface,
    'network-info.ipv6-addresses-per-interface': (t) => t.ipv4PerInterface,
    'network-info.ipv6-supported': () => true,
    'network-info.ena-support': () => 'required',
    'network-info.efa-supported': () => false,
    'network-info.encryption-in-transit-supported': () => false,
  },
};

let indexedTypes: (InstanceTypeInfo & { seq: number })[] | undefined;

export const describeInstanceTypesAction: ActionDefinition = {
  name: 'DescribeInstanceTypes',
  params: ['InstanceType', 'Filter', 'MaxResults', 'NextToken', 'IncludeUnsupportedInRegion'],
  handle({ params }) {
    indexedTypes ??= [...instanceTypes().values()].map((info, index) => ({ ...info, seq: index + 1 }));
    const requested = params.list('InstanceType');
    const unknown = requested.filter((name) => !instanceTypes().has(name));
    if (unknown.length > 0) {
      throw new Ec2Fault(
        'InvalidInstanceType',
        `The following supplied instance types do not exist: [${unknown.join(', ')}]`,
      );
    }
    const paging = readPaging(params, 'DescribeInstanceTypes', { min: 5, max: 100 }, false);
    const matches = compileFilters(readFilters(params), typeSchema);
    const wanted = new Set(requested);
    const { page, nextToken } = takePage(
      indexedTypes,
      paging,
      'DescribeInstanceTypes',
      (t) => (wanted.size === 0 || wanted.has(t.instanceType)) && matches(t),
    );
    return { instanceTypeSet: page.map(instanceTypeXml), nextToken };
  },
};
