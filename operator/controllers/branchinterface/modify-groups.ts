/**
 * Ready → Ready with new groups: ModifyNetworkInterfaceAttribute replaces the branch ENI's security groups
 * in place. The pod keeps its IP and connections; only the rules change. EKS never does this — a policy
 * edit there needs the pod recreated. The same call gives a warm ENI taken over by a new pod that pod's groups
 * before its annotation is written (docs/warm-branches.md#who-owns-the-eni-at-each-instant). Groups over the per-ENI quota are recorded, not
 * retried (group-quota.ts).
 */
import { isSecurityGroupQuotaExceeded } from '../../aws/index.ts';
import { branchOperationsTotal } from '../../observability/metrics.ts';
import { groupQuotaConditions, groupQuotaMessage, groupsAppliedConditions } from './group-quota.ts';
import type { BranchStatus, StepContext } from './step.ts';
import { podKeyOf, stepError } from './step.ts';

export async function modifyBranchGroups(
  context: StepContext,
  securityGroups: string[],
  previous: readonly string[],
): Promise<Partial<BranchStatus>> {
  const { branch, deps } = context;
  const eniId = branch.status?.eniId ?? '';
  try {
    await deps.ec2.setSecurityGroups(
      { networkInterfaceId: eniId, securityGroupIds: securityGroups },
      { signal: context.signal, priority: 'normal' },
    );
  } catch (error) {
    branchOperationsTotal.inc({ operation: 'modify_groups', result: 'error' });
    if (isSecurityGroupQuotaExceeded(error)) {
      // The ENI keeps its groups (a refused call changes nothing, so status names them again); the condition
      // stops further attempts until the policies change.
      const message = groupQuotaMessage(branch, securityGroups, error.message);
      deps.events.groupQuotaExceeded(branch, message);
      context.log.warn('security groups over the per-eni quota', { eni: eniId, groups: securityGroups, previous });
      return {
        appliedSecurityGroups: [...previous],
        conditions: groupQuotaConditions(branch, message, nowIso(context)),
      };
    }
    deps.events.groupsUpdateFailed(branch, eniId, securityGroups, error);
    throw stepError(`setting security groups on branch ENI ${eniId} of pod ${podKeyOf(branch)}`, error);
  }
  branchOperationsTotal.inc({ operation: 'modify_groups', result: 'success' });
  // A takeover of a warm ENI announces itself (WarmBranchENIReused); a running pod's change does here.
  if (branch.status?.phase !== 'Reusing') deps.events.groupsUpdated(branch, eniId, securityGroups, previous);
  context.log.info('updated branch eni groups', { eni: eniId, groups: securityGroups, previous });
  const conditions = groupsAppliedConditions(branch, securityGroups, nowIso(context));
  return { appliedSecurityGroups: securityGroups, ...(conditions ? { conditions } : {}) };
}

function nowIso(context: StepContext): string {
  return new Date(context.deps.clock.now()).toISOString();
}
