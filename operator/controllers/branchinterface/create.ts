/**
 * Creating → Associating: CreateNetworkInterface for the branch ENI in the subnet status records (chosen with
 * the VLAN, see subnet.ts), with the groups, EKS's description and the full tag set (trunk, VLAN, instance,
 * cluster, owner, pod), so a restarted operator — or EKS tooling — can tell whose ENI it is from EC2 alone.
 * The ClientToken comes from the BranchInterface UID and the subnet: a crash after the call and before the
 * status write gets the same ENI back.
 *
 * A subnet that turns out to have no free address is reported to the directory (which refreshes the VPC's
 * ranges at once) and the branch moves to another subnet in status before the next attempt. Only EC2's
 * definite "no free address" answer moves it: that create made no ENI, so nothing is left behind.
 */
import { BRANCH_ENI_DESCRIPTION } from '../../api/constants.ts';
import type { TrunkInterface } from '../../api/types.ts';
import { branchEniTags, clientToken, Ec2LimitError, isSecurityGroupQuotaExceeded } from '../../aws/index.ts';
import { needsIpv6 } from '../podnetwork/settings.ts';
import { branchOperationsTotal, branchSubnetFallbacksTotal } from '../../observability/metrics.ts';
import type { BranchStatus, StepContext } from './step.ts';
import { noSubnetError, subnetForBranch } from './subnet.ts';
import { podKeyOf, sortedUnique, stepError } from './step.ts';
import { groupQuotaConditions, groupQuotaMessage, groupsAppliedConditions } from './group-quota.ts';

export async function createBranchEni(
  context: StepContext,
  trunk: TrunkInterface & { status: { eniId: string; subnetId: string } },
  securityGroups: string[],
): Promise<Partial<BranchStatus>> {
  const { branch, deps } = context;
  const vlanId = branch.status?.vlanId ?? 0;
  // Branches allocated before the subnet was recorded with the VLAN use the node's subnet.
  const subnetId = branch.status?.subnetId ?? trunk.status.subnetId;
  // Full since the choice was recorded (another branch's create found out): move without a call bound to fail.
  if (deps.subnets.isExhausted(subnetId)) return moveToAnotherSubnet(context, trunk, subnetId, undefined);
  const network = deps.cluster.podNetwork;
  // The primary ENI's connection-tracking timeouts, as EKS's controller copies them (recorded by the trunk).
  const connectionTracking = trunk.status.primaryInterface?.connectionTracking;
  try {
    const eni = await deps.ec2.createNetworkInterface(
      {
        subnetId,
        securityGroupIds: securityGroups,
        description: BRANCH_ENI_DESCRIPTION,
        // One address of the subnet's IPv6 block for IPv6 and dual-stack pods; otherwise the subnet decides.
        ...(needsIpv6(network) ? { ipv6AddressCount: 1 } : {}),
        ...(connectionTracking === undefined ? {} : { connectionTracking }),
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
        clientToken: clientToken('create', branch.metadata.uid ?? '', subnetId),
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
    const appliedSecurityGroups = sortedUnique(eni.securityGroupIds);
    const nowIso = new Date(deps.clock.now()).toISOString();
    const conditions = groupsAppliedConditions(branch, appliedSecurityGroups, nowIso);
    return {
      ...(conditions ? { conditions } : {}),
      phase: 'Associating',
      eniId: eni.id,
      macAddress: eni.macAddress,
      privateIp: eni.privateIpAddress,
      ipv6Address: eni.ipv6Address,
      subnetId: eni.subnetId,
      subnetCidr: branch.status?.subnetCidr ?? trunk.status.subnetCidr ?? '',
      subnetV6Cidr: branch.status?.subnetV6Cidr ?? trunk.status.subnetV6Cidr ?? '',
      trunkEniId: trunk.status.eniId,
      appliedSecurityGroups,
    };
  } catch (error) {
    branchOperationsTotal.inc({ operation: 'create', result: 'error' });
    if (error instanceof Ec2LimitError && error.isSubnetExhausted) {
      deps.subnets.reportExhausted(subnetId);
      return moveToAnotherSubnet(context, trunk, subnetId, error);
    }
    if (isSecurityGroupQuotaExceeded(error)) return refusedForQuota(context, securityGroups, error);
    deps.events.allocationFailed(branch, error);
    throw stepError(`creating branch ENI for pod ${podKeyOf(branch)} on node ${branch.spec.nodeName}`, error);
  }
}

/**
 * `from` has no free address: record the subnet the branch goes to instead (the next step creates there),
 * or fail with the message that says what to do when no subnet in the zone has room.
 */
function moveToAnotherSubnet(
  context: StepContext,
  trunk: TrunkInterface & { status: { subnetId: string } },
  from: string,
  cause: unknown,
): Partial<BranchStatus> {
  const { branch, deps } = context;
  const next = subnetForBranch(trunk, deps.subnets, needsIpv6(deps.cluster.podNetwork));
  if (next.outcome === 'exhausted' || next.outcome === 'no-ipv6-block') {
    const failure = noSubnetError(next);
    if (cause !== undefined) failure.cause = cause;
    deps.events.allocationFailed(branch, failure);
    throw failure;
  }
  if (next.outcome === 'pod-subnet') {
    branchSubnetFallbacksTotal.inc();
    deps.events.subnetFallback(branch, next.message);
  }
  context.log.info('moving branch to another subnet', { from, to: next.subnet.subnetId });
  return { phase: 'Creating', ...next.subnet };
}

/**
 * EC2 refused the groups for the per-ENI quota: one Warning event and a condition that blocks further calls
 * until the spec changes (see group-quota.ts). No ENI was made, so the branch stays in Creating.
 */
function refusedForQuota(context: StepContext, securityGroups: string[], error: Ec2LimitError): Partial<BranchStatus> {
  const { branch, deps } = context;
  const message = groupQuotaMessage(branch, securityGroups, error.message);
  deps.events.groupQuotaExceeded(branch, message);
  context.log.warn('security groups over the per-eni quota', {
    groups: securityGroups,
    policies: branch.spec.matchedPolicies ?? [],
  });
  return { conditions: groupQuotaConditions(branch, message, new Date(deps.clock.now()).toISOString()) };
}
