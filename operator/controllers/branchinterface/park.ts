/**
 * CoolingDown → (warm): instead of DeleteNetworkInterface, the branch's ENI is recorded as a WarmBranch and stays
 * associated with the trunk on its VLAN. The record is written in one create, before the BranchInterface goes:
 * from the create's answer on, the WarmBranch holds the ENI; until then the BranchInterface did. A crash in
 * between leaves both records, and the repeated release step finds the WarmBranch it wrote and only drops the
 * BranchInterface (decideHandover: 'forget'). No EC2 call is made: the ENI's tags still prove it is ours, and
 * who holds it now is what the API server says (docs/warm-branches.md#the-records).
 */
import { WARM_BRANCH_FINALIZER, WARM_BRANCH_NODE_LABEL } from '../../api/constants.ts';
import { apiVersionOf, Kinds } from '../../api/kinds.ts';
import type { TrunkInterface, WarmBranch } from '../../api/types.ts';
import { OperatorError, withContext } from '../../errors.ts';
import { isConflict } from '../../framework/index.ts';
import { warmBranchParkedTotal } from '../../observability/metrics.ts';
import type { StepContext } from './step.ts';
import { podKeyOf } from './step.ts';
import { warmBranchSpecOf } from './warm.ts';

export async function parkBranchEni(context: StepContext, trunk: TrunkInterface): Promise<WarmBranch> {
  const { branch, deps } = context;
  const spec = warmBranchSpecOf(branch, new Date(deps.clock.now()).toISOString());
  const desired: WarmBranch = {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'WarmBranch',
    metadata: {
      name: spec.eniId,
      labels: { [WARM_BRANCH_NODE_LABEL]: spec.nodeName },
      finalizers: [WARM_BRANCH_FINALIZER],
      // Owned by the node's TrunkInterface: when the node goes, so does the record (its finalizer releases the ENI).
      ...(trunk.metadata.uid
        ? {
            ownerReferences: [
              {
                apiVersion: apiVersionOf(Kinds.TrunkInterface),
                kind: 'TrunkInterface',
                name: trunk.metadata.name,
                uid: trunk.metadata.uid,
              },
            ],
          }
        : {}),
    },
    spec,
  };
  try {
    let warm: WarmBranch;
    try {
      warm = await deps.client.create<WarmBranch>(Kinds.WarmBranch, desired);
    } catch (error) {
      if (!isConflict(error)) throw error;
      // A record for this ENI exists: left by this branch's own earlier attempt (brought up to date with what
      // the branch knows now), or the record of the handover that gave the ENI to this branch, which the
      // WarmBranch reconciler is about to drop (patching it would race that drop: park again once it is gone).
      const existing = await deps.client.get<WarmBranch>(Kinds.WarmBranch, spec.eniId);
      if (
        existing === undefined ||
        existing.metadata.deletionTimestamp ||
        existing.spec.previousBranchUid !== spec.previousBranchUid
      ) {
        throw new OperatorError(
          `warm branch record ${spec.eniId} is still the previous holder's; parking again once it is gone`,
          { cause: error },
        );
      }
      warm = await deps.client.mergePatch<WarmBranch>(
        Kinds.WarmBranch,
        spec.eniId,
        { spec },
        existing.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {},
      );
    }
    warmBranchParkedTotal.inc();
    context.log.info('parked warm branch eni', {
      eni: spec.eniId,
      vlan: spec.vlanId,
      node: spec.nodeName,
      groups: spec.securityGroups,
    });
    return warm;
  } catch (error) {
    throw withContext(`keeping branch ENI ${spec.eniId} of pod ${podKeyOf(branch)} warm`, error);
  }
}
