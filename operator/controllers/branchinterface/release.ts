/**
 * The end of a branch: CoolingDown, then DeleteNetworkInterface (which drops the trunk association), then the
 * BranchInterface goes (its finalizer last), which frees its VLAN and its slot in the node's capacity.
 * "Not found" from EC2 counts as done at every step: the trunk controller may have released the ENI of a
 * deleted node first, or a previous attempt got further than its status records.
 */
import { BRANCH_FINALIZER } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import { branchEnisOfPodFilter, clientToken, ignoreNotFound, isInUse } from '../../aws/index.ts';
import { withContext } from '../../errors.ts';
import { isNotFound as isKubeNotFound, keyOf, removeFinalizer, setCondition } from '../../framework/index.ts';
import { branchOperationsTotal } from '../../observability/metrics.ts';
import { formatDuration } from './cooldown.ts';
import type { ReleaseCause } from './plan.ts';
import type { BranchStatus, StepContext } from './step.ts';

const CAUSE_TEXT: Record<ReleaseCause, string> = {
  NodeGone: 'the node is gone',
  PodGone: 'the pod is gone',
  PodFinished: 'the pod has finished',
};

/** Starts the cooldown: recorded in status, so a restarted operator keeps counting from the same instant. */
export function requestRelease(context: StepContext, cause: ReleaseCause, cooldownMs: number): Partial<BranchStatus> {
  const { branch, deps } = context;
  const nowIso = new Date(deps.clock.now()).toISOString();
  context.log.info('branch eni cooling down', { eni: branch.status?.eniId, cause, cooldownMs });
  return {
    phase: 'CoolingDown',
    releaseRequestedAt: nowIso,
    conditions: setCondition(
      branch.status?.conditions,
      {
        type: 'Ready',
        status: 'False',
        reason: 'CoolingDown',
        message: `${CAUSE_TEXT[cause]}; branch ENI ${branch.status?.eniId} is released after the cooldown (${formatDuration(cooldownMs)})`,
        observedGeneration: branch.metadata.generation,
      },
      nowIso,
    ),
  };
}

/** Deletes the ENI (if any; disassociating first only where EC2 insists), then the BranchInterface. */
export async function releaseBranch(context: StepContext, cause: ReleaseCause): Promise<void> {
  const { branch, deps } = context;
  const { eniId } = branch.status ?? {};
  try {
    // With no ENI recorded, a create may still have happened (its response lost, or the operator killed
    // before the status write): the pod-UID tag every branch ENI carries finds it, so nothing leaks.
    const eniIds = eniId
      ? [eniId]
      : (
          await deps.ec2.describeNetworkInterfaces(
            branchEnisOfPodFilter(deps.cluster.clusterName, branch.spec.podUid),
            { signal: context.signal, priority: 'normal' },
          )
        ).map((eni) => eni.id);
    for (const id of eniIds) await deleteBranchEni(context, id);
  } catch (error) {
    branchOperationsTotal.inc({ operation: 'release', result: 'error' });
    throw withContext(
      `releasing branch ENI ${eniId} of pod ${branch.metadata.namespace}/${branch.spec.podName}`,
      error,
    );
  }
  branchOperationsTotal.inc({ operation: 'release', result: 'success' });
  const key = keyOf(branch);
  // Delete first, finalizer last: until the finalizer goes the object (and the VLAN it records) stays
  // visible, so a crash in between repeats the release instead of losing track of it.
  await deps.client.delete(Kinds.BranchInterface, key, branch.metadata.uid ? { uid: branch.metadata.uid } : {});
  try {
    await removeFinalizer(deps.client, Kinds.BranchInterface, branch, BRANCH_FINALIZER);
  } catch (error) {
    if (!isKubeNotFound(error)) throw error;
  }
  context.log.info('released branch eni', { eni: eniId, vlan: branch.status?.vlanId, cause });
}

/**
 * DeleteNetworkInterface drops a branch's trunk association with it (docs/ec2-semantics.md#trunk-rules; the older VPC resource
 * controller released branches that way), so one call releases a branch. The EC2 team recommends
 * disassociating first, and where EC2 enforces it the delete answers "currently in use": only then does
 * the release disassociate the recorded association and delete again. Not found counts as done.
 */
async function deleteBranchEni(context: StepContext, eniId: string): Promise<void> {
  const { branch, deps } = context;
  const call = { signal: context.signal, priority: 'normal' as const };
  const deleteEni = () => deps.ec2.deleteNetworkInterface(eniId, call).catch(ignoreNotFound);
  const associationId = branch.status?.eniId === eniId ? branch.status.associationId : undefined;
  try {
    await deleteEni();
  } catch (error) {
    if (!associationId || !isInUse(error)) throw error;
    await deps.ec2
      .disassociateTrunkInterface(
        { associationId, clientToken: clientToken('disassociate', branch.metadata.uid ?? '', associationId) },
        call,
      )
      .catch(ignoreNotFound);
    await deleteEni();
  }
}
