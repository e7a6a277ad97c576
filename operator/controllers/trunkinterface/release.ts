/**
 * Node deletion (docs/lifecycle.md#what-happens-when): every branch ENI on the node's trunk is released at once — no cooldown,
 * since no pod on a deleted node can still be using it — then the TrunkInterface's finalizer goes.
 *
 * EKS waits 60 s before doing this so pod delete events arrive first; we do not need to, because the
 * BranchInterface objects of those pods are released by their own controller, and a branch released
 * twice is simply not found the second time. The trunk ENI itself is never deleted here: EC2 deletes it
 * with the instance (DeleteOnTermination), and a Node object deleted while its instance keeps running must
 * not lose its trunk. This runs only once a live GET shows the Node gone; see docs/lifecycle.md for who else
 * may release a branch, and when.
 */
import { TAG } from '../../api/constants.ts';
import type { TrunkInterface } from '../../api/types.ts';
import type { CallOptions, Ec2Api, TrunkAssociation } from '../../aws/index.ts';
import { Ec2UnauthorizedError, ignoreNotFound } from '../../aws/index.ts';
import { clientToken } from '../../aws/index.ts';
import type { ReconcileContext } from '../../framework/types.ts';

/** Branch releases in flight at once for one node (EC2's mutating bucket is shared with every other node). */
export const RELEASE_CONCURRENCY = 4;

export interface ReleaseResult {
  released: string[];
}

/** Disassociates and deletes every branch ENI tagged with the trunk's id; throws AggregateError on failures. */
export async function releaseBranchEnis(
  ec2: Ec2Api,
  trunk: TrunkInterface,
  trunkEniId: string,
  context: ReconcileContext,
): Promise<ReleaseResult> {
  const call: CallOptions = { signal: context.signal, priority: 'normal' };
  const branches = await ec2.describeNetworkInterfaces({ tags: { [TAG.trunkEniId]: [trunkEniId] } }, call);
  if (branches.length === 0) return { released: [] };

  const associations = await associationsOf(ec2, trunkEniId, call);
  const byBranch = new Map(associations.map((association) => [association.branchInterfaceId, association]));
  const uid = trunk.metadata.uid ?? trunk.metadata.name;

  const released: string[] = [];
  const errors: unknown[] = [];
  const queue = [...branches];
  const worker = async (): Promise<void> => {
    for (let branch = queue.shift(); branch !== undefined; branch = queue.shift()) {
      const association = byBranch.get(branch.id);
      try {
        if (association !== undefined) {
          await ec2
            .disassociateTrunkInterface(
              {
                associationId: association.associationId,
                clientToken: clientToken('release', uid, association.associationId),
              },
              call,
            )
            .catch(ignoreNotFound);
        }
        await ec2.deleteNetworkInterface(branch.id, call).catch(ignoreNotFound);
        released.push(branch.id);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RELEASE_CONCURRENCY, branches.length) }, worker));
  context.log.info('released branch enis of deleted node', {
    trunk: trunkEniId,
    released: released.length,
    failed: errors.length,
  });
  if (errors.length > 0) {
    throw new AggregateError(
      errors,
      `releasing ${errors.length} of ${branches.length} branch ENIs of trunk ${trunkEniId} (node ${trunk.spec.nodeName}) failed; retrying`,
    );
  }
  return { released };
}

/**
 * The trunk's associations. EKS never calls DescribeTrunkInterfaceAssociations because it is not available
 * to every assumed role; without it we delete the branches directly, which EC2 allows and which drops the
 * association with the ENI.
 */
async function associationsOf(ec2: Ec2Api, trunkEniId: string, call: CallOptions): Promise<TrunkAssociation[]> {
  try {
    return await ec2.describeTrunkInterfaceAssociations({ trunkInterfaceId: trunkEniId }, call);
  } catch (error) {
    if (error instanceof Ec2UnauthorizedError) return [];
    throw error;
  }
}
