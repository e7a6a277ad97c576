/**
 * TrunkInterface status as data. Pure: each function returns a new status, and the reconciler writes it with
 * the framework's patchStatusIfChanged (one patch, only when something changed).
 */
import type { TrunkInterface, TrunkState } from '../../api/types.ts';
import type { Instance, NetworkInterface, Subnet } from '../../aws/index.ts';
import { setCondition } from '../../framework/index.ts';
import { Reason } from '../../observability/reasons.ts';
import { podSubnetsInZone, type VpcNetworkSnapshot } from '../vpcnetwork/snapshot.ts';
import { primaryInterface } from './plan.ts';

export type TrunkStatus = NonNullable<TrunkInterface['status']>;

export const READY_CONDITION = 'Ready';

/** Condition reasons of Ready; a closed set (CamelCase, as metav1.Condition wants). */
export type ReadyReason =
  | 'TrunkAttached'
  | 'Creating'
  | 'Attaching'
  | 'InstanceNotRunning'
  | 'InstanceNotFound'
  | 'NoFreeENISlot'
  | 'TrunkENICreationFailed'
  | 'UnsupportedInstanceType'
  | 'WaitingForPodNetwork'
  | 'NodeGone';

export interface Progress {
  state: TrunkState;
  reason: ReadyReason;
  message: string;
}

/** `status` with the state and Ready condition of `progress`, plus any field updates. */
export function withProgress(
  trunk: TrunkInterface,
  status: TrunkStatus,
  progress: Progress,
  nowIso: string,
  fields: Partial<TrunkStatus> = {},
): TrunkStatus {
  const generation = trunk.metadata.generation;
  return {
    ...status,
    ...fields,
    state: progress.state,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setCondition(
      status.conditions,
      {
        type: READY_CONDITION,
        status: progress.state === 'Ready' ? 'True' : 'False',
        reason: progress.reason,
        message: progress.message,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      nowIso,
    ),
  };
}

/** The fields that describe the trunk ENI, dropped when a failed attempt's ENI was deleted. */
export function withoutEni(status: TrunkStatus): TrunkStatus {
  const rest = { ...status };
  delete rest.eniId;
  delete rest.attachmentId;
  return rest;
}

/**
 * What a Ready status records about the trunk ENI, its subnet and the node's primary ENI (the branch side
 * reads these; branch ENIs copy the primary ENI's connection tracking, docs/networks.md#connection-tracking).
 */
export function readyFields(trunk: NetworkInterface, subnet: Subnet, instance: Instance): Partial<TrunkStatus> {
  const attachment = trunk.attachment;
  return {
    eniId: trunk.id,
    ...(attachment ? { attachmentId: attachment.attachmentId } : {}),
    subnetId: subnet.id,
    subnetCidr: subnet.cidrBlock,
    ...(subnet.ipv6CidrBlock ? { subnetV6Cidr: subnet.ipv6CidrBlock } : {}),
    availabilityZone: trunk.availabilityZone,
    securityGroups: [...trunk.securityGroupIds].sort(),
    primaryInterface: primaryInterfaceStatus(instance),
  };
}

/** What trunk and branch ENIs copy from the node's primary ENI (TrunkInterface status.primaryInterface). */
export function primaryInterfaceStatus(instance: Instance): NonNullable<TrunkStatus['primaryInterface']> {
  const primary = primaryInterface(instance);
  return {
    securityGroups: [...(primary?.securityGroupIds ?? [])].sort(),
    ...(primary?.connectionTracking === undefined ? {} : { connectionTracking: primary.connectionTracking }),
  };
}

/**
 * The trunk's subnet as status recorded it, so a re-check does not describe it again; undefined until all
 * of id, CIDR and zone are on record. (Free addresses are not recorded: they change with every pod.)
 */
export function recordedSubnet(status: TrunkStatus | undefined, vpcId: string): Subnet | undefined {
  if (status?.subnetId === undefined || status.subnetCidr === undefined || status.availabilityZone === undefined) {
    return undefined;
  }
  return {
    id: status.subnetId,
    vpcId,
    availabilityZone: status.availabilityZone,
    cidrBlock: status.subnetCidr,
    ipv6CidrBlock: status.subnetV6Cidr ?? '',
    availableIpAddressCount: 0,
    tags: {},
  };
}

/**
 * A Ready trunk whose status we can trust without asking EC2 (it was verified recently). A status without the
 * primary ENI's settings (written before they were recorded) is verified once to learn them.
 */
export function isSettled(trunk: TrunkInterface): boolean {
  const status = trunk.status;
  return (
    status?.state === 'Ready' &&
    status.eniId !== undefined &&
    status.subnetCidr !== undefined &&
    status.primaryInterface !== undefined &&
    status.observedGeneration === trunk.metadata.generation
  );
}

/**
 * The VPC's ranges as this node sees them: the VPC's CIDR blocks and the subnets tagged for pods in the
 * node's zone. Nothing before the first refresh (or before the trunk's zone is known), so status keeps what
 * it had. Free-address counts stay out: they change with every pod and would rewrite status all the time.
 */
export function networkFields(status: TrunkStatus, snapshot: VpcNetworkSnapshot | undefined): Partial<TrunkStatus> {
  if (snapshot === undefined || status.availabilityZone === undefined) return {};
  return {
    vpcCidrBlocks: [...snapshot.cidrBlocks],
    podSubnets: podSubnetsInZone(snapshot, status.availabilityZone).map((subnet) => ({
      subnetId: subnet.id,
      cidrBlock: subnet.cidrBlock,
    })),
  };
}

export interface NetworkEvent {
  reason: typeof Reason.PodSubnetsChanged | typeof Reason.VpcCidrBlocksChanged;
  message: string;
}

/**
 * Node events for ranges that changed between two statuses. Only changes count: the first time the fields
 * are filled in (a new node, or an operator upgraded to this version) announces nothing.
 */
export function networkEvents(before: TrunkStatus | undefined, after: TrunkStatus): NetworkEvent[] {
  const events: NetworkEvent[] = [];
  const cidrs = listChange(before?.vpcCidrBlocks, after.vpcCidrBlocks);
  if (cidrs) {
    events.push({
      reason: Reason.VpcCidrBlocksChanged,
      message: `The VPC's CIDR blocks changed: ${cidrs}; new subnets in them can be tagged for pods`,
    });
  }
  const describe = (subnets: TrunkStatus['podSubnets']) =>
    subnets?.map((subnet) => `${subnet.subnetId} (${subnet.cidrBlock})`);
  const subnets = listChange(describe(before?.podSubnets), describe(after.podSubnets));
  if (subnets) {
    events.push({
      reason: Reason.PodSubnetsChanged,
      message:
        `Subnets tagged for pods in ${after.availabilityZone ?? "the node's zone"} changed: ${subnets}; ` +
        "branch ENIs use them when the node's subnet has no free address",
    });
  }
  return events;
}

/** "added a, b; removed c", or undefined when nothing changed or there was no list before. */
function listChange(before: readonly string[] | undefined, after: readonly string[] | undefined): string | undefined {
  if (before === undefined || after === undefined) return undefined;
  const added = after.filter((value) => !before.includes(value));
  const removed = before.filter((value) => !after.includes(value));
  if (added.length === 0 && removed.length === 0) return undefined;
  return [
    ...(added.length > 0 ? [`added ${added.join(', ')}`] : []),
    ...(removed.length > 0 ? [`removed ${removed.join(', ')}`] : []),
  ].join('; ');
}
