/**
 * The per-ENI security group quota (SecurityGroupsPerInterfaceLimitExceeded). The groups a pod gets are the
 * union of every policy that selects it, so a pod can be selected into more groups than the account lets one
 * ENI carry (5 by default, at most 16). Retrying the same request cannot help, so the branch records a
 * `SecurityGroupsApplied=False` condition naming the policies, the groups and the quota, the pod gets one
 * Warning event, and the branch makes no further create or modify call until its spec changes: the pod
 * controller rewrites spec.securityGroups and spec.matchedPolicies when a policy changes, which bumps
 * metadata.generation past the condition's observedGeneration and lifts the block. A later success sets the
 * condition back to True.
 *
 * Pure functions: no I/O, no clock (the caller passes the time).
 */
import type { BranchInterface, Condition } from '../../api/types.ts';
import { SECURITY_GROUPS_PER_INTERFACE } from '../../aws/index.ts';
import { findCondition, setCondition } from '../../framework/index.ts';

export const GROUPS_APPLIED_CONDITION = 'SecurityGroupsApplied';
export const GROUP_QUOTA_REASON = 'SecurityGroupQuotaExceeded';
export const GROUPS_APPLIED_REASON = 'Applied';

/** "[a b]", or "[none]" when empty. */
function list(values: readonly string[]): string {
  return values.length === 0 ? '[none]' : `[${values.join(' ')}]`;
}

/**
 * What the user reads, on the condition and on the pod's event: how many groups from which policies, against
 * what quota, and the two ways out. EC2's message sometimes states the account's value ("(5)"); it is
 * repeated when it does.
 */
export function groupQuotaMessage(branch: BranchInterface, groups: readonly string[], ec2Message: string): string {
  const stated = /\((\d+)\)/.exec(ec2Message)?.[1];
  const quota = stated
    ? `the account's quota of ${stated} security groups per network interface`
    : `the account's security groups per network interface quota ` +
      `(${SECURITY_GROUPS_PER_INTERFACE.default} by default, at most ${SECURITY_GROUPS_PER_INTERFACE.max})`;
  return (
    `${groups.length} security groups ${list(groups)} from policies ${list(branch.spec.matchedPolicies ?? [])} ` +
    `exceed ${quota}; EC2 refused them, ` +
    `${branch.status?.eniId ? "and the pod's branch ENI keeps its current groups" : 'so the pod has no branch ENI yet'}. ` +
    `Narrow the policies that ` +
    `select the pod, or raise the quota (Service Quotas, Amazon VPC, code ` +
    `${SECURITY_GROUPS_PER_INTERFACE.quotaCode}, at most ${SECURITY_GROUPS_PER_INTERFACE.max}) and then change ` +
    `a policy or recreate the pod; the operator does not retry until the pod's policies change`
  );
}

/** The condition recording the refusal for the branch's current generation. */
export function groupQuotaConditions(branch: BranchInterface, message: string, nowIso: string): Condition[] {
  return setCondition(
    branch.status?.conditions,
    {
      type: GROUPS_APPLIED_CONDITION,
      status: 'False',
      reason: GROUP_QUOTA_REASON,
      message,
      observedGeneration: branch.metadata.generation,
    },
    nowIso,
  );
}

/**
 * The conditions after EC2 accepted `groups`, or undefined when they already say so (nothing to write).
 */
export function groupsAppliedConditions(
  branch: BranchInterface,
  groups: readonly string[],
  nowIso: string,
): Condition[] | undefined {
  const current = findCondition(branch.status?.conditions, GROUPS_APPLIED_CONDITION);
  const message = `the branch ENI carries ${list(groups)}`;
  if (
    current?.status === 'True' &&
    current.message === message &&
    current.observedGeneration === branch.metadata.generation
  ) {
    return undefined;
  }
  return setCondition(
    branch.status?.conditions,
    {
      type: GROUPS_APPLIED_CONDITION,
      status: 'True',
      reason: GROUPS_APPLIED_REASON,
      message,
      observedGeneration: branch.metadata.generation,
    },
    nowIso,
  );
}

/**
 * Whether EC2 already refused this generation's groups for the quota: then no call is made until the spec
 * changes. A branch without a generation (never the case on a real API server) is never blocked.
 */
export function isBlockedByGroupQuota(branch: BranchInterface): boolean {
  const condition = findCondition(branch.status?.conditions, GROUPS_APPLIED_CONDITION);
  return (
    condition?.status === 'False' &&
    condition.reason === GROUP_QUOTA_REASON &&
    branch.metadata.generation !== undefined &&
    condition.observedGeneration === branch.metadata.generation
  );
}
