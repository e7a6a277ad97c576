/**
 * Which security groups a pod gets: EKS's SecurityGroupPolicy semantics (docs/compatibility.md#securitygrouppolicy) as pure
 * functions. The pod controller, the SecurityGroupPolicy controller (matched-pod counts) and the webhook
 * all decide through here, so they can never disagree.
 *
 * - Only policies in the pod's own namespace count.
 * - `podSelector` is matched against the pod's labels, `serviceAccountSelector` against the labels of the
 *   pod's ServiceAccount; when both are set both must match. An empty selector `{}` matches everything.
 * - A policy with neither selector, or naming no group at all, selects nothing (EKS skips it as invalid).
 * - A policy being deleted selects nothing.
 * - Every matching policy contributes: group ids are concatenated in policy order (by name, so the result
 *   never depends on cache order) and de-duplicated. There is no precedence.
 * - Our extension, groups by name or tag selector: a policy's groups are its ids, then the groups its names
 *   and selectors resolved to, read from a status written for its current generation (policyGroupIds). A
 *   policy whose names are not resolved yet still selects the pod; it contributes its ids only, and the pod
 *   waits for the policy's verdict (decision.ts), so an unresolved name never falls back to fewer groups.
 * - A missing ServiceAccount has no labels: `serviceAccountSelector: {}` still matches, anything narrower
 *   does not. (EKS fails the whole lookup instead; a pod cannot run without its ServiceAccount, so the
 *   difference only shows in clusters without the ServiceAccount admission plugin.)
 * - Our extension: given an {@link AnnotationScope}, the groups the pod's and its ServiceAccount's
 *   `vpc.amazonaws.com/security-groups` annotations may give (annotation-groups.ts) are added after the
 *   policies' groups, and what was refused is returned beside them. Without a scope only policies count.
 */
import { SECURITY_GROUPS_ANNOTATION } from '../../api/constants.ts';
import type { SecurityGroupPolicy } from '../../api/types.ts';
import {
  annotationGroupsForPod,
  type AnnotationRefusal,
  type AnnotationScope,
  type PodAnnotationGroups,
} from './annotation-groups.ts';
import { labelSelectorProblems, selectorMismatches, type SelectorMismatch } from './label-selector.ts';

