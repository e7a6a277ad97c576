/**
 * Warm branch ENIs as pure decisions (docs/warm-branches.md). A branch ENI whose pod is gone and whose cooldown
 * has ended may be kept associated with its trunk, recorded as a WarmBranch, for the node's next pod: that pod
 * then needs no CreateNetworkInterface, AssociateTrunkInterface or DeleteNetworkInterface, and at most one
 * ModifyNetworkInterfaceAttribute when its groups differ. These functions decide when an ENI is parked, which
 * warm ENI a new branch takes, and when a warm ENI is released; the reconcilers carry the decisions out.
 */
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../api/types.ts';
import type { WARM_RELEASE_REASON_LABELS } from '../../observability/metrics.ts';
import type { ReleaseCause } from './plan.ts';
import { isTrunkUsable } from './plan.ts';

/** The node facts the warm decisions need (from the Node object: gone, or cordoned for a drain). */
export type NodeState = 'schedulable' | 'unschedulable' | 'gone';

export interface WarmSettings {
  /** Warm ENIs kept per node; 0 turns reuse off (every released ENI is deleted, as EKS does). */
  limitPerNode: number;
  /** A warm ENI idle for longer than this is released. */
  maxIdleMs: number;
}

/** What the release step does with a branch's ENI. */
export type HandoverDecision =
  /** Keep the ENI associated and record it as a WarmBranch, then drop the BranchInterface. */
  | { outcome: 'park' }
  /** Another record already holds the ENI (parked before a crash, or taken over): drop the BranchInterface only. */
  | { outcome: 'forget'; reason: 'parked' | 'held-by-another-branch' }
  /** Delete the ENI, as without reuse. */
  | { outcome: 'delete'; reason: DeleteReason };

export type DeleteReason =
  | 'reuse-off'
  | 'not-pod-gone'
  | 'no-eni'
  | 'trunk-not-usable'
  | 'trunk-changed'
  | 'node-not-schedulable'
  | 'network-changed'
  | 'pool-full';

export interface HandoverInput {
  branch: BranchInterface;
  cause: ReleaseCause;
  trunk: TrunkInterface | undefined;
  node: NodeState;
  /**
   * WarmBranches on the branch's node (from the cache), including ones being deleted, except the record of this
   * branch's own takeover if a crash left it (it is being dropped).
   */
  warmOnNode: readonly WarmBranch[];
  /** Whether a BranchInterface other than this one records (or this process is handing it) the same ENI. */
  isHeldByAnotherBranch: boolean;
  /** Where the node's new branch ENIs go; undefined while not known (then the ENI parks, to be judged later). */
  network: NodeBranchNetwork | undefined;
  settings: WarmSettings;
}

/**
 * Park, forget or delete. Only a pod that is gone parks its ENI: a finished pod still exists and still
 * carries the annotation, and a deleted node or BranchInterface means the ENI is not wanted any more.
 */
export function decideHandover(input: HandoverInput): HandoverDecision {
  const { branch, trunk } = input;
  const status = branch.status ?? {};
  const uid = branch.metadata.uid ?? '';
  // Whatever the settings, an ENI another record holds is never deleted from here.
  if (input.isHeldByAnotherBranch) return { outcome: 'forget', reason: 'held-by-another-branch' };
  // A warm record of this ENI exists: this branch parked it before a crash, or (after this branch's own
  // takeover was recorded elsewhere) it is someone else's to hand on. Either way the ENI is accounted for.
  const parked = input.warmOnNode.find((warm) => warm.spec.eniId === status.eniId);
  if (parked !== undefined) {
    return { outcome: 'forget', reason: parked.spec.previousBranchUid === uid ? 'parked' : 'held-by-another-branch' };
  }
  if (input.settings.limitPerNode <= 0) return { outcome: 'delete', reason: 'reuse-off' };
  if (input.cause !== 'PodGone') return { outcome: 'delete', reason: 'not-pod-gone' };
  if (!status.eniId || !status.associationId || !status.macAddress || status.vlanId === undefined) {
    return { outcome: 'delete', reason: 'no-eni' };
  }
  if (!isTrunkUsable(trunk) || trunk.metadata.deletionTimestamp)
    return { outcome: 'delete', reason: 'trunk-not-usable' };
  if (status.trunkEniId !== trunk.status.eniId) return { outcome: 'delete', reason: 'trunk-changed' };
  if (input.node !== 'schedulable') return { outcome: 'delete', reason: 'node-not-schedulable' };
  // An ENI no new pod may take (an ENIConfig edited since it was made) is not kept for one.
  if (input.network !== undefined && warmNetworkMismatch(warmBranchSpecOf(branch, ''), input.network) !== undefined) {
    return { outcome: 'delete', reason: 'network-changed' };
  }
  const pool = input.warmOnNode.filter((warm) => !warm.metadata.deletionTimestamp && warm.spec.eniId !== status.eniId);
  if (pool.length >= input.settings.limitPerNode) return { outcome: 'delete', reason: 'pool-full' };
  return { outcome: 'park' };
}

