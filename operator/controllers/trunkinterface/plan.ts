/**
 * The next step towards an attached trunk ENI (docs/lifecycle.md#a-trunk-trunkinterface-one-per-managed-node), decided from what EC2 says now. Pure: the
 * reconciler gathers the facts, asks for one step, performs it, updates the facts and asks again, so a crash
 * between any two EC2 calls resumes at the right step on the next reconcile.
 *
 * Order, as EKS does it: create (InterfaceType trunk, the instance's subnet, the primary ENI's groups and
 * connection tracking; with custom networking the ENIConfig's subnet and groups, and no create at all while
 * the node's ENIConfig is unusable: docs/networks.md#custom-networking-eniconfig) → attach at the highest
 * free device index (ipamd fills from the lowest, so the two rarely race) → DeleteOnTermination → wait until
 * attached → learn the subnet CIDRs.
 * A trunk already on the instance is adopted, never replaced; EC2 allows one trunk per instance and the
 * VPC CNI would not know a second one.
 */
import type { ConnectionTracking, Instance, NetworkInterface, Subnet } from '../../aws/index.ts';
import type { InstanceTypeLimits } from '../../limits/index.ts';
import { freeDeviceIndex } from '../../limits/index.ts';
import type { TrunkPlacement } from './pod-network.ts';

/** Waiting for an instance to run. (A slot, quota or permission the user must fix: OutsideFixError.) */
export const INSTANCE_WAIT_MS = 15_000;
/** Polling while EC2 attaches: 1 s doubling to 30 s (EKS polls 1 s ×2 for 7 steps). */
export const ATTACH_POLL_BASE_MS = 1_000;
export const ATTACH_POLL_MAX_MS = 30_000;

export interface TrunkFacts {
  instance: Instance;
  limits: InstanceTypeLimits;
  /** The trunk ENI: the one attached to the instance, else one we created that is not attached yet. */
  trunk: NetworkInterface | undefined;
  /** Other unattached trunk ENIs we created for this instance (left by failed attempts): to delete. */
  strays: string[];
  /** The trunk's subnet, once described. */
  subnet: Subnet | undefined;
  /** Where a new trunk goes: the node's subnet, its ENIConfig's, or nowhere yet (./pod-network.ts). */
  placement: TrunkPlacement;
}

export type TrunkStep =
  | { kind: 'wait-instance'; message: string }
  | { kind: 'wait-pod-network'; message: string }
  | { kind: 'delete-stray'; eniId: string }
  | {
      kind: 'create';
      subnetId: string;
      securityGroupIds: string[];
      connectionTracking?: ConnectionTracking;
      message: string;
    }
  | { kind: 'attach'; eniId: string; deviceIndex: number; networkCardIndex: number }
  | { kind: 'no-free-slot'; eniId: string | undefined; message: string }
  | { kind: 'set-delete-on-termination'; eniId: string; attachmentId: string }
  | { kind: 'wait-attached'; eniId: string; message: string }
  | { kind: 'describe-subnet'; subnetId: string }
  | { kind: 'ready'; trunk: NetworkInterface; subnet: Subnet };

export function nextTrunkStep(facts: TrunkFacts): TrunkStep {
  const { instance, trunk, limits } = facts;
  if (instance.state !== 'running') {
    return {
      kind: 'wait-instance',
      message: `instance ${instance.id} is ${instance.state}; a trunk ENI is attached only to a running instance`,
    };
  }
  const stray = facts.strays[0];
  if (stray !== undefined) return { kind: 'delete-stray', eniId: stray };

  if (trunk === undefined) {
    const placement = facts.placement;
    if (placement.kind === 'wait') return { kind: 'wait-pod-network', message: placement.message };
    const slot = trunkSlot(instance, limits);
    if (slot === undefined) return noFreeSlot(instance, limits, undefined);
    const spec = trunkCreateSpec(instance, placement);
    return {
      kind: 'create',
      ...spec,
      message: `creating trunk ENI for instance ${instance.id} in ${spec.subnetId}`,
    };
  }

  const attachment = trunk.attachment;
  if (attachment === undefined || attachment.status === 'detached') {
    const slot = trunkSlot(instance, limits);
    if (slot === undefined) return noFreeSlot(instance, limits, trunk.id);
    return { kind: 'attach', eniId: trunk.id, ...slot };
  }
  if (attachment.status === 'detaching') {
    return {
      kind: 'wait-attached',
      eniId: trunk.id,
      message: `trunk ENI ${trunk.id} is detaching from ${attachment.instanceId}`,
    };
  }
  if (!attachment.deleteOnTermination) {
    return { kind: 'set-delete-on-termination', eniId: trunk.id, attachmentId: attachment.attachmentId };
  }
  if (attachment.status === 'attaching') {
    return { kind: 'wait-attached', eniId: trunk.id, message: `trunk ENI ${trunk.id} is attaching to ${instance.id}` };
  }
  if (facts.subnet === undefined || facts.subnet.id !== trunk.subnetId) {
    return { kind: 'describe-subnet', subnetId: trunk.subnetId };
  }
  return { kind: 'ready', trunk, subnet: facts.subnet };
}

