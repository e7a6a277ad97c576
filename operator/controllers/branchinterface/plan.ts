/**
 * The next step for one BranchInterface, decided from its status checkpoint, its pod and its node's trunk.
 * This is the whole branch lifecycle in one pure function; each step is carried out by its own file
 * (create.ts, associate.ts, annotate.ts, modify-groups.ts, release.ts) and records its result in status
 * before the next step runs, so a crash at any point resumes at the right step with nothing leaked.
 *
 *   Pending ──allocate VLAN──▶ Creating ──CreateNetworkInterface──▶ Associating ──AssociateTrunkInterface──▶
 *   (annotate pod) ──▶ Ready ──(groups drift: ModifyNetworkInterfaceAttribute)──▶ Ready
 *   Pending ──take over a warm ENI (controller, reuse.ts)──▶ Reusing ──(groups differ: modify)──▶ (annotate) ──▶ Ready
 *   any phase ──pod gone / finished──▶ CoolingDown ──cooldown elapsed──▶ Releasing ──▶ (deleted)
 *   any phase ──trunk gone──▶ Releasing (no cooldown: the node and its pods are gone)
 */
import type { LeanPod } from '../../api/pod.ts';
import { isPodFinished } from '../../api/pod.ts';
import { BRANCH_FINALIZER, POD_ENI_ANNOTATION } from '../../api/constants.ts';
import type { BranchInterface, TrunkInterface } from '../../api/types.ts';
import { podEniAnnotationValue } from './annotation.ts';
import { releasable } from './cooldown.ts';

export type ReleaseCause =
  /** The node's TrunkInterface is gone: release at once. */
  | 'NodeGone'
  /** No pod with the branch's pod UID exists any more (deleted, or replaced by a namesake). */
  | 'PodGone'
  /** The pod is Succeeded or Failed and holds no network. */
  | 'PodFinished'
  /** Someone deleted the BranchInterface itself. */
  | 'BranchDeleted';

export type BranchStep =
  | { step: 'add-finalizer' }
  | { step: 'request-release'; cause: ReleaseCause }
  | { step: 'wait-cooldown'; cause: ReleaseCause; remainingMs: number }
  | { step: 'release'; cause: ReleaseCause }
  | { step: 'wait-trunk'; message: string }
  | { step: 'allocate-vlan' }
  | { step: 'create-eni'; securityGroups: string[] }
  | { step: 'associate' }
  | { step: 'annotate'; annotation: string; needsPatch: boolean }
  | { step: 'modify-groups'; securityGroups: string[] }
  | { step: 'none' };

export interface BranchPlanInput {
  /** The BranchInterface with its effective status (cache, or the newer status this process just wrote). */
  branch: BranchInterface;
  /** The pod named spec.podName in the branch's namespace, whatever its UID. */
  pod: LeanPod | undefined;
  trunk: TrunkInterface | undefined;
  nowMs: number;
  cooldownMs: number;
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
  const { branch, pod, trunk } = input;
  if (!trunk || trunk.metadata.deletionTimestamp) return 'NodeGone';
  if (!pod || pod.metadata.uid !== branch.spec.podUid) return 'PodGone';
  if (isPodFinished(pod)) return 'PodFinished';
  if (branch.metadata.deletionTimestamp) return 'BranchDeleted';
  return undefined;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

export function planBranchStep(input: BranchPlanInput): BranchStep {
  const { branch, pod, trunk } = input;
  const status = branch.status ?? {};

  const cause = releaseCauseOf(input);
  if (cause) {
    // Nothing exists in EC2 yet (or the node is gone with its pods): nothing to cool down.
    if (!status.eniId || cause === 'NodeGone') return { step: 'release', cause };
    if (!status.releaseRequestedAt) return { step: 'request-release', cause };
    const verdict = releasable(branch, input.nowMs, input.cooldownMs);
    if (!verdict.releasable) return { step: 'wait-cooldown', cause, remainingMs: verdict.remainingMs };
    return { step: 'release', cause };
  }
  if (!(branch.metadata.finalizers ?? []).includes(BRANCH_FINALIZER)) return { step: 'add-finalizer' };
  if (!isTrunkUsable(trunk)) {
    return {
      step: 'wait-trunk',
      message: `trunk of node ${branch.spec.nodeName} is ${trunk?.status?.state ?? 'not initialised'} yet`,
    };
  }
  const securityGroups = desiredSecurityGroups(branch, trunk);
  if (status.vlanId === undefined) return { step: 'allocate-vlan' };
  if (!status.eniId) return { step: 'create-eni', securityGroups };
  if (!status.associationId) return { step: 'associate' };
  const annotation = podEniAnnotationValue(status);
  // Groups before the annotation: a pod is never told about an ENI that does not carry its own groups yet (a
  // warm ENI taken over carries its previous pod's; a policy may change between create and annotate).
  const podAnnotation = pod?.metadata.annotations?.[POD_ENI_ANNOTATION];
  if (
    podAnnotation !== annotation &&
    !sameList(status.appliedSecurityGroups ?? [], securityGroups) &&
    securityGroups.length > 0
  ) {
    return { step: 'modify-groups', securityGroups };
  }
  if (
    annotation !== undefined &&
    (status.phase !== 'Ready' || pod?.metadata.annotations?.[POD_ENI_ANNOTATION] !== annotation)
  ) {
    return { step: 'annotate', annotation, needsPatch: pod?.metadata.annotations?.[POD_ENI_ANNOTATION] !== annotation };
  }
  if (!sameList(status.appliedSecurityGroups ?? [], securityGroups) && securityGroups.length > 0) {
    return { step: 'modify-groups', securityGroups };
  }
  return { step: 'none' };
}
