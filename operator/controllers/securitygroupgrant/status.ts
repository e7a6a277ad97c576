/**
 * The status a SecurityGroupGrant should have, as pure functions of what the tag rules resolved to (or why
 * they could not be resolved). status.observedGeneration is the generation resolvedGroupIds belong to, and
 * only moves when a resolution for that generation succeeded: the judgement (judgement.ts) trusts the
 * resolved ids only then, so a failed lookup after a spec change can never leave the old ids standing in for
 * the new rules.
 */
import type { SecurityGroupGrant, SecurityGroupTagRule } from '../../api/types.ts';
import { setCondition } from '../../framework/index.ts';
import { GrantCondition, hasTagRules } from './judgement.ts';

export type GrantStatus = NonNullable<SecurityGroupGrant['status']>;

export function describeTagRule(rule: SecurityGroupTagRule): string {
  return rule.values?.length ? `${rule.key}=${rule.values.join('|')}` : `${rule.key} (any value)`;
}

/** Status after a successful resolution (`resolved`: ids the tag rules matched; [] without tag rules). */
export function resolvedGrantStatus(
  grant: SecurityGroupGrant,
  resolved: readonly string[],
  vpcId: string,
  nowIso: string,
): GrantStatus {
  const generation = grant.metadata.generation;
  const ids = [...new Set(resolved)].sort();
  const rules = (grant.spec.securityGroups?.tags ?? []).map(describeTagRule);
  const message = !hasTagRules(grant)
    ? 'the grant has no tag rules; it allows the groups listed in spec.securityGroups.groupIds'
    : ids.length === 0
      ? `no security group in ${vpcId} carries tag ${rules.join(' or ')}; tag a group to have it allowed`
      : `tag ${rules.join(' or ')} matched ${ids.join(', ')} in ${vpcId}`;
  let conditions = setCondition(
    grant.status?.conditions,
    {
      type: GrantCondition.Resolved,
      status: 'True',
      reason: hasTagRules(grant) ? 'TagsResolved' : 'NoTagRules',
      message,
      observedGeneration: generation,
    },
    nowIso,
  );
  conditions = setCondition(
    conditions,
    {
      type: GrantCondition.Ready,
      status: 'True',
      reason: 'Active',
      message: 'the namespaces this grant covers may use the groups it lists and the groups its tag rules matched',
      observedGeneration: generation,
    },
    nowIso,
  );
  return { observedGeneration: generation, resolvedGroupIds: ids, conditions };
}

/**
 * Status after a failed resolution. The previous ids and observedGeneration stay: for the same generation
 * they are still the best answer (and are refreshed once EC2 answers), for an older one judgement.ts ignores
 * them. Ready turns False only when the current generation was never resolved.
 */
export function unresolvedGrantStatus(grant: SecurityGroupGrant, problem: string, nowIso: string): GrantStatus {
  const generation = grant.metadata.generation;
  const isCurrent = grant.status?.observedGeneration === generation;
  const name = `SecurityGroupGrant ${grant.metadata.name}`;
  let conditions = setCondition(
    grant.status?.conditions,
    {
      type: GrantCondition.Resolved,
      status: isCurrent ? 'True' : 'False',
      reason: 'DescribeFailed',
      message: isCurrent
        ? `refreshing the tag rules of ${name} failed (${problem}); the ids resolved before stay in use, retrying`
        : `resolving the tag rules of ${name} failed (${problem}); retrying. Until then only spec.securityGroups.groupIds are allowed, and admission names this grant when it refuses a group`,
      observedGeneration: generation,
    },
    nowIso,
  );
  if (!isCurrent) {
    conditions = setCondition(
      conditions,
      {
        type: GrantCondition.Ready,
        status: 'False',
        reason: 'TagsNotResolved',
        message: 'the tag rules are not resolved yet; see the Resolved condition',
        observedGeneration: generation,
      },
      nowIso,
    );
  }
  return { ...grant.status, conditions };
}
