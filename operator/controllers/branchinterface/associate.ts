/**
 * Associating → (annotate): AssociateTrunkInterface puts the branch ENI on the trunk under its VLAN. In
 * EKS's two-identity setup the association is made by another account, which first needs INSTANCE-ATTACH
 * permission on the branch (docs/ec2-semantics.md#two-identities); CreateNetworkInterfacePermission runs here, right before the
 * association, so a crash between the two repeats both.
 */
import type { TrunkInterface } from '../../api/types.ts';
import { clientToken } from '../../aws/index.ts';
import { branchOperationsTotal } from '../../observability/metrics.ts';
import type { BranchStatus, StepContext } from './step.ts';
import { podKeyOf, stepError } from './step.ts';

export async function associateBranchEni(
  context: StepContext,
  trunk: TrunkInterface & { status: { eniId: string } },
): Promise<Partial<BranchStatus>> {
  const { branch, deps } = context;
  const eniId = branch.status?.eniId ?? '';
  const vlanId = branch.status?.vlanId ?? 0;
  const call = { signal: context.signal, priority: 'critical' as const };
  try {
    const accountId = deps.cluster.trunkAssociationAccountId;
    if (accountId)
      await deps.ec2.createNetworkInterfacePermission({ networkInterfaceId: eniId, awsAccountId: accountId }, call);
    const association = await deps.ec2.associateTrunkInterface(
      {
        branchInterfaceId: eniId,
        trunkInterfaceId: trunk.status.eniId,
        vlanId,
        clientToken: clientToken('associate', branch.metadata.uid ?? '', trunk.status.eniId, vlanId),
      },
      call,
    );
    branchOperationsTotal.inc({ operation: 'associate', result: 'success' });
    context.log.info('associated branch eni', {
      eni: eniId,
      trunk: trunk.status.eniId,
      vlan: vlanId,
      association: association.associationId,
    });
    return { associationId: association.associationId, trunkEniId: trunk.status.eniId };
  } catch (error) {
    branchOperationsTotal.inc({ operation: 'associate', result: 'error' });
    deps.events.allocationFailed(branch, error);
    throw stepError(
      `associating branch ENI ${eniId} of pod ${podKeyOf(branch)} with trunk ${trunk.status.eniId} (VLAN ${vlanId})`,
      error,
    );
  }
}