/** The WarmBranch a parking branch writes (one create: the record exists whole or not at all). */
export function warmBranchSpecOf(branch: BranchInterface, warmSinceIso: string): WarmBranch['spec'] {
  const status = branch.status ?? {};
  return {
    nodeName: branch.spec.nodeName,
    eniId: status.eniId ?? '',
    trunkEniId: status.trunkEniId ?? '',
    vlanId: status.vlanId ?? 0,
    associationId: status.associationId ?? '',
    macAddress: status.macAddress ?? '',
    ...(status.privateIp ? { privateIp: status.privateIp } : {}),
    ...(status.ipv6Address ? { ipv6Address: status.ipv6Address } : {}),
    ...(status.subnetId ? { subnetId: status.subnetId } : {}),
    ...(status.subnetCidr ? { subnetCidr: status.subnetCidr } : {}),
    ...(status.subnetV6Cidr ? { subnetV6Cidr: status.subnetV6Cidr } : {}),
    // Status clears appliedSecurityGroups before every modify (see the controller), so what it holds is what
    // EC2 holds; an empty list means "not known" and makes the next pod set its own groups.
    securityGroups: [...(status.appliedSecurityGroups ?? [])].sort(),
    warmSince: warmSinceIso,
    previousPod: `${branch.metadata.namespace ?? ''}/${branch.spec.podName}`,
    previousBranchUid: branch.metadata.uid ?? '',
  };
}

export type WarmChoice =
  /** The warm ENI already carries exactly the pod's groups: annotate, no EC2 call. */
  | { outcome: 'same-groups'; warm: WarmBranch }
  /** The warm ENI carries other (or unknown) groups: one ModifyNetworkInterfaceAttribute before the annotation. */
  | { outcome: 'other-groups'; warm: WarmBranch }
  | { outcome: 'none' };

/**
 * Where the node's new branch ENIs may go now, and whether they get an IPv6 address. A warm ENI is given to a pod
 * only if a new ENI could have been made like it: after an ENIConfig edit new pods follow the edit
 * (docs/networks.md#custom-networking-eniconfig), not the subnet a released pod had.
 */
export interface NodeBranchNetwork {
  /** The node's branch subnet (its ENIConfig's with custom networking) and the subnets tagged for pods in its zone. */
  subnetIds: ReadonlySet<string>;
  /** IPv6 cluster or dual-stack branch ENIs. */
  needsIpv6: boolean;
}

/** Why a (warm) branch ENI does not fit where the node's new branch ENIs go; undefined when it does. */
export function warmNetworkMismatch(
  spec: Pick<WarmBranch['spec'], 'eniId' | 'nodeName' | 'subnetId' | 'ipv6Address'>,
  network: NodeBranchNetwork,
): string | undefined {
  const { eniId, nodeName, subnetId, ipv6Address } = spec;
  if (subnetId === undefined || !network.subnetIds.has(subnetId)) {
    return `warm branch ENI ${eniId} is in subnet ${subnetId ?? '(not recorded)'}, where node ${nodeName}'s new branch ENIs no longer go`;
  }
  if (Boolean(ipv6Address) !== network.needsIpv6) {
    return network.needsIpv6
      ? `warm branch ENI ${eniId} has no IPv6 address, and node ${nodeName}'s new branch ENIs get one`
      : `warm branch ENI ${eniId} has an IPv6 address, and node ${nodeName}'s new branch ENIs get none`;
  }
  return undefined;
}

export interface WarmChoiceInput {
  /** WarmBranches on the node. */
  warmOnNode: readonly WarmBranch[];
  /** ENI ids recorded by a BranchInterface other than the WarmBranch's previous one, or claimed in this process. */
  claimedEniIds: ReadonlySet<string>;
  /** ENI ids being released by this process. */
  retiringEniIds: ReadonlySet<string>;
  /** The pod's groups (sorted). */
  securityGroups: readonly string[];
  /** The node's current trunk ENI: a warm ENI on another trunk (replaced trunk) is never taken. */
  trunkEniId: string;
  /** A warm ENI elsewhere, or of another IP family, is never taken. */
  network: NodeBranchNetwork;
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  return a.length > 0 && a.length === b.length && a.every((value, index) => value === b[index]);
}

/**
 * The warm ENI a new branch takes: one with the pod's groups first (the most recently parked, so older ones
 * age out), else the oldest with other groups (it is the one the pool would release first). With at most one
 * modify, every warm ENI on the node fits a new pod, and one modify is cheaper than release + create +
 * associate, so a pod never waits for a slot while a warm ENI is idle on its node.
 */
