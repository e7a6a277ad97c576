import { Ec2Fault } from '../protocol/errors.ts';
import { type IdKind, assertWellFormedId, notFoundMany } from '../state/ids.ts';
import type { SecurityGroup, Subnet, Vpc } from '../state/model.ts';
import type { Store } from '../state/store.ts';
import type { ActionDefinition } from './context.ts';
import { type FilterSchema, compileFilters, readFilters } from './filters.ts';
import { inSeqOrder, readPaging, takePage } from './paging.ts';
import { NO_DEFAULT_VPC } from './security-groups.ts';
import { cidrState, securityGroupXml, subnetXml, vpcXml } from './shapes.ts';

/** DescribeSubnets, DescribeVpcs, DescribeSecurityGroups (docs/ec2-semantics.md#describes). */

function explicit<T extends { seq: number }>(kind: IdKind, ids: string[], records: Map<string, T>): T[] {
  for (const id of ids) assertWellFormedId(kind, id);
  const missing = ids.filter((id) => !records.has(id));
  if (missing.length > 0) throw notFoundMany(kind, missing);
  return inSeqOrder(new Set(ids), records);
}

const subnetSchema = (store: Store): FilterSchema<Subnet> => ({
  tags: (s) => s.tags,
  fields: {
    'subnet-id': (s) => s.id,
    'vpc-id': (s) => s.vpcId,
    'cidr-block': (s) => s.pool.cidr.text,
    cidr: (s) => s.pool.cidr.text,
    cidrBlock: (s) => s.pool.cidr.text,
    'availability-zone': (s) => s.availabilityZone,
    availabilityZone: (s) => s.availabilityZone,
    'availability-zone-id': (s) => s.availabilityZoneId,
    'available-ip-address-count': (s) => s.pool.available,
    'ipv6-cidr-block-association.ipv6-cidr-block': (s) => s.ipv6?.pool.cidr.text,
    'ipv6-cidr-block-association.association-id': (s) => s.ipv6?.associationId,
    'ipv6-cidr-block-association.state': (s) => (s.ipv6 ? 'associated' : undefined),
    'assign-ipv6-address-on-creation': (s) => s.assignIpv6AddressOnCreation,
    state: () => 'available',
    'default-for-az': () => false,
    'owner-id': () => store.config.accountId,
  },
});

export const describeSubnetsAction: ActionDefinition = {
  name: 'DescribeSubnets',
  params: ['SubnetId', 'Filter', 'MaxResults', 'NextToken'],
  handle({ params, store }) {
    const ids = params.list('SubnetId');
    const paging = readPaging(params, 'DescribeSubnets', { min: 5, max: 1000 }, false);
    const matches = compileFilters(readFilters(params), subnetSchema(store));
    const source = ids.length > 0 ? explicit('subnet', ids, store.subnets) : store.subnets.values();
    const { page, nextToken } = takePage(source, paging, 'DescribeSubnets', matches);
    return { subnetSet: page.map((subnet) => subnetXml(store, subnet)), nextToken };
  },
};

const vpcSchema = (store: Store): FilterSchema<Vpc> => ({
  tags: (v) => v.tags,
  fields: {
    'vpc-id': (v) => v.id,
    cidr: (v) => v.cidrs[0]?.cidr.text,
    'cidr-block-association.cidr-block': (v) => v.cidrs.map((c) => c.cidr.text),
    'cidr-block-association.association-id': (v) => v.cidrs.map((c) => c.associationId),
    'cidr-block-association.state': (v) => v.cidrs.map((c) => cidrState(store, c.associatedAt)),
    'ipv6-cidr-block-association.ipv6-cidr-block': (v) => v.ipv6Cidrs.map((c) => c.cidr.text),
    'ipv6-cidr-block-association.association-id': (v) => v.ipv6Cidrs.map((c) => c.associationId),
    'ipv6-cidr-block-association.state': (v) => v.ipv6Cidrs.map(() => 'associated'),
    state: () => 'available',
    'is-default': () => false,
    'owner-id': () => store.config.accountId,
    'dhcp-options-id': () => 'dopt-0123456789abcdef0',
  },
});

export const describeVpcsAction: ActionDefinition = {
  name: 'DescribeVpcs',
  params: ['VpcId', 'Filter', 'MaxResults', 'NextToken'],
  handle({ params, store }) {
    const ids = params.list('VpcId');
    const paging = readPaging(params, 'DescribeVpcs', { min: 5, max: 1000 }, false);
    const matches = compileFilters(readFilters(params), vpcSchema(store));
    const source = ids.length > 0 ? explicit('vpc', ids, store.vpcs) : store.vpcs.values();
    const { page, nextToken } = takePage(source, paging, 'DescribeVpcs', matches);
    return { vpcSet: page.map((vpc) => vpcXml(store, vpc)), nextToken };
  },
};

const groupSchema = (store: Store): FilterSchema<SecurityGroup> => ({
  tags: (g) => g.tags,
  fields: {
    'group-id': (g) => g.id,
    'group-name': (g) => g.name,
    'vpc-id': (g) => g.vpcId,
    description: (g) => g.description,
    'owner-id': () => store.config.accountId,
  },
});

export const describeSecurityGroupsAction: ActionDefinition = {
  name: 'DescribeSecurityGroups',
  params: ['GroupId', 'GroupName', 'Filter', 'MaxResults', 'NextToken'],
  handle({ params, store }) {
    const ids = params.list('GroupId');
    // GroupName.N names groups of the default VPC only, and the emulator has none (EC2 says the same to an
    // account without one); groups of other VPCs are found by name with the group-name filter.
    if (params.list('GroupName').length > 0) throw new Ec2Fault('VPCIdNotSpecified', NO_DEFAULT_VPC);
    const paging = readPaging(params, 'DescribeSecurityGroups', { min: 5, max: 1000 }, false);
    const matches = compileFilters(readFilters(params), groupSchema(store));
    const source = ids.length > 0 ? explicit('group', ids, store.groups) : store.groups.values();
    const { page, nextToken } = takePage(source, paging, 'DescribeSecurityGroups', matches);
    return { securityGroupInfo: page.map((group) => securityGroupXml(store, group)), nextToken };
  },
};
