/**
 * Attaching: AttachNetworkInterface at the slot the plan chose (the highest free device index; ipamd fills
 * from the lowest, so the two rarely race), after granting INSTANCE-ATTACH to the association account in
 * the two-identity setup. When no slot is free, or the attach fails, the unattached ENI of this attempt is
 * deleted (attempts.ts); an attached trunk never is.
 */
import type { NetworkInterface } from '../../aws/index.ts';
import { OutsideFixError } from '../../errors.ts';
import { abandonAttempt } from './attempts.ts';
import type { TrunkStep } from './plan.ts';
import { withoutEni } from './status.ts';
import type { TrunkStepContext, TrunkStepOutcome } from './step.ts';
import { continueWith, isOurs, progressed, stepFailed } from './step.ts';

export async function attachTrunkEni(
  context: TrunkStepContext,
  step: Extract<TrunkStep, { kind: 'attach' }>,
): Promise<TrunkStepOutcome> {
  const { deps, trunk } = context;
  let attachmentId: string;
  try {
    const accountId = deps.cluster.trunkAssociationAccountId;
    if (accountId !== undefined) {
      await deps.ec2.createNetworkInterfacePermission(
        { networkInterfaceId: step.eniId, awsAccountId: accountId },
        context.call,
      );
    }
    attachmentId = await deps.ec2.attachNetworkInterface(
      {
        networkInterfaceId: step.eniId,
        instanceId: trunk.spec.instanceId,
        deviceIndex: step.deviceIndex,
        networkCardIndex: step.networkCardIndex,
      },
      context.call,
    );
  } catch (error) {
    const current = isOurs(context.facts.trunk) ? await abandonAttempt(context, step.eniId) : trunk;
    return stepFailed({ deps, trunk: current }, withoutEni(context.status), error, `attaching trunk ENI ${step.eniId}`);
  }
  context.log.info('attached trunk eni', {
    eni: step.eniId,
    deviceIndex: step.deviceIndex,
    attachment: attachmentId,
  });
  const status = { ...context.status, eniId: step.eniId, attachmentId };
  return continueWith(context, {
    trunk: await context.writeStatus(trunk, status),
    status,
    facts: {
      ...context.facts,
      trunk: attachedLocally(context.facts.trunk, trunk.spec.instanceId, attachmentId, step),
    },
  });
}

/**
 * The instance has no free ENI slot: a Failed status, the NoFreeENISlot event, and the ENI of this attempt
 * (if any) deleted. A slot frees up in EC2 (another ENI detached), which no watch reports: the long backoff.
 */
export async function noFreeSlot(
  context: TrunkStepContext,
  step: Extract<TrunkStep, { kind: 'no-free-slot' }>,
): Promise<TrunkStepOutcome> {
  const { deps } = context;
  const nodeName = context.trunk.spec.nodeName;
  const trunk =
    step.eniId !== undefined && isOurs(context.facts.trunk) ? await abandonAttempt(context, step.eniId) : context.trunk;
  deps.events.noFreeSlot(nodeName, step.message);
  const status = progressed({ deps, trunk }, withoutEni(context.status), {
    state: 'Failed',
    reason: 'NoFreeENISlot',
    message: step.message,
  });
  return { next: 'done', result: { trunk, status, error: new OutsideFixError(`node ${nodeName}: ${step.message}`) } };
}

/** The ENI as EC2 will describe it once the attach we just made is under way (saves a describe). */
export function attachedLocally(
  eni: NetworkInterface | undefined,
  instanceId: string,
  attachmentId: string,
  slot: { deviceIndex: number; networkCardIndex: number },
): NetworkInterface | undefined {
  if (eni === undefined) return undefined;
  return {
    ...eni,
    status: 'in-use',
    attachment: {
      attachmentId,
      instanceId,
      deviceIndex: slot.deviceIndex,
      networkCardIndex: slot.networkCardIndex,
      status: 'attaching',
      deleteOnTermination: false,
    },
  };
}
