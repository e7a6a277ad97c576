/**
 * (no trunk) → Attaching: CreateNetworkInterface with InterfaceType trunk where the plan places it (the
 * instance's subnet with the primary ENI's groups, or the node's ENIConfig's subnet and groups), with the
 * primary ENI's connection tracking (docs/networks.md#connection-tracking). No orphans: the ENI carries our
 * tags (owner, cluster, instance, node), so a crash right after the create finds it again by tag on the next
 * pass (gather.ts) and attaches it, or deletes it as a stray. Its id goes to status before the next EC2 call.
 */ import { TRUNK_ENI_DESCRIPTION } from '../../api/constants.ts';
import type { NetworkInterface } from '../../aws/index.ts';
import { clientToken, trunkEniTags } from '../../aws/index.ts';
import { createAttempt } from './attempts.ts';
import type { TrunkStep } from './plan.ts';
import type { TrunkStepContext, TrunkStepOutcome } from './step.ts';
import { continueWith, progressed, stepFailed } from './step.ts';

export async function createTrunkEni(
  context: TrunkStepContext,
  step: Extract<TrunkStep, { kind: 'create' }>,
): Promise<TrunkStepOutcome> {
  const { deps, trunk } = context;
  const status = progressed(context, context.status, {
    state: 'Creating',
    reason: 'Creating',
    message: step.message,
  });
  let created: NetworkInterface;
  try {
    created = await deps.ec2.createNetworkInterface(
      {
        subnetId: step.subnetId,
        securityGroupIds: step.securityGroupIds,
        description: TRUNK_ENI_DESCRIPTION,
        interfaceType: 'trunk',
        ...(step.connectionTracking === undefined ? {} : { connectionTracking: step.connectionTracking }),
        tags: trunkEniTags({
          clusterName: deps.cluster.clusterName,
          instanceId: trunk.spec.instanceId,
          nodeName: trunk.spec.nodeName,
        }),
        clientToken: clientToken('trunk', trunk.metadata.uid ?? '', createAttempt(trunk)),
      },
      context.call,
    );
  } catch (error) {
    return stepFailed(context, status, error, 'creating the trunk ENI');
  }
  context.log.info('created trunk eni', { eni: created.id, subnet: created.subnetId });
  const attaching = progressed(
    context,
    status,
    {
      state: 'Attaching',
      reason: 'Attaching',
      message: `attaching trunk ENI ${created.id} to ${trunk.spec.instanceId}`,
    },
    {
      eniId: created.id,
      subnetId: created.subnetId,
      availabilityZone: created.availabilityZone,
      securityGroups: [...created.securityGroupIds].sort(),
    },
  );
  return continueWith(context, {
    trunk: await context.writeStatus(trunk, attaching),
    status: attaching,
    facts: { ...context.facts, trunk: created },
  });
}
