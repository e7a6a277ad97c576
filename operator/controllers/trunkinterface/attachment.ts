/**
 * Between the attach and Ready: DeleteOnTermination on the trunk's attachment, and waiting while EC2 attaches.
 * Waiting returns requeueAfterMs instead of sleeping: one describe within a reconcile, then polls on a
 * doubling interval (attachPollDelayMs).
 */
import { withContext } from '../../errors.ts';
import { attachPollDelayMs, type TrunkStep } from './plan.ts';
import type { TrunkStepContext, TrunkStepOutcome } from './step.ts';
import { continueWith, progressed } from './step.ts';

/**
 * If this fails the trunk stays attached and the next pass retries it; nothing can leak meanwhile, because a
 * terminated instance leaves the tagged trunk 'available' for the node cleanup to delete.
 */
export async function setDeleteOnTermination(
  context: TrunkStepContext,
  step: Extract<TrunkStep, { kind: 'set-delete-on-termination' }>,
): Promise<TrunkStepOutcome> {
  await context.deps.ec2
    .setDeleteOnTermination(
      { networkInterfaceId: step.eniId, attachmentId: step.attachmentId, deleteOnTermination: true },
      context.call,
    )
    .catch((error: unknown) => {
      throw withContext(
        `setting DeleteOnTermination on trunk ENI ${step.eniId} of node ${context.trunk.spec.nodeName}`,
        error,
      );
    });
  const eni = context.facts.trunk;
  if (eni?.attachment === undefined) return continueWith(context, {});
  return continueWith(context, {
    facts: { ...context.facts, trunk: { ...eni, attachment: { ...eni.attachment, deleteOnTermination: true } } },
  });
}

/**
 * The attachment is not settled yet: describe the ENI once per reconcile (it may have settled since the
 * facts were gathered), and after that come back later.
 */
export async function waitAttached(
  context: TrunkStepContext,
  step: Extract<TrunkStep, { kind: 'wait-attached' }>,
  poll: { redescribed: boolean; attempt: number },
): Promise<TrunkStepOutcome> {
  const status = progressed(context, context.status, {
    state: 'Attaching',
    reason: 'Attaching',
    message: step.message,
  });
  if (poll.redescribed) {
    return { next: 'done', result: { trunk: context.trunk, status, requeueAfterMs: attachPollDelayMs(poll.attempt) } };
  }
  const [fresh] = await context.deps.ec2.describeNetworkInterfaces({ ids: [step.eniId] }, context.call);
  return continueWith(context, { status, facts: { ...context.facts, trunk: fresh } });
}
