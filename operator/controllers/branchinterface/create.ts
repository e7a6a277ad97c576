/**
 * Creating → Associating: CreateNetworkInterface for the branch ENI in the node's subnet, with the groups,
 * EKS's description and the full tag set (trunk, VLAN, instance, cluster, owner, pod), so a restarted
 * operator — or EKS tooling — can tell whose ENI it is from EC2 alone. The ClientToken comes from the
 * BranchInterface UID: a crash after the call and before the status write gets the same ENI back.
 */
import { BRANCH_ENI_DESCRIPTION } from '../../api/constants.ts';
import type { TrunkInterface } from '../../api/types.ts';
import { branchEniTags, clientToken } from '../../aws/index.ts';
import { branchOperationsTotal } from '../../observability/metrics.ts';
import type { BranchStatus, StepContext } from './step.ts';
import { podKeyOf, sortedUnique, stepError } from './step.ts';

export async function createBranchEni(
  context: StepContext,
  trunk: TrunkInterface & { status: { eniId: string; subnetId: string } },
  securityGroups: string[],
): Promise<Partial<BranchStatus>> {
  const { branch, deps } = context;
  const vlanId = branch.status?.vlanId ?? 0;
  try {
    const eni = await deps.ec2.createNetworkInterface(
      {
        subnetId: trunk.status.subnetId,
        securityGroupIds: securityGroups,
        description: BRANCH_ENI_DESCRIPTION,
        tags: branchEniTags({
          clusterName: deps.cluster.clusterName,
          instanceId: trunk.spec.instanceId,
          nodeName: branch.spec.nodeName,
          trunkEniId: trunk.status.eniId,
          vlanId,
          podNamespace: branch.metadata.namespace ?? '',
          podName: branch.spec.podName,
          podUid: branch.spec.podUid,
        }),
        clientToken: clientToken('create', branch.metadata.uid ?? ''),
      },
      { signal: context.signal, priority: 'critical' },
    );
    branchOperationsTotal.inc({ operation: 'create', result: 'success' });
    context.log.info('created branch eni', {
      eni: eni.id,
      vlan: vlanId,
      groups: eni.securityGroupIds,
      subnet: eni.subnetId,
    });
    return {
      phase: 'Associating',
      eniId: eni.id,
      macAddress: eni.macAddress,
      privateIp: eni.privateIpAddress,
      ipv6Address: eni.ipv6Address,
      subnetId: eni.subnetId,
      subnetCidr: trunk.status.subnetCidr ?? '',
      subnetV6Cidr: trunk.status.subnetV6Cidr ?? '',
      trunkEniId: trunk.status.eniId,
      appliedSecurityGroups: sortedUnique(eni.securityGroupIds),
    };
  } catch (error) {
    branchOperationsTotal.inc({ operation: 'create', result: 'error' });
    deps.events.allocationFailed(branch, error);
    throw stepError(`creating branch ENI for pod ${podKeyOf(branch)} on node ${branch.spec.nodeName}`, error);
  }
}
