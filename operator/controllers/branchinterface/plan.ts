/**
 * The next step for one BranchInterface, decided from its status checkpoint, its pod and its node's trunk.
 * This is the whole branch lifecycle in one pure function; each step is carried out by its own file
 * (create.ts, associate.ts, annotate.ts, modify-groups.ts, release.ts) and records its result in status
 * before the next step runs, so a crash at any point resumes at the right step with nothing leaked.
 *
 *   Pending ──(the pod already wired by another controller: adopt its ENI)──▶ Associating
 *   Pending ──allocate VLAN──▶ Creating ──CreateNetworkInterface──▶ Associating ──AssociateTrunkInterface──▶
 *   (annotate pod) ──▶ Ready ──(groups drift: ModifyNetworkInterfaceAttribute)──▶ Ready
 *   any phase ──pod gone / finished──▶ CoolingDown ──cooldown elapsed──▶ Releasing ──▶ (deleted)
 *   any phase ──Node object gone──▶ Releasing (no cooldown: the node and its pods are gone)
 *
 * The safety rule (docs/lifecycle.md): a running pod's branch ENI is released only when the pod is gone or
 * finished, or its Node object is gone. A missing or deleting TrunkInterface is not a reason: the trunk
 * controller keeps the trunk ENI in EC2 while the node lives, the node controller re-creates the object and
 * it adopts the attached trunk again; meanwhile the branch waits (same VLAN, ENI and annotation). Nor is a
 * deleted BranchInterface: its finalizer keeps it until the pod ends.
 */
import type { LeanPod } from '../../api/pod.ts';
import { isPodFinished } from '../../api/pod.ts';
import { BRANCH_FINALIZER, POD_ENI_ANNOTATION } from '../../api/constants.ts';
import type { BranchInterface, TrunkInterface } from '../../api/types.ts';
import type { PodEniAnnotationEntry } from '../../api/types.ts';
import type { KubeObject } from '../../framework/types.ts';
import { parsePodEniAnnotation, podEniAnnotationValue } from './annotation.ts';
import { GROUP_QUOTA_REASON, GROUPS_APPLIED_CONDITION, isBlockedByGroupQuota } from './group-quota.ts';
import { releasable } from './cooldown.ts';

export type ReleaseCause =
  /** No Node object of the branch's node name exists (the reconciler confirms it live): release at once. */
  | 'NodeGone'
  /** No pod with the branch's pod UID exists any more (deleted, or replaced by a namesake). */
  | 'PodGone'
  /** The pod is Succeeded or Failed and holds no network. */
  | 'PodFinished';

export type BranchStep =
  | { step: 'add-finalizer' }
  | { step: 'request-release'; cause: ReleaseCause }
  | { step: 'wait-cooldown'; cause: ReleaseCause; remainingMs: number }
  | { step: 'release'; cause: ReleaseCause }
  | { step: 'wait-trunk'; message: string }
  | { step: 'adopt'; entry: PodEniAnnotationEntry }
  | { step: 'allocate-vlan' }
  | { step: 'create-eni'; securityGroups: string[] }
  | { step: 'associate' }
  | { step: 'annotate'; annotation: string; needsPatch: boolean }
  | { step: 'modify-groups'; securityGroups: string[] }
  /** EC2 refused this generation's groups for the per-ENI quota: no call until the spec changes. */
  | { step: 'wait-spec'; message: string }
  /** The ENI carries the desired groups but a quota refusal is still on record: clear it. */
  | { step: 'record-groups-applied'; securityGroups: string[] }
  | { step: 'none' };

export interface BranchPlanInput {
  /** The BranchInterface with its effective status (cache, or the newer status this process just wrote). */
  branch: BranchInterface;
  /** The pod named spec.podName in the branch's namespace, whatever its UID. */
  pod: LeanPod | undefined;
  trunk: TrunkInterface | undefined;
  /**
   * The Node named spec.nodeName. undefined means gone: the reconciler reads it from the cache and confirms
   * an absence with a live GET before it acts on NodeGone, so a lagging cache never releases a live node's ENIs.
   */
  node: KubeObject | undefined;
  nowMs: number;
  cooldownMs: number;
  /** adopt.ts found the pod's annotated ENI not adoptable (gone, or not on this node's trunk): allocate anew. */
  adoptionRefused?: boolean;
}

/** A trunk the branch can be built on: created, attached, with its subnet, groups and capacity known. */
export function isTrunkUsable(trunk: TrunkInterface | undefined): trunk is TrunkInterface & {
  status: { eniId: string; subnetId: string; branchCapacity: number };
} {
  const status = trunk?.status;
  return status?.state === 'Ready' && !!status.eniId && !!status.subnetId && typeof status.branchCapacity === 'number';
}

