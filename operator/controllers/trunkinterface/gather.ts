/**
 * What EC2 says about the instance and its trunk, for the plan (plan.ts): the instance, our trunk ENIs for
 * it (by tag, so a crash right after a create finds the ENI again), and an attached trunk someone else made;
 * beside them what the reconciler already knows: the type's limits and where a new trunk goes.
 */
import type { TrunkInterface } from '../../api/types.ts';
import type { CallOptions } from '../../aws/index.ts';
import { ignoreNotFound, trunkEnisFilter } from '../../aws/index.ts';
import { attachedTrunkId, chooseTrunk, type TrunkFacts } from './plan.ts';
import { recordedSubnet } from './status.ts';
import type { TrunkStepDeps } from './step.ts';

/** Two describes (three when adopting a trunk we did not make); undefined when the instance is gone. */
export async function gatherTrunkFacts(
  deps: Pick<TrunkStepDeps, 'ec2' | 'cluster'>,
  trunk: TrunkInterface,
  given: Pick<TrunkFacts, 'limits' | 'placement'>,
  call: CallOptions,
): Promise<TrunkFacts | undefined> {
  const instanceId = trunk.spec.instanceId;
  const instance = await deps.ec2.describeInstance(instanceId, call).catch(ignoreNotFound);
  if (instance === undefined) return undefined;
  const ours = await deps.ec2.describeNetworkInterfaces(trunkEnisFilter(deps.cluster.clusterName, instanceId), call);
  const candidates = chooseTrunk(ours, attachedTrunkId(instance), trunk.status?.eniId);
  const current =
    candidates.describeAttachedId !== undefined
      ? (await deps.ec2.describeNetworkInterfaces({ ids: [candidates.describeAttachedId] }, call))[0]
      : candidates.trunk;
  return {
    instance,
    limits: given.limits,
    placement: given.placement,
    trunk: current,
    strays: candidates.strays,
    subnet: recordedSubnet(trunk.status, instance.vpcId),
  };
}
