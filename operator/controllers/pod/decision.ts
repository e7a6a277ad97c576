/**
 * What the pod controller does for one pod: the whole decision as one pure function, so "why did this
 * pod (not) get a branch ENI?" has one answer in one place.
 *
 * Invalid policies. A pod gets groups only from policies validated against EC2 for their current
 * generation (policy-state.ts). If any policy the pod matches is invalid, the pod is held: no branch ENI
 * is created, an existing one keeps the groups it has, and a Warning event names the policy and its
 * problem. Giving the pod the other policies' groups alone would be a set the user never declared, and
 * giving it the node's groups would silently drop its isolation. A policy not yet validated (just created
 * or edited) holds the pod silently until the SecurityGroupPolicy controller rules on it; its status change
 * re-enqueues the pod. Pods that do not match the invalid policy are not affected at all.
 *
 * SecurityGroupGrants. A matched policy naming a group no grant allows in the namespace holds the pod the same
 * way (the SecurityGroupPolicy controller also marks such a policy invalid; judging here too closes the window
 * before it has). A running pod therefore keeps its branch ENI and the groups it has when a grant is tightened:
 * taking the ENI away, or switching it to the node's groups or to the other policies' groups alone, would
 * change a running workload's network to a set nobody declared. Recreating the pod applies the grant.
 */
import type { LeanPod } from '../../api/pod.ts';
import { isPodFinished, requestsPodEni } from '../../api/pod.ts';
import type { BranchInterface, SecurityGroupPolicy } from '../../api/types.ts';
import type { EventType } from '../../framework/types.ts';
import { Reason } from '../../observability/reasons.ts';
import type { PodMatch } from './matching.ts';
import { formatGroupList, NO_MATCH_MESSAGE, policyGroupIds } from './matching.ts';
import { judgeGroupsForNamespace, type GrantScope } from '../securitygroupgrant/index.ts';
import { policyInvalidMessage, policyValidity } from './policy-state.ts';

export interface PodEvent {
  type: EventType;
  reason: Reason;
  message: string;
}

export interface PodBranchInput {
  pod: LeanPod;
  /** A TrunkInterface exists for the pod's node. */
  isNodeManaged: boolean;
  match: PodMatch;
  /** The namespace's policies (to read the verdict on the matched ones). */
  policies: readonly SecurityGroupPolicy[];
  /** The BranchInterface serving this pod's UID, if any. */
  branch: BranchInterface | undefined;
  /**
   * Matched policies whose groups the SecurityGroupGrants do not allow now, with the judgement's message.
   * Treated as invalid policies are: the SecurityGroupPolicy controller marks them so too, this only closes
   * the window before it has.
   */
  ungranted?: readonly {
    policy: string;
    /** GrantNotResolved: a covering grant's tag rules are not resolved yet; the pod waits silently. */
    reason: 'GroupsNotGranted' | 'GrantNotResolved';
    message: string;
  }[];
}

export type PodBranchPlan =
  | {
      action: 'none';
      reason: 'NotScheduled' | 'HostNetwork' | 'Terminating' | 'Finished' | 'NotRequested' | 'InSync';
    }
  | { action: 'wait'; reason: 'NodeNotManaged' | 'PolicyNotValidated' | 'GrantNotResolved'; message: string }
  | { action: 'hold'; reason: 'PolicyInvalid' | 'GroupsNotGranted'; message: string; event: PodEvent }
  | {
      action: 'create' | 'update';
      reason: 'NewBranch' | 'GroupsChanged' | 'PoliciesChanged';
      securityGroups: string[];
      matchedPolicies: string[];
      event: PodEvent | undefined;
    };

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

