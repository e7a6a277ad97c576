/**
 * Pending → Associating, without a new ENI: adopt the branch ENI a running pod already has. When sgp-operator
 * replaces EKS's VPC resource controller on a live cluster, every pod EKS served carries a
 * `vpc.amazonaws.com/pod-eni` annotation and runs on a VLAN interface the VPC CNI built from it. A second ENI
 * would be useless to the pod (the CNI reads the annotation only when the pod starts) and would leave the first
 * one associated with the trunk, holding its VLAN and a capacity slot, with nobody left to delete it.
 *
 * The annotation is only a claim, so EC2 must confirm it: the ENI exists and EKS's (or our) tags put it on this
 * node's trunk at the annotated VLAN, with the annotated MAC. Then the operator takes ownership — its owner,
 * cluster and pod tags replace EKS's — and records the ENI in status; the next steps find it associated and the
 * pod annotated, and groups that differ from the policies' are modified in place as for any branch. Anything
 * else (the ENI gone, on another trunk, another IP) refuses the adoption and the branch is allocated a new ENI
 * as usual.
 *
 * The safety rule (docs/lifecycle.md) holds both ways. The adopted ENI is the running pod's network, so it is
 * never deleted or replaced here: only tags change, and it is released like any branch when the pod ends or its
 * Node goes. And an ENI that is another pod's is never taken: one another BranchInterface records, or one this
 * operator made for another pod UID, is refused (an annotation copied from another pod, past admission); adopting
 * it would record one ENI twice, and releasing the copier's branch would delete the other pod's network.
 *
 * The pod controller leaves the annotation of a pod whose branch has not decided yet (pod/pod-eni-annotation.ts,
 * AwaitingAdoption), so the annotation is still there when this step reads it, and is judged again once the
 * branch records the adopted ENI (the operator's from then on) or a VLAN of its own (then it is removed).
 */
import { ENI_OWNER, TAG } from '../../api/constants.ts';
import type { BranchInterface, PodEniAnnotationEntry, TrunkInterface } from '../../api/types.ts';
import { branchEniTags, Ec2NotFoundError } from '../../aws/index.ts';
import { branchOperationsTotal } from '../../observability/metrics.ts';
import type { BranchStatus, StepContext } from './step.ts';
import { podKeyOf, sortedUnique, stepError } from './step.ts';

export type AdoptResult = { outcome: 'adopted'; status: Partial<BranchStatus> } | { outcome: 'refused'; why: string };

export async function adoptBranchEni(
  context: StepContext,
  trunk: TrunkInterface & { status: { eniId: string; subnetId: string } },
  entry: PodEniAnnotationEntry,
  /** The node's BranchInterfaces (this one included): an ENI another of them records is not adoptable. */
  siblings: readonly BranchInterface[],
): Promise<AdoptResult> {
  const { branch, deps } = context;
  const recordedBy = siblings.find(
    (sibling) => sibling.metadata.uid !== branch.metadata.uid && sibling.status?.eniId === entry.eniId,
  );
  if (recordedBy) {
    const why = `ENI ${entry.eniId} is recorded by BranchInterface ${recordedBy.metadata.namespace ?? ''}/${recordedBy.metadata.name} of pod UID ${recordedBy.spec.podUid}`;
    context.log.info('not adopting annotated branch eni', { eni: entry.eniId, reason: why });
    return { outcome: 'refused', why };
  }
  const call = { signal: context.signal, priority: 'critical' as const };
  try {
    const [eni] = await deps.ec2.describeNetworkInterfaces({ ids: [entry.eniId] }, call).catch((error: unknown) => {
      if (error instanceof Ec2NotFoundError) return [];
      throw error;
    });
    const why = !eni
      ? `ENI ${entry.eniId} does not exist`
      : eni.tags[TAG.trunkEniId] !== trunk.status.eniId
        ? `ENI ${entry.eniId} is not tagged for trunk ${trunk.status.eniId}`
        : eni.tags[TAG.vlanId] !== String(entry.vlanId)
          ? `ENI ${entry.eniId} is tagged for VLAN ${eni.tags[TAG.vlanId] ?? '(none)'}, not ${entry.vlanId}`
          : eni.macAddress.toLowerCase() !== entry.ifAddress.toLowerCase()
            ? `ENI ${entry.eniId} has MAC ${eni.macAddress}, not ${entry.ifAddress}`
            : entry.privateIp !== '' && eni.privateIpAddress !== entry.privateIp
              ? `ENI ${entry.eniId} has IP ${eni.privateIpAddress || '(none)'}, not ${entry.privateIp}`
              : eni.tags[TAG.owner] === ENI_OWNER && eni.tags[TAG.podUid] !== branch.spec.podUid
                ? `ENI ${entry.eniId} is sgp-operator's for pod UID ${eni.tags[TAG.podUid] ?? '(none)'}`
                : undefined;
    if (!eni || why !== undefined) {
      context.log.info('not adopting annotated branch eni', { eni: entry.eniId, reason: why });
      return { outcome: 'refused', why: why ?? `ENI ${entry.eniId} does not exist` };
    }
    await deps.ec2.createTags(
      [eni.id],
      branchEniTags({
        clusterName: deps.cluster.clusterName,
        instanceId: trunk.spec.instanceId,
        nodeName: branch.spec.nodeName,
        trunkEniId: trunk.status.eniId,
        vlanId: entry.vlanId,
        podNamespace: branch.metadata.namespace ?? '',
        podName: branch.spec.podName,
        podUid: branch.spec.podUid,
      }),
      call,
    );
    branchOperationsTotal.inc({ operation: 'adopt', result: 'success' });
    context.log.info('adopted branch eni', {
      eni: eni.id,
      vlan: entry.vlanId,
      trunk: trunk.status.eniId,
      previousOwner: eni.tags[TAG.owner],
    });
    return {
      outcome: 'adopted',
      status: {
        phase: 'Associating',
        vlanId: entry.vlanId,
        eniId: eni.id,
        associationId: entry.associationID,
        trunkEniId: trunk.status.eniId,
        // As the annotation spells them (EC2 confirmed both above), so the pod controller finds the annotation
        // it reads to be exactly the one this status announces, and the annotate step finds nothing to rewrite.
        macAddress: entry.ifAddress,
        privateIp: entry.privateIp || eni.privateIpAddress,
        ipv6Address: eni.ipv6Address || entry.ipv6Addr,
        subnetId: eni.subnetId,
        subnetCidr: entry.subnetCidr,
        subnetV6Cidr: entry.subnetV6Cidr,
        appliedSecurityGroups: sortedUnique(eni.securityGroupIds),
      },
    };
  } catch (error) {
    branchOperationsTotal.inc({ operation: 'adopt', result: 'error' });
    throw stepError(`adopting branch ENI ${entry.eniId} of pod ${podKeyOf(branch)}`, error);
  }
}