/** What matching reads of a pod: its namespace and labels (name and annotations for the annotation path). */
export interface PodForMatching {
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/** What matching reads of a ServiceAccount: its labels (name and annotations for the annotation path). */
export interface ServiceAccountForMatching {
  metadata: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export type MatchReason =
  /** At least one policy selects the pod (its annotations may add groups). */
  | 'PoliciesMatched'
  /** No policy selects the pod; its (or its ServiceAccount's) allowed annotation gives groups. */
  | 'AnnotationMatched'
  /** Policies exist in the namespace, none selects the pod. */
  | 'NoPolicyMatched'
  /** The namespace holds no usable policy. */
  | 'NoPolicies';

export interface PodMatch {
  /** Union of the matching policies' group ids in policy order, then allowed annotation groups; de-duplicated. */
  groupIds: string[];
  /** Names of the matching policies in policy order, then annotation sources ("annotation:Pod", …). */
  matchedPolicies: string[];
  reason: MatchReason;
  /** Human text in EKS's wording (the SecurityGroupRequested event), naming annotations when they count. */
  message: string;
  /** Annotation groups refused (empty without an annotation scope). */
  refusals: AnnotationRefusal[];
}

export type PolicySkipReason = 'Deleting' | 'NoSelector' | 'NoGroups' | 'InvalidSelector';

/** Whether the policy names groups by EC2 name or tag selector (our extension), which the operator resolves. */
export function hasGroupReferences(policy: SecurityGroupPolicy): boolean {
  const groups = policy.spec?.securityGroups;
  return (groups?.groupNames ?? []).length > 0 || (groups?.groupSelectors ?? []).length > 0;
}

/**
 * The groups a policy gives: spec.securityGroups.groupIds, then the ids its names and selectors resolved to
 * (status.resolvedReferences), de-duplicated. Resolutions count only from a status written for the current
 * generation: after an edit the old ones may name groups the new spec no longer asks for.
 */
export function policyGroupIds(policy: SecurityGroupPolicy): string[] {
  const ids = [...(policy.spec?.securityGroups?.groupIds ?? [])];
  if (hasGroupReferences(policy) && policy.status?.observedGeneration === policy.metadata.generation) {
    ids.push(...(policy.status?.resolvedReferences ?? []).map((reference) => reference.groupId));
  }
  return [...new Set(ids)];
}

/** Why a policy can select no pod at all, or undefined when it is usable. */
export function policySkipReason(policy: SecurityGroupPolicy): PolicySkipReason | undefined {
  if (policy.metadata.deletionTimestamp) return 'Deleting';
  const { podSelector, serviceAccountSelector, securityGroups } = policy.spec ?? {};
  if (!podSelector && !serviceAccountSelector) return 'NoSelector';
  if ((securityGroups?.groupIds ?? []).length === 0 && !hasGroupReferences(policy)) return 'NoGroups';
  const problems = [podSelector, serviceAccountSelector].flatMap((s) => (s ? labelSelectorProblems(s) : []));
  if (problems.length > 0) return 'InvalidSelector';
  return undefined;
}

/** Whether one policy selects a pod, and if not, why: the answer `kubectl sgp why` prints. */
export type PolicyMatchExplanation =
  | { selected: true }
  | { selected: false; reason: 'OtherNamespace' }
  | { selected: false; reason: PolicySkipReason }
  | {
      selected: false;
      reason: 'SelectorMismatch';
      /** Requirements of spec.podSelector the pod's labels fail (empty when it matches or is unset). */
      pod: SelectorMismatch[];
      /** Requirements of spec.serviceAccountSelector its ServiceAccount's labels fail. */
      serviceAccount: SelectorMismatch[];
    };

/** Whether one policy selects the pod (namespace, selectors, AND of both), and which requirements failed. */
export function explainPolicyMatch(
  policy: SecurityGroupPolicy,
  pod: PodForMatching,
  serviceAccount: ServiceAccountForMatching | undefined,
): PolicyMatchExplanation {
  if ((policy.metadata.namespace ?? '') !== (pod.metadata.namespace ?? '')) {
    return { selected: false, reason: 'OtherNamespace' };
  }
  const skip = policySkipReason(policy);
  if (skip) return { selected: false, reason: skip };
  const { podSelector, serviceAccountSelector } = policy.spec;
  const podMismatches = podSelector ? selectorMismatches(podSelector, pod.metadata.labels) : [];
  const saMismatches = serviceAccountSelector
    ? selectorMismatches(serviceAccountSelector, serviceAccount?.metadata.labels)
    : [];
  if (podMismatches.length === 0 && saMismatches.length === 0) return { selected: true };
  return { selected: false, reason: 'SelectorMismatch', pod: podMismatches, serviceAccount: saMismatches };
}

/** Whether one policy selects the pod (namespace, selectors, AND of both). */
export function policySelectsPod(
  policy: SecurityGroupPolicy,
  pod: PodForMatching,
  serviceAccount: ServiceAccountForMatching | undefined,
): boolean {
  return explainPolicyMatch(policy, pod, serviceAccount).selected;
}

/** Go's %v of a string slice, as EKS prints group lists in its events: "[sg-1 sg-2]". */
export function formatGroupList(groupIds: readonly string[]): string {
  return `[${groupIds.join(' ')}]`;
}

export const NO_MATCH_MESSAGE =
  "Pod will get the instance security group as the pod didn't match any Security Group from SecurityGroupPolicy";

/**
 * The security groups a pod gets from the policies of its namespace and, given `annotations`, from its and
 * its ServiceAccount's allowed annotations (see the file comment).
 */
export function securityGroupsForPod(
  pod: PodForMatching,
  serviceAccount: ServiceAccountForMatching | undefined,
  policies: readonly SecurityGroupPolicy[],
  annotations?: AnnotationScope,
): PodMatch {
  const candidates = policies
    .filter((policy) => (policy.metadata.namespace ?? '') === (pod.metadata.namespace ?? ''))
    .filter((policy) => !policySkipReason(policy))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const matching = candidates.filter((policy) => policySelectsPod(policy, pod, serviceAccount));
  const fromAnnotations: PodAnnotationGroups = annotations
    ? annotationGroupsForPod(pod, serviceAccount, annotations)
    : { groupIds: [], sources: [], carriers: [], refusals: [] };
  const groupIds = [...new Set([...matching.flatMap(policyGroupIds), ...fromAnnotations.groupIds])];
  const matchedPolicies = [...matching.map((policy) => policy.metadata.name), ...fromAnnotations.sources];
  const refusals = fromAnnotations.refusals;
  if (matchedPolicies.length === 0) {
    return {
      groupIds: [],
      matchedPolicies: [],
      reason: candidates.length > 0 ? 'NoPolicyMatched' : 'NoPolicies',
      message: NO_MATCH_MESSAGE,
      refusals,
    };
  }
  const requested = `Pod will get the following Security Groups ${formatGroupList(groupIds)}`;
  return {
    groupIds,
    matchedPolicies,
    reason: matching.length > 0 ? 'PoliciesMatched' : 'AnnotationMatched',
    message:
      fromAnnotations.sources.length === 0 ? requested : `${requested} ${describeSources(matching, fromAnnotations)}`,
    refusals,
  };
}

/** "from SecurityGroupPolicy a, b and annotation vpc.amazonaws.com/security-groups of Pod ns/x, …". */
function describeSources(matching: readonly SecurityGroupPolicy[], fromAnnotations: PodAnnotationGroups): string {
  const policies =
    matching.length > 0 ? `SecurityGroupPolicy ${matching.map((policy) => policy.metadata.name).join(', ')} and ` : '';
  return `from ${policies}annotation ${SECURITY_GROUPS_ANNOTATION} of ${fromAnnotations.carriers.join(', ')}`;
}
