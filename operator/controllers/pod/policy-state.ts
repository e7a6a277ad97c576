/**
 * How the pod side reads a SecurityGroupPolicy's validation verdict, which the SecurityGroupPolicy
 * controller writes into its status. A pod only ever gets groups from policies validated against EC2 for
 * their current generation (see decision.ts for what happens otherwise).
 */
import type { SecurityGroupPolicy } from '../../api/types.ts';

/** Condition types on SecurityGroupPolicy status. */
export const PolicyCondition = {
  /** Selectors are well-formed and every group exists in the cluster's VPC. */
  Valid: 'Valid',
  /** The policy is in effect: valid, and pods get its groups. */
  Ready: 'Ready',
} as const;

export type PolicyValidity =
  /** Valid=True for the current generation. */
  | 'valid'
  /** Valid=False for the current generation: the condition message says why. */
  | 'invalid'
  /** Not yet validated for the current generation (new or just edited), or validation could not run. */
  | 'unvalidated';

export function policyValidity(policy: SecurityGroupPolicy): PolicyValidity {
  const status = policy.status;
  if (!status || status.observedGeneration !== policy.metadata.generation) return 'unvalidated';
  const valid = status.conditions?.find((condition) => condition.type === PolicyCondition.Valid);
  if (valid?.status === 'True') return 'valid';
  if (valid?.status === 'False') return 'invalid';
  return 'unvalidated';
}

/** The message of the policy's Valid condition, for events that point at it. */
export function policyInvalidMessage(policy: SecurityGroupPolicy): string {
  const valid = policy.status?.conditions?.find((condition) => condition.type === PolicyCondition.Valid);
  return valid?.message ?? `SecurityGroupPolicy ${policy.metadata.namespace}/${policy.metadata.name} is invalid`;
}
