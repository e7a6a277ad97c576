/**
 * The last steps: learn the trunk subnet's CIDRs (the VPC CNI needs them in every pod's annotation), then
 * record the trunk Ready with everything the branch side reads from status (the primary ENI's groups and
 * connection tracking included).
 */
import { Ec2NotFoundError } from '../../aws/index.ts';
import type { TrunkStep } from './plan.ts';
import { readyFields } from './status.ts';
import type { TrunkStepContext, TrunkStepOutcome } from './step.ts';
import { continueWith, progressed } from './step.ts';

export async function describeTrunkSubnet(
  context: TrunkStepContext,
  step: Extract<TrunkStep, { kind: 'describe-subnet' }>,
): Promise<TrunkStepOutcome> {
  const [subnet] = await context.deps.ec2.describeSubnets({ ids: [step.subnetId] }, context.call);
  if (subnet === undefined) {
    throw new Ec2NotFoundError(`subnet ${step.subnetId} of trunk ENI not found`, {
      code: 'InvalidSubnetID.NotFound',
      action: 'DescribeSubnets',
    });
  }
  return continueWith(context, { facts: { ...context.facts, subnet } });
}

export function recordReady(context: TrunkStepContext, step: Extract<TrunkStep, { kind: 'ready' }>): TrunkStepOutcome {
  const status = progressed(
    context,
    context.status,
    {
      state: 'Ready',
      reason: 'TrunkAttached',
      message: `trunk ENI ${step.trunk.id} is attached to ${context.trunk.spec.instanceId} at device index ${step.trunk.attachment?.deviceIndex ?? '?'}`,
    },
    readyFields(step.trunk, step.subnet, context.facts.instance),
  );
  return { next: 'done', result: { trunk: context.trunk, status } };
}
