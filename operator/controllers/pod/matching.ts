/**
 * Which security groups a pod gets: EKS's SecurityGroupPolicy semantics (anchor study §1.1) as pure
 * functions. The pod controller, the SecurityGroupPolicy controller (matched-pod counts) and the webhook
 * all decide through here, so they can never disagree.
 *
 * - Only policies in the pod's own namespace count.
 * - `podSelector` is matched against the pod's labels, `serviceAccountSelector` against the labels of the
 *   pod's ServiceAccount; when both are set both must match. An empty selector `{}` matches everything.
 * - A policy with neither selector, or with no group ids, selects nothing (EKS skips it as invalid).
 * - A policy being deleted selects nothing.
 * - Every matching policy contributes: group ids are concatenated in policy order (by name, so the result
 *   never depends on cache order) and de-duplicated. There is no precedence.
 * - A missing ServiceAccount has no labels: `serviceAccountSelector: {}` still matches, anything narrower
 *   does not. (EKS fails the whole lookup instead; a pod cannot run without its ServiceAccount, so the
 *   difference only shows in clusters without the ServiceAccount admission plugin.)
 */
import type { SecurityGroupPolicy } from '../../api/types.ts';
import { labelSelectorProblems, matchesLabelSelector } from './label-selector.ts';

/** What matching reads of a pod: its namespace and labels. */
export interface PodForMatching {
  metadata: { namespace?: string; labels?: Record<string, string> };
}

/** What matching reads of a ServiceAccount: its labels. */
export interface ServiceAccountForMatching {
  metadata: { labels?: Record<string, string> };
}

export type MatchReason =
  /** At least one policy selects the pod. */
  | 'PoliciesMatched'
  /** Policies exist in the namespace, none selects the pod. */
  | 'NoPolicyMatched'
  /** The namespace holds no usable policy. */
  | 'NoPolicies';

export interface PodMatch {
  /** Union of the matching policies' group ids, de-duplicated, in policy order. */
  groupIds: string[];
  /** Names of the matching policies, in policy order. */
  matchedPolicies: string[];
  reason: MatchReason;
  /** Human text in EKS's wording (the SecurityGroupRequested event). */
  message: string;
}

export type PolicySkipReason = 'Deleting' | 'NoSelector' | 'NoGroups' | 'InvalidSelector';

/** Why a policy can select no pod at all, or undefined when it is usable. */
export function policySkipReason(policy: SecurityGroupPolicy): PolicySkipReason | undefined {
  if (policy.metadata.deletionTimestamp) return 'Deleting';
  const { podSelector, serviceAccountSelector, securityGroups } = policy.spec ?? {};
  if (!podSelector && !serviceAccountSelector) return 'NoSelector';
  if ((securityGroups?.groupIds ?? []).length === 0) return 'NoGroups';
  const problems = [podSelector, serviceAccountSelector].flatMap((s) => (s ? labelSelectorProblems(s) : []));
  if (problems.length > 0) return 'InvalidSelector';
  return undefined;
}

/** Whether one policy selects the pod (namespace, selectors, AND of both). */
export function policySelectsPod(
  policy: SecurityGroupPolicy,
  pod: PodForMatching,
  serviceAccount: ServiceAccountForMatching | undefined,
): boolean {
  if ((policy.metadata.namespace ?? '') !== (pod.metadata.namespace ?? '')) return false;
  if (policySkipReason(policy)) return false;
  const { podSelector, serviceAccountSelector } = policy.spec;
  if (podSelector && !matchesLabelSelector(podSelector, pod.metadata.labels)) return false;
  if (serviceAccountSelector && !matchesLabelSelector(serviceAccountSelector, serviceAccount?.metadata.labels)) {
    return false;
  }
  return true;
}

/** Go's %v of a string slice, as EKS prints group lists in its events: "[sg-1 sg-2]". */
export function formatGroupList(groupIds: readonly string[]): string {
  return `[${groupIds.join(' ')}]`;
}

export const NO_MATCH_MESSAGE =
  "Pod will get the instance security group as the pod didn't match any Security Group from SecurityGroupPolicy";

/** The security groups a pod gets from the policies of its namespace (see the file comment). */
export function securityGroupsForPod(
  pod: PodForMatching,
  serviceAccount: ServiceAccountForMatching | undefined,
  policies: readonly SecurityGroupPolicy[],
): PodMatch {
  const candidates = policies
    .filter((policy) => (policy.metadata.namespace ?? '') === (pod.metadata.namespace ?? ''))
    .filter((policy) => !policySkipReason(policy))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const matching = candidates.filter((policy) => policySelectsPod(policy, pod, serviceAccount));
  const groupIds = [...new Set(matching.flatMap((policy) => policy.spec.securityGroups.groupIds))];
  const matchedPolicies = matching.map((policy) => policy.metadata.name);
  if (matching.length > 0) {
    return {
      groupIds,
      matchedPolicies,
      reason: 'PoliciesMatched',
      message: `Pod will get the following Security Groups ${formatGroupList(groupIds)}`,
    };
  }
  return {
    groupIds: [],
    matchedPolicies: [],
    reason: candidates.length > 0 ? 'NoPolicyMatched' : 'NoPolicies',
    message: NO_MATCH_MESSAGE,
  };
}
