/**
 * Create attempts and the ENIs they leave. The create ClientToken is derived from the TrunkInterface UID and
 * the attempt number kept in an annotation: after we delete a failed attempt's ENI, the next create must use
 * a new token, because EC2 answers a reused token with the first (now deleted) ENI for at least 24 hours.
 */
import { Kinds } from '../../api/kinds.ts';
import type { TrunkInterface } from '../../api/types.ts';
import { ignoreNotFound } from '../../aws/index.ts';
import type { TrunkStepContext, TrunkStepOutcome } from './step.ts';
import { continueWith } from './step.ts';

/** Annotation counting failed create attempts whose ENI we deleted; part of the create ClientToken. */
export const CREATE_ATTEMPT_ANNOTATION = 'trunking.sgp-operator.io/trunk-create-attempt';

export function createAttempt(trunk: TrunkInterface): number {
  const value = Number(trunk.metadata.annotations?.[CREATE_ATTEMPT_ANNOTATION] ?? '0');
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/**
 * Deletes the unattached ENI of a failed attempt. The attempt counter moves first: if we crash in between,
 * the ENI is still tagged and the next pass attaches it instead; the reverse order could make the next
 * create reuse the old token and get the deleted ENI back.
 */
export async function abandonAttempt(context: TrunkStepContext, eniId: string): Promise<TrunkInterface> {
  const { deps, trunk } = context;
  const next = String(createAttempt(trunk) + 1);
  const updated = await deps.client.mergePatch<TrunkInterface>(Kinds.TrunkInterface, trunk.metadata.name, {
    metadata: { annotations: { [CREATE_ATTEMPT_ANNOTATION]: next } },
  });
  await deps.ec2.deleteNetworkInterface(eniId, context.call).catch(ignoreNotFound);
  context.log.info('deleted trunk eni of failed attempt', { eni: eniId, attempt: next });
  return updated;
}

/** An unattached trunk ENI of ours left by an earlier attempt (the plan keeps one, the others go). */
export async function deleteStray(context: TrunkStepContext, eniId: string): Promise<TrunkStepOutcome> {
  await context.deps.ec2.deleteNetworkInterface(eniId, context.call).catch(ignoreNotFound);
  context.log.info('deleted stray trunk eni', { eni: eniId });
  return continueWith(context, {
    facts: { ...context.facts, strays: context.facts.strays.filter((id) => id !== eniId) },
  });
}
