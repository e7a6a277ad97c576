/**
 * Every SecurityGroupPolicy of a pod's namespace, judged for that pod with the operator's own functions:
 * whether it selects the pod and, when not, which requirement failed on which side (pod or ServiceAccount);
 * its validity verdict; what the SecurityGroupGrants say about its groups. Pure.
 */
import type { ResolvedGroupReference, SecurityGroupGrant, SecurityGroupPolicy } from '../../operator/api/types.ts';
import {
  describeSelectorMismatch,
  explainPolicyMatch,
  policyGroupIds,
  policyInvalidMessage,
  policyValidity,
  type PodForMatching,
  type PolicyValidity,
  type ServiceAccountForMatching,
} from '../../operator/controllers/pod/index.ts';
import { judgeGroupsForNamespace, liveGrants } from '../../operator/controllers/securitygroupgrant/index.ts';

export interface PolicyVerdict {
  name: string;
  selects: boolean;
  /** Why it selects the pod or not, one line per reason. */
  why: string[];
  /** The operator's verdict on the policy (its Valid condition, for the current generation). */
  validity: PolicyValidity;
  /** The Valid condition's message when the policy is invalid. */
  problem?: string;
  /** The SecurityGroupGrants' verdict on its groups; absent without grants (every group allowed). */
  grants?: { allowed: boolean; message: string };
  /** Its groups now: ids, then what its names and selectors resolved to. */
  groups: string[];
  /** What its names and selectors resolved to (our extension). */
  references?: ResolvedGroupReference[];
}

export interface PolicyContext {
  pod: PodForMatching;
  /** The pod's ServiceAccount; undefined when it does not exist (it then has no labels). */
  serviceAccount: ServiceAccountForMatching | undefined;
  serviceAccountName: string;
  grants: readonly SecurityGroupGrant[];
  namespaceLabels: Readonly<Record<string, string>> | undefined;
}

/** The namespace's policies by name, each judged for the pod. */
export function judgePolicies(policies: readonly SecurityGroupPolicy[], context: PolicyContext): PolicyVerdict[] {
  return [...policies]
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
    .map((policy) => judgePolicy(policy, context));
}

export function judgePolicy(policy: SecurityGroupPolicy, context: PolicyContext): PolicyVerdict {
  const match = explainPolicyMatch(policy, context.pod, context.serviceAccount);
  const validity = policyValidity(policy);
  const namespace = policy.metadata.namespace ?? '';
  const grants = liveGrants(context.grants);
  const groups = policyGroupIds(policy);
  const verdict: PolicyVerdict = {
    name: policy.metadata.name,
    selects: match.selected,
    why: whyOf(policy, match, context),
    validity,
    groups,
    ...(validity === 'invalid' ? { problem: policyInvalidMessage(policy) } : {}),
    ...(policy.status?.resolvedReferences ? { references: policy.status.resolvedReferences } : {}),
  };
  if (grants.length > 0) {
    const judged = judgeGroupsForNamespace(
      groups,
      { grants, namespace, namespaceLabels: context.namespaceLabels },
      { kind: 'SecurityGroupPolicy', namespace, name: policy.metadata.name },
    );
    verdict.grants = { allowed: judged.allowed, message: judged.message };
  }
  return verdict;
}

function whyOf(
  policy: SecurityGroupPolicy,
  match: ReturnType<typeof explainPolicyMatch>,
  context: PolicyContext,
): string[] {
  const { podSelector, serviceAccountSelector } = policy.spec ?? {};
  if (match.selected) {
    const sides = [
      ...(podSelector ? [`podSelector ${describeSelector(podSelector)} matches the pod's labels`] : []),
      ...(serviceAccountSelector
        ? [
            `serviceAccountSelector ${describeSelector(serviceAccountSelector)} matches ServiceAccount ` +
              `${context.serviceAccountName}'s labels`,
          ]
        : []),
    ];
    return sides;
  }
  switch (match.reason) {
    case 'OtherNamespace':
      return ['it is in another namespace; a policy selects pods of its own namespace only'];
    case 'Deleting':
      return ['it is being deleted'];
    case 'NoSelector':
      return ['it has neither podSelector nor serviceAccountSelector, so it selects no pod'];
    case 'NoGroups':
      return ['it names no security group, so it selects no pod'];
    case 'InvalidSelector':
      return ['a selector is malformed, so it selects no pod (see its Valid condition)'];
    case 'SelectorMismatch': {
      const account = `ServiceAccount ${context.serviceAccountName}${context.serviceAccount ? '' : ' (which does not exist)'}`;
      return [
        ...match.pod.map((mismatch) => `podSelector ${describeSelectorMismatch(mismatch, 'the pod')}`),
        ...match.serviceAccount.map(
          (mismatch) => `serviceAccountSelector ${describeSelectorMismatch(mismatch, account)}`,
        ),
      ];
    }
    default: {
      const unknown: never = match;
      return [String(unknown)];
    }
  }
}

/** `{app=db, tier In [a, b]}`, `{}` for the empty selector (matches everything). */
export function describeSelector(selector: NonNullable<SecurityGroupPolicy['spec']['podSelector']>): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`),
    ...(selector.matchExpressions ?? []).map((requirement) =>
      requirement.operator === 'In' || requirement.operator === 'NotIn'
        ? `${requirement.key} ${requirement.operator} [${(requirement.values ?? []).join(', ')}]`
        : `${requirement.key} ${requirement.operator}`,
    ),
  ];
  return `{${parts.join(', ')}}`;
}
