/**
 * Is a SecurityGroupPolicy usable? Pure verdicts, in two stages: the spec on its own (selectors, group
 * list), then the groups against what EC2 reports. Every verdict carries a reason (the Valid condition's)
 * and a message that names the policy, what is wrong and the fix — it becomes the condition message and
 * the Warning event users see in `kubectl describe sgp`.
 */
import type { ResolvedGroupReference, SecurityGroupPolicy } from '../../api/types.ts';
import type { SecurityGroup } from '../../aws/index.ts';
import { hasGroupReferences, labelSelectorProblems } from '../pod/index.ts';
import type { GroupGrantVerdict } from '../securitygroupgrant/index.ts';
import { describeReference, type ReferenceProblemReason } from './group-references.ts';

export type PolicyInvalidReason =
  | 'NoSelector'
  | 'NoGroups'
  | 'InvalidSelector'
  /** A group id does not exist in EC2. */
  | 'GroupsNotFound'
  /** A group exists but in another VPC: branch ENIs cannot carry it. */
  | 'GroupsInOtherVpc'
  /** SecurityGroupGrants exist and none allows a group in the policy's namespace. */
  | 'GroupsNotGranted'
  /** As GroupsNotGranted, but a covering grant's tag rules are not resolved yet (it may allow the group). */
  | 'GrantNotResolved'
  /** A groupNames or groupSelectors entry denotes no group of the cluster's VPC, or several (our extension). */
  | ReferenceProblemReason;

/** `resolvedReferences`: what the policy's names and selectors denote (absent for a policy without any). */
export type PolicyValidation =
  | {
      valid: true;
      reason: 'GroupsFound';
      message: string;
      resolvedGroupIds: string[];
      resolvedReferences?: ResolvedGroupReference[];
    }
  | {
      valid: false;
      reason: PolicyInvalidReason;
      message: string;
      resolvedGroupIds: string[];
      resolvedReferences?: ResolvedGroupReference[];
    };

function nameOf(policy: SecurityGroupPolicy): string {
  return `SecurityGroupPolicy ${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;
}

/** Spec-only problems, or undefined when the spec is fine and the groups need checking in EC2. */
export function validatePolicySpec(policy: SecurityGroupPolicy): PolicyValidation | undefined {
  const { podSelector, serviceAccountSelector, securityGroups } = policy.spec ?? {};
  if (!podSelector && !serviceAccountSelector) {
    return {
      valid: false,
      reason: 'NoSelector',
      message:
        `${nameOf(policy)} has neither spec.podSelector nor spec.serviceAccountSelector, so it selects no pods ` +
        '(EKS skips such policies); add a selector (podSelector: {} selects every pod in the namespace)',
      resolvedGroupIds: [],
    };
  }
  if ((securityGroups?.groupIds ?? []).length === 0 && !hasGroupReferences(policy)) {
    return {
      valid: false,
      reason: 'NoGroups',
      message:
        `${nameOf(policy)} lists no spec.securityGroups.groupIds (nor groupNames or groupSelectors); ` +
        'list at least one security group',
      resolvedGroupIds: [],
    };
  }
  const problems = [
    ...(podSelector ? labelSelectorProblems(podSelector).map((p) => `spec.podSelector ${p}`) : []),
    ...(serviceAccountSelector
      ? labelSelectorProblems(serviceAccountSelector).map((p) => `spec.serviceAccountSelector ${p}`)
      : []),
  ];
  if (problems.length > 0) {
    return {
      valid: false,
      reason: 'InvalidSelector',
      message: `${nameOf(policy)} has a malformed selector: ${problems.join('; ')}; fix the selector`,
      resolvedGroupIds: [],
    };
  }
  return undefined;
}

/** The policy's groups against the groups EC2 reports for those ids (looked up without a VPC filter). */
export function validatePolicyGroups(
  policy: SecurityGroupPolicy,
  found: readonly SecurityGroup[],
  vpcId: string,
): PolicyValidation {
  const wanted = [...new Set(policy.spec.securityGroups.groupIds ?? [])];
  const byId = new Map(found.map((group) => [group.id, group]));
  const missing = wanted.filter((id) => !byId.has(id));
  const elsewhere = wanted.filter((id) => byId.has(id) && byId.get(id)?.vpcId !== vpcId);
  const resolvedGroupIds = wanted.filter((id) => byId.get(id)?.vpcId === vpcId).sort();
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(`${missing.join(', ')}, which ${missing.length > 1 ? 'do' : 'does'} not exist in ${vpcId}`);
  }
  if (elsewhere.length > 0) {
    const where = elsewhere.map((id) => `${id} (in ${byId.get(id)?.vpcId})`).join(', ');
    problems.push(
      `${where}, which ${elsewhere.length > 1 ? 'belong' : 'belongs'} to another VPC than the cluster's ${vpcId}`,
    );
  }
  if (problems.length === 0) {
    return {
      valid: true,
      reason: 'GroupsFound',
      message: `security groups ${resolvedGroupIds.join(', ')} exist in ${vpcId}`,
      resolvedGroupIds,
    };
  }
  return {
    valid: false,
    reason: missing.length > 0 ? 'GroupsNotFound' : 'GroupsInOtherVpc',
    message: `${nameOf(policy)} names ${problems.join(', and ')}; fix spec.securityGroups.groupIds or create the group`,
    resolvedGroupIds,
  };
}

/** The policy's verdict from the SecurityGroupGrants, or undefined when they allow every group it names. */
export function validatePolicyGrants(verdict: GroupGrantVerdict): PolicyValidation | undefined {
  if (verdict.allowed) return undefined;
  return { valid: false, reason: verdict.reason, message: verdict.message, resolvedGroupIds: [] };
}

/**
 * The verdict with what the policy's names and selectors resolved to: listed in resolvedReferences, their ids
 * added to resolvedGroupIds when the policy is valid, and named in the message ("name "db" is sg-…").
 */
export function withResolvedReferences(
  validation: PolicyValidation,
  references: readonly ResolvedGroupReference[],
  vpcId: string,
): PolicyValidation {
  if (references.length === 0) return validation;
  const resolvedReferences = references.map((reference) => ({ ...reference }));
  if (!validation.valid) return { ...validation, resolvedReferences };
  const resolvedGroupIds = [
    ...new Set([...validation.resolvedGroupIds, ...references.map((reference) => reference.groupId)]),
  ].sort();
  const denoted = references.map((reference) => {
    const written =
      reference.name !== undefined
        ? describeReference({ kind: 'name', name: reference.name })
        : describeReference({ kind: 'tags', tags: reference.tags ?? {} });
    return `${written} is ${reference.groupId}`;
  });
  return {
    ...validation,
    message: `security groups ${resolvedGroupIds.join(', ')} exist in ${vpcId} (${denoted.join(', ')})`,
    resolvedGroupIds,
    resolvedReferences,
  };
}