export interface TrunkCreateSpec {
  subnetId: string;
  securityGroupIds: string[];
  connectionTracking?: ConnectionTracking;
}

/**
 * The CreateNetworkInterface of a new trunk: always with the primary ENI's connection-tracking timeouts, as
 * EKS's controller copies them.
 */
export function trunkCreateSpec(
  instance: Instance,
  placement: Exclude<TrunkPlacement, { kind: 'wait' }>,
): TrunkCreateSpec {
  const primary = primaryInterface(instance);
  const primaryGroups = primary?.securityGroupIds ?? [];
  const isEniConfig = placement.kind === 'eni-config';
  const groups = isEniConfig && placement.securityGroupIds.length > 0 ? placement.securityGroupIds : primaryGroups;
  return {
    subnetId: isEniConfig ? placement.subnetId : instance.subnetId,
    securityGroupIds: [...groups].sort(),
    ...(primary?.connectionTracking === undefined ? {} : { connectionTracking: primary.connectionTracking }),
  };
}

/** The primary ENI: device 0 on card 0 (its groups are the node's default groups). */
export function primaryInterface(instance: Instance): Instance['networkInterfaces'][number] | undefined {
  return (
    instance.networkInterfaces.find((eni) => eni.deviceIndex === 0 && eni.networkCardIndex === 0) ??
    instance.networkInterfaces.find((eni) => eni.privateIpAddress === instance.privateIpAddress)
  );
}

/** The trunk that EC2 shows attached to the instance, if any (adopted whoever created it). */
export function attachedTrunkId(instance: Instance): string | undefined {
  return instance.networkInterfaces.find((eni) => eni.interfaceType === 'trunk')?.id;
}

function trunkSlot(
  instance: Instance,
  limits: InstanceTypeLimits,
): { deviceIndex: number; networkCardIndex: number } | undefined {
  const card = limits.defaultNetworkCardIndex;
  const used = instance.networkInterfaces.filter((eni) => eni.networkCardIndex === card).map((eni) => eni.deviceIndex);
  const deviceIndex = freeDeviceIndex(limits, used);
  return deviceIndex === undefined ? undefined : { deviceIndex, networkCardIndex: card };
}

function noFreeSlot(instance: Instance, limits: InstanceTypeLimits, eniId: string | undefined): TrunkStep {
  return {
    kind: 'no-free-slot',
    eniId,
    message:
      `instance ${instance.id} (${limits.instanceType}) has no free ENI slot for the trunk ENI: ` +
      `${instance.networkInterfaces.length} of ${limits.maxEnis} ENIs are attached; ` +
      `lower the VPC CNI's WARM_ENI_TARGET/MAX_ENI, or replace the node, so one slot stays free`,
  };
}

/** Delay before attach poll number `attempt + 1`. */
export function attachPollDelayMs(attempt: number): number {
  return Math.min(ATTACH_POLL_BASE_MS * 2 ** attempt, ATTACH_POLL_MAX_MS);
}

export interface TrunkCandidates {
  /** The trunk to carry on with, when it is among ours: the attached one, else the best unattached one. */
  trunk: NetworkInterface | undefined;
  /** A trunk is attached but is not among ours (another controller made it): describe it by id to adopt it. */
  describeAttachedId: string | undefined;
  /** Our unattached trunk ENIs other than the one kept: left by failed attempts, to delete. */
  strays: string[];
}

/**
 * Which of our trunk ENIs for the instance to keep. Of the unattached ones, the one status names comes
 * first, then a stable order by id, so two passes agree on which one to keep.
 */
export function chooseTrunk(
  ours: readonly NetworkInterface[],
  attachedId: string | undefined,
  recordedEniId: string | undefined,
): TrunkCandidates {
  const rank = (eni: NetworkInterface) => (eni.id === recordedEniId ? 0 : 1);
  const unattached = ours
    .filter((eni) => eni.attachment === undefined && eni.status === 'available')
    .sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
  const trunk = attachedId !== undefined ? ours.find((eni) => eni.id === attachedId) : unattached[0];
  const keptId = attachedId ?? trunk?.id;
  return {
    trunk,
    describeAttachedId: attachedId !== undefined && trunk === undefined ? attachedId : undefined,
    strays: unattached.filter((eni) => eni.id !== keptId).map((eni) => eni.id),
  };
}