export function planPodBranch(input: PodBranchInput): PodBranchPlan {
  const { pod, match, branch } = input;
  if (!pod.spec?.nodeName) return { action: 'none', reason: 'NotScheduled' };
  if (pod.spec.hostNetwork) return { action: 'none', reason: 'HostNetwork' };
  if (pod.metadata.deletionTimestamp) return { action: 'none', reason: 'Terminating' };
  if (isPodFinished(pod)) return { action: 'none', reason: 'Finished' };
  if (!requestsPodEni(pod)) return { action: 'none', reason: 'NotRequested' };
  if (!input.isNodeManaged) {
    return {
      action: 'wait',
      reason: 'NodeNotManaged',
      message: `node ${pod.spec.nodeName} has no TrunkInterface yet; the pod waits until the node's trunk exists`,
    };
  }

  const matched = input.policies.filter((policy) => match.matchedPolicies.includes(policy.metadata.name));
  const invalid = matched.filter((policy) => policyValidity(policy) === 'invalid');
  if (invalid.length > 0) {
    const names = invalid.map((policy) => policy.metadata.name).join(', ');
    const message =
      `Pod matches invalid SecurityGroupPolicy ${names}; its branch ENI ` +
      `${branch ? 'keeps its current security groups' : 'is not created'} until the policy is fixed: ` +
      invalid.map(policyInvalidMessage).join('; ');
    return {
      action: 'hold',
      reason: 'PolicyInvalid',
      message,
      event: { type: 'Warning', reason: Reason.SecurityGroupPolicyInvalid, message },
    };
  }
  const ungranted = (input.ungranted ?? []).filter((u) => u.reason === 'GroupsNotGranted');
  if (ungranted.length > 0) {
    const message =
      `Pod matches SecurityGroupPolicy ${ungranted.map((u) => u.policy).join(', ')}, which SecurityGroupGrants do not ` +
      `allow; its branch ENI ${branch ? 'keeps its current security groups' : 'is not created'} until they do: ` +
      ungranted.map((u) => u.message).join('; ');
    return {
      action: 'hold',
      reason: 'GroupsNotGranted',
      message,
      event: { type: 'Warning', reason: Reason.SecurityGroupPolicyInvalid, message },
    };
  }
  const unresolved = (input.ungranted ?? []).filter((u) => u.reason === 'GrantNotResolved');
  if (unresolved.length > 0) {
    // Seconds, usually (one DescribeSecurityGroups after a grant is created or edited): like a policy not yet
    // validated, the pod waits without an event; the grant's status change re-enqueues it via its policy.
    return { action: 'wait', reason: 'GrantNotResolved', message: unresolved.map((u) => u.message).join('; ') };
  }
  const pending = matched.filter((policy) => policyValidity(policy) === 'unvalidated');
  if (pending.length > 0) {
    return {
      action: 'wait',
      reason: 'PolicyNotValidated',
      message: `waiting for SecurityGroupPolicy ${pending.map((p) => p.metadata.name).join(', ')} to be validated`,
    };
  }

  const securityGroups = [...match.groupIds].sort();
  const matchedPolicies = match.matchedPolicies;
  const requested: PodEvent =
    securityGroups.length > 0
      ? { type: 'Normal', reason: Reason.SecurityGroupRequested, message: match.message }
      : { type: 'Warning', reason: Reason.SecurityGroupRequested, message: NO_MATCH_MESSAGE };
  if (!branch) {
    return { action: 'create', reason: 'NewBranch', securityGroups, matchedPolicies, event: requested };
  }
  const current = branch.spec.securityGroups ?? [];
  if (!sameList(current, securityGroups)) {
    const event: PodEvent = {
      ...requested,
      message:
        `${requested.message} (was ${formatGroupList(current)}); ` +
        'the branch ENI is updated in place, without restarting the pod',
    };
    return { action: 'update', reason: 'GroupsChanged', securityGroups, matchedPolicies, event };
  }
  if (!sameList(branch.spec.matchedPolicies ?? [], matchedPolicies)) {
    return { action: 'update', reason: 'PoliciesChanged', securityGroups, matchedPolicies, event: undefined };
  }
  return { action: 'none', reason: 'InSync' };
}

/**
 * The matched policies whose groups (ids and resolved names) the SecurityGroupGrants do not allow in the
 * namespace now: planPodBranch's `ungranted`. Empty without grants (every group allowed, as on EKS).
 */
export function ungrantedPolicies(
  policies: readonly SecurityGroupPolicy[],
  matchedPolicies: readonly string[],
  scope: GrantScope,
): NonNullable<PodBranchInput['ungranted']>[number][] {
  if (scope.grants.length === 0) return [];
  return policies
    .filter((policy) => matchedPolicies.includes(policy.metadata.name))
    .flatMap((policy) => {
      const verdict = judgeGroupsForNamespace(policyGroupIds(policy), scope, {
        kind: 'SecurityGroupPolicy',
        namespace: scope.namespace,
        name: policy.metadata.name,
      });
      return verdict.allowed
        ? []
        : [{ policy: policy.metadata.name, reason: verdict.reason, message: verdict.message }];
    });
}

/**
 * The Warning a pod gets when groups its annotations ask for were refused, or undefined. Pods that hold no
 * network of their own (host network, terminating, finished) get none: there is nothing to apply to.
 */
export function annotationRefusalEvent(pod: LeanPod, match: PodMatch): PodEvent | undefined {
  if (match.refusals.length === 0) return undefined;
  if (pod.spec?.hostNetwork || pod.metadata.deletionTimestamp || isPodFinished(pod)) return undefined;
  return {
    type: 'Warning',
    reason: Reason.SecurityGroupAnnotationRefused,
    message: match.refusals.map((refusal) => refusal.message).join('; '),
  };
}

/** Longest object name the API server accepts (DNS subdomain). */
const MAX_NAME_LENGTH = 253;

/**
 * The BranchInterface name for a pod: the pod's name, unless a BranchInterface of an earlier pod with the
 * same name (a StatefulSet pod recreated while its predecessor's ENI cools down) still holds it; then the
 * name plus the first 8 characters of the new UID, so the new pod need not wait out the cooldown.
 */
export function branchNameForPod(podName: string, podUid: string, occupant: BranchInterface | undefined): string {
  if (!occupant || occupant.spec.podUid === podUid) return podName;
  const suffix = `-${podUid.slice(0, 8)}`;
  return `${podName.slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
}
