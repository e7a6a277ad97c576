/**
 * The status a SecurityGroupPolicy should have, as a pure function of the verdict and the matched-pod
 * count. EKS's SGP has no status at all (docs/compatibility.md#securitygrouppolicy, issue #11: `kubectl describe sgp` shows
 * nothing); ours says whether the policy is in effect and why not.
 */
import type { SecurityGroupPolicy } from '../../api/types.ts';
import { setCondition } from '../../framework/index.ts';
import { formatGroupList, PolicyCondition } from '../pod/index.ts';
import type { PolicyValidation } from './validation.ts';

export type PolicyStatus = NonNullable<SecurityGroupPolicy['status']>;

export function desiredPolicyStatus(
  policy: SecurityGroupPolicy,
  validation: PolicyValidation,
  matchedPods: number,
  nowIso: string,
): PolicyStatus {
  const generation = policy.metadata.generation;
  let conditions = setCondition(
    policy.status?.conditions,
    {
      type: PolicyCondition.Valid,
      // GrantNotResolved: whether the grants allow the groups is not known yet (a tag rule being resolved).
      // Unknown, not False: pods wait silently as for a policy not yet validated, and no Warning is raised
      // for what is usually a matter of one DescribeSecurityGroups.
      status: validation.valid ? 'True' : validation.reason === 'GrantNotResolved' ? 'Unknown' : 'False',
      reason: validation.reason,
      message: validation.message,
      observedGeneration: generation,
    },
    nowIso,
  );
  conditions = setCondition(
    conditions,
    validation.valid
      ? {
          type: PolicyCondition.Ready,
          status: 'True',
          reason: 'Active',
          message: `pods this policy selects get security groups ${formatGroupList(validation.resolvedGroupIds)} (with those of any other matching policy)`,
          observedGeneration: generation,
        }
      : {
          type: PolicyCondition.Ready,
          status: 'False',
          reason: validation.reason,
          message:
            'pods this policy selects get no branch ENI (or keep their current groups) until the policy is valid; see the Valid condition',
          observedGeneration: generation,
        },
    nowIso,
  );
  return {
    observedGeneration: generation,
    conditions,
    resolvedGroupIds: validation.resolvedGroupIds,
    ...(validation.resolvedReferences ? { resolvedReferences: validation.resolvedReferences } : {}),
    matchedPods,
  };
}