/** The groups the ENI should carry: the spec's, or the trunk's (the node's default groups) when empty. */
export function desiredSecurityGroups(branch: BranchInterface, trunk: TrunkInterface | undefined): string[] {
  const groups = branch.spec.securityGroups?.length
    ? branch.spec.securityGroups
    : (trunk?.status?.securityGroups ?? []);
  return [...new Set(groups)].sort();
}

function releaseCauseOf(input: BranchPlanInput): ReleaseCause | undefined {
  const { branch, pod, node } = input;
  // Only the Node object decides: the TrunkInterface may be missing or deleting while the node lives
  // (someone deleted it; it is being re-created), and then the branches of running pods stay untouched.
  if (!node) return 'NodeGone';
  if (!pod || pod.metadata.uid !== branch.spec.podUid) return 'PodGone';
  if (isPodFinished(pod)) return 'PodFinished';
  // A BranchInterface deleted while its pod runs is not a reason either: the ENI is the pod's network. The
  // finalizer holds the object (and its ENI, VLAN and annotation) until the pod ends, then it is released.
  return undefined;
}

function waitingForTrunk(branch: BranchInterface, trunk: TrunkInterface | undefined): string {
  const node = branch.spec.nodeName;
  if (!trunk) return `node ${node} has no TrunkInterface yet (it is created, or re-created, by the node controller)`;
  if (trunk.metadata.deletionTimestamp) return `the TrunkInterface of node ${node} is being deleted and re-created`;
  return `trunk of node ${node} is ${trunk.status?.state ?? 'not initialised'} yet`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

export function planBranchStep(input: BranchPlanInput): BranchStep {
  const { branch, pod, trunk } = input;
  const status = branch.status ?? {};

  const cause = releaseCauseOf(input);
  if (cause) {
    // Nothing exists in EC2 yet (or the Node is gone with its pods): nothing to cool down.
    if (!status.eniId || cause === 'NodeGone') return { step: 'release', cause };
    if (!status.releaseRequestedAt) return { step: 'request-release', cause };
    const verdict = releasable(branch, input.nowMs, input.cooldownMs);
    if (!verdict.releasable) return { step: 'wait-cooldown', cause, remainingMs: verdict.remainingMs };
    return { step: 'release', cause };
  }
  if (!(branch.metadata.finalizers ?? []).includes(BRANCH_FINALIZER)) return { step: 'add-finalizer' };
  if (!isTrunkUsable(trunk)) {
    return { step: 'wait-trunk', message: waitingForTrunk(branch, trunk) };
  }
  const securityGroups = desiredSecurityGroups(branch, trunk);
  const isBlocked = isBlockedByGroupQuota(branch);
  const blocked = {
    step: 'wait-spec',
    message: `EC2 refused ${securityGroups.length} security groups for the per-ENI quota; waiting for the policies to change`,
  } as const;
  if (status.vlanId === undefined) {
    // A running pod this branch has not wired, yet annotated: another controller (EKS's, before a switch)
    // gave it an ENI the CNI already built the pod's network on. Adopt that ENI instead of making a second
    // one; adopt.ts checks it in EC2 and falls back to allocating when it is not adoptable. Adopting makes
    // no create or modify call, so the group quota does not hold it: the ENI keeps the groups it has, and a
    // quota refusal then applies to the in-place change as for any running pod.
    const entry = parsePodEniAnnotation(pod?.metadata.annotations?.[POD_ENI_ANNOTATION]);
    if (entry && !input.adoptionRefused) return { step: 'adopt', entry };
    return { step: 'allocate-vlan' };
  }
  if (!status.eniId && trunk.status.primaryInterface === undefined) {
    // The ENI copies the primary ENI's connection tracking, which the trunk controller records when it
    // verifies the trunk (at once for a status written before it was recorded).
    return {
      step: 'wait-trunk',
      message: `trunk of node ${branch.spec.nodeName} is being verified (its primary ENI's settings are not recorded yet)`,
    };
  }
  if (!status.eniId) return isBlocked ? blocked : { step: 'create-eni', securityGroups };
  if (!status.associationId) return { step: 'associate' };
  const annotation = podEniAnnotationValue(status);
  if (
    annotation !== undefined &&
    (status.phase !== 'Ready' || pod?.metadata.annotations?.[POD_ENI_ANNOTATION] !== annotation)
  ) {
    return { step: 'annotate', annotation, needsPatch: pod?.metadata.annotations?.[POD_ENI_ANNOTATION] !== annotation };
  }
  const isApplied = sameList(status.appliedSecurityGroups ?? [], securityGroups);
  if (!isApplied && securityGroups.length > 0) {
    return isBlocked ? blocked : { step: 'modify-groups', securityGroups };
  }
  const applied = status.conditions?.find((c) => c.type === GROUPS_APPLIED_CONDITION);
  if (isApplied && applied?.status === 'False' && applied.reason === GROUP_QUOTA_REASON) {
    return { step: 'record-groups-applied', securityGroups };
  }
  return { step: 'none' };
}