export function chooseWarmBranch(input: WarmChoiceInput): WarmChoice {
  const usable = input.warmOnNode.filter(
    (warm) =>
      !warm.metadata.deletionTimestamp &&
      warm.spec.trunkEniId === input.trunkEniId &&
      !input.claimedEniIds.has(warm.spec.eniId) &&
      !input.retiringEniIds.has(warm.spec.eniId) &&
      warmNetworkMismatch(warm.spec, input.network) === undefined,
  );
  const byAge = [...usable].sort((a, b) => warmSinceMs(a) - warmSinceMs(b) || a.spec.eniId.localeCompare(b.spec.eniId));
  const same = byAge.filter((warm) => sameGroups(warm.spec.securityGroups, input.securityGroups)).at(-1);
  if (same !== undefined) return { outcome: 'same-groups', warm: same };
  const oldest = byAge[0];
  return oldest !== undefined ? { outcome: 'other-groups', warm: oldest } : { outcome: 'none' };
}

export type WarmVerdict =
  { outcome: 'keep'; recheckAfterMs: number } | { outcome: 'release'; reason: WarmReleaseReason; message: string };

/** Why the WarmBranch reconciler releases a warm ENI (the metric's reasons, but for a record deleted by hand). */
export type WarmReleaseReason = Exclude<(typeof WARM_RELEASE_REASON_LABELS)[number], 'deleted'>;

export interface WarmVerdictInput {
  warm: WarmBranch;
  /** Every WarmBranch on the same node that is not being deleted, this one included. */
  poolOnNode: readonly WarmBranch[];
  node: NodeState;
  trunk: TrunkInterface | undefined;
  /** Where the node's new branch ENIs go; undefined while that is not known (trunk or pod subnets not read yet). */
  network: NodeBranchNetwork | undefined;
  nowMs: number;
  settings: WarmSettings;
}

/**
 * Whether a warm ENI stays. Released: when its node is gone or cordoned (drain), when its trunk is not the node's
 * trunk any more, when no new pod may take it (its subnet or IP family is not the node's new branches'), when it is idle for longer than the maximum, or when the pool holds more than the limit (the
 * oldest go first, so lowering the limit — to 0 as well — shrinks every pool to it).
 */
export function warmVerdict(input: WarmVerdictInput): WarmVerdict {
  const { warm, settings } = input;
  const eni = warm.spec.eniId;
  if (input.node === 'gone')
    return { outcome: 'release', reason: 'node-gone', message: `node ${warm.spec.nodeName} is gone` };
  if (input.node === 'unschedulable') {
    return {
      outcome: 'release',
      reason: 'node-draining',
      message: `node ${warm.spec.nodeName} is cordoned; its warm branch ENI ${eni} is released`,
    };
  }
  const trunkEniId = input.trunk?.status?.eniId;
  if (trunkEniId !== undefined && trunkEniId !== warm.spec.trunkEniId) {
    return {
      outcome: 'release',
      reason: 'trunk-changed',
      message: `warm branch ENI ${eni} is on trunk ${warm.spec.trunkEniId}, not on the node's trunk ${trunkEniId}`,
    };
  }
  const mismatch = input.network === undefined ? undefined : warmNetworkMismatch(warm.spec, input.network);
  if (mismatch !== undefined) return { outcome: 'release', reason: 'network-changed', message: mismatch };
  const newestFirst = [...input.poolOnNode].sort(
    (a, b) => warmSinceMs(b) - warmSinceMs(a) || b.spec.eniId.localeCompare(a.spec.eniId),
  );
  const rank = newestFirst.findIndex((other) => other.spec.eniId === eni);
  if (rank >= settings.limitPerNode) {
    return {
      outcome: 'release',
      reason: 'over-limit',
      message: `node ${warm.spec.nodeName} keeps ${settings.limitPerNode} warm branch ENIs; ${eni} is the oldest beyond that`,
    };
  }
  const idleMs = input.nowMs - warmSinceMs(warm);
  if (idleMs >= settings.maxIdleMs) {
    return {
      outcome: 'release',
      reason: 'idle',
      message: `warm branch ENI ${eni} was idle for ${Math.round(idleMs / 1000)} s (maximum ${Math.round(settings.maxIdleMs / 1000)} s)`,
    };
  }
  return { outcome: 'keep', recheckAfterMs: settings.maxIdleMs - idleMs };
}

/** An unparseable warmSince counts as the epoch: such a record is released at once rather than kept forever. */
function warmSinceMs(warm: WarmBranch): number {
  const ms = Date.parse(warm.spec.warmSince);
  return Number.isNaN(ms) ? 0 : ms;
}

/**
 * ENI ids on a node that a BranchInterface records, except the one each WarmBranch was parked by (that branch is
 * on its way out). Together with the claims in flight in this process, these are the warm ENIs nobody may take.
 */
export function eniIdsHeldByBranches(
  branchesOnNode: readonly BranchInterface[],
  warmOnNode: readonly WarmBranch[],
): Set<string> {
  const parkedBy = new Map(warmOnNode.map((warm) => [warm.spec.eniId, warm.spec.previousBranchUid]));
  const held = new Set<string>();
  for (const branch of branchesOnNode) {
    const eniId = branch.status?.eniId;
    if (eniId === undefined) continue;
    if (parkedBy.get(eniId) === branch.metadata.uid) continue;
    held.add(eniId);
  }
  return held;
}
