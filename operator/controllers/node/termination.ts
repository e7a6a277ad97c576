/**
 * Node termination cleanup, run by the CNINode finalizer once the Node is gone (docs/lifecycle.md#what-happens-when): every
 * ENI made for that instance that is `available` — detached, so nothing uses it — is deleted at once. This
 * catches what the per-trunk release cannot see: branch ENIs that lost their association, a trunk ENI left
 * unattached by a crash, ENIs the VPC CNI created and EC2 detached at termination.
 *
 * Owners, as EKS matches them: ours, EKS's controller (a cluster migrated from EKS) and the VPC CNI's. The
 * instance-id tag and `available` status together make it safe: an ENI of a live instance is attached.
 */
import { ENI_OWNER, TAG } from '../../api/constants.ts';
import type { CallOptions, Ec2Api } from '../../aws/index.ts';
import { ignoreNotFound } from '../../aws/index.ts';
import type { ReconcileContext } from '../../framework/types.ts';

/** `eks:eni:owner` values whose available ENIs of a terminated instance are deleted. */
export const CLEANUP_OWNERS = [ENI_OWNER, 'eks-vpc-resource-controller', 'amazon-vpc-cni'];
const DELETE_CONCURRENCY = 4;

export async function deleteAvailableEnisOfInstance(
  ec2: Ec2Api,
  input: { instanceId: string; vpcId: string },
  context: ReconcileContext,
): Promise<string[]> {
  const call: CallOptions = { signal: context.signal, priority: 'normal' };
  const enis = await ec2.describeNetworkInterfaces(
    {
      status: ['available'],
      ...(input.vpcId ? { vpcId: input.vpcId } : {}),
      tags: { [TAG.owner]: CLEANUP_OWNERS, [TAG.instanceId]: [input.instanceId] },
    },
    call,
  );
  const deleted: string[] = [];
  const errors: unknown[] = [];
  const queue = enis.map((eni) => eni.id);
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await ec2.deleteNetworkInterface(id, call).catch(ignoreNotFound);
        deleted.push(id);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, enis.length) }, worker));
  if (deleted.length > 0)
    context.log.info('deleted enis of terminated node', { instance: input.instanceId, enis: deleted });
  if (errors.length > 0) {
    throw new AggregateError(
      errors,
      `deleting ${errors.length} of ${enis.length} available ENIs of instance ${input.instanceId} failed; retrying`,
    );
  }
  return deleted;
}
