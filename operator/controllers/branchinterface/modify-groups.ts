/**
 * Ready → Ready with new groups: ModifyNetworkInterfaceAttribute replaces the branch ENI's security groups
 * in place. The pod keeps its IP and connections; only the rules change. EKS never does this — a policy
 * edit there needs the pod recreated (anchor study §10 item 5).
 */
import { branchOperationsTotal } from '../../observability/metrics.ts';
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
    deps.events.groupsUpdateFailed(branch, eniId, securityGroups, error);
    throw stepError(`setting security groups on branch ENI ${eniId} of pod ${podKeyOf(branch)}`, error);
  }
  branchOperationsTotal.inc({ operation: 'modify_groups', result: 'success' });
  // A takeover of a warm ENI announces itself (WarmBranchENIReused); a running pod's change does here.
  if (branch.status?.phase !== 'Reusing') deps.events.groupsUpdated(branch, eniId, securityGroups, previous);
  context.log.info('updated branch eni groups', { eni: eniId, groups: securityGroups, previous });
  return { appliedSecurityGroups: securityGroups };
}
