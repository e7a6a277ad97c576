/**
 * What every step of bringing a trunk up (create.ts, attach.ts, …) is given, what it hands back, and how
 * an EC2 failure becomes a Failed status and an error (docs/failure-model.md).
 */
import { ENI_OWNER, TAG } from '../../api/constants.ts';
import type { TrunkInterface } from '../../api/types.ts';
import type { CallOptions, Ec2Api, NetworkInterface } from '../../aws/index.ts';
import { Ec2Error, isRetryable } from '../../aws/index.ts';
import { OutsideFixError, withContext } from '../../errors.ts';
import type { Clock, KubeClient } from '../../framework/types.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ClusterSettings } from '../deps.ts';
import type { TrunkEvents } from './events.ts';
import type { TrunkFacts } from './plan.ts';
import { withProgress, type Progress, type TrunkStatus } from './status.ts';

export interface TrunkStepDeps {
  ec2: Ec2Api;
  client: KubeClient;
  clock: Clock;
  cluster: ClusterSettings;
  events: TrunkEvents;
}

/** Writes status now (progress must be on record before the next EC2 call); returns the object as written. */
export type StatusWriter = (trunk: TrunkInterface, status: TrunkStatus) => Promise<TrunkInterface>;

/** Where the setup stands between two steps: the object as last written, the status so far, what EC2 says. */
export interface TrunkProgress {
  trunk: TrunkInterface;
  status: TrunkStatus;
  facts: TrunkFacts;
}

export interface TrunkStepContext extends TrunkProgress {
  deps: TrunkStepDeps;
  call: CallOptions;
  log: Logger;
  writeStatus: StatusWriter;
}

export interface SetupResult {
  trunk: TrunkInterface;
  status: TrunkStatus;
  requeueAfterMs?: number;
  /** The error to throw after status is written (retry with back-off). */
  error?: Error;
}

/** What a step means for the setup loop: plan the next step from the new progress, or stop with a result. */
export type TrunkStepOutcome = { next: 'continue'; progress: TrunkProgress } | { next: 'done'; result: SetupResult };

export function continueWith(context: TrunkStepContext, changes: Partial<TrunkProgress>): TrunkStepOutcome {
  return {
    next: 'continue',
    progress: { trunk: context.trunk, status: context.status, facts: context.facts, ...changes },
  };
}

/** `status` with a new state and Ready condition, stamped with the injected clock. */
export function progressed(
  context: Pick<TrunkStepContext, 'deps' | 'trunk'>,
  status: TrunkStatus,
  progress: Progress,
  fields: Partial<TrunkStatus> = {},
): TrunkStatus {
  return withProgress(context.trunk, status, progress, new Date(context.deps.clock.now()).toISOString(), fields);
}

/** An ENI carrying our owner tag (created by this operator, so ours to delete when an attempt fails). */
export function isOurs(eni: NetworkInterface | undefined): boolean {
  return eni?.tags[TAG.owner] === ENI_OWNER;
}

/**
 * A failed EC2 step: Failed state, the EKS events, and how to come back. Throttling and server faults are
 * thrown (back-off); every other EC2 refusal needs a fix outside the cluster (IAM, the trunking allow-list,
 * a quota, the subnet's addresses) and is an OutsideFixError, retried on the long backoff so the fix takes
 * effect without anyone touching the node.
 */
export function stepFailed(
  context: Pick<TrunkStepContext, 'deps' | 'trunk'>,
  status: TrunkStatus,
  error: unknown,
  doing: string,
): TrunkStepOutcome {
  const { deps, trunk } = context;
  const nodeName = trunk.spec.nodeName;
  deps.events.creationFailed(nodeName, error);
  const code = error instanceof Ec2Error ? error.code : 'Error';
  const next = progressed(context, status, {
    state: 'Failed',
    reason: 'TrunkENICreationFailed',
    message: `${doing} failed: ${code}: ${error instanceof Error ? error.message : String(error)}`,
  });
  const thrown =
    isRetryable(error) || !(error instanceof Ec2Error)
      ? withContext(`${doing} for node ${nodeName}`, error)
      : // The code goes in the message: it is what the user searches for (UnauthorizedOperation, …).
        new OutsideFixError(`${doing} for node ${nodeName}: ${code}: ${error.message}`, { cause: error });
  return { next: 'done', result: { trunk, status: next, error: thrown } };
}
