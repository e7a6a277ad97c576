/** What every lifecycle step (create.ts, associate.ts, …) is given, and how its failures are classified. */
import type { BranchInterface } from '../../api/types.ts';
import type { Ec2Api } from '../../aws/index.ts';
import { Ec2InvalidInputError, needsOutsideFix } from '../../aws/index.ts';
import { OutsideFixError, TerminalError, withContext } from '../../errors.ts';
import type { Clock, KubeClient } from '../../framework/types.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ClusterSettings } from '../deps.ts';
import type { SubnetDirectory } from '../vpcnetwork/directory.ts';
import type { BranchEvents } from './events.ts';

export type BranchStatus = NonNullable<BranchInterface['status']>;

export interface BranchStepDeps {
  client: KubeClient;
  ec2: Ec2Api;
  clock: Clock;
  cluster: ClusterSettings;
  events: BranchEvents;
  /** VPC ranges: where a branch goes when the node's subnet is exhausted. */
  subnets: SubnetDirectory;
}

export interface StepContext {
  deps: BranchStepDeps;
  /** The branch with its effective status (see checkpoints.ts). */
  branch: BranchInterface;
  signal: AbortSignal;
  log: Logger;
}

/** "namespace/podName" of the branch's pod. */
export function podKeyOf(branch: BranchInterface): string {
  return `${branch.metadata.namespace ?? ''}/${branch.spec.podName}`;
}

/**
 * Adds what was being done to a step's error and says how it is retried (docs/failure-model.md):
 * - a request EC2 rejects as malformed fails the same way on every retry: a TerminalError, and the branch
 *   waits, with the Warning event already emitted, for its spec (the policies) to change;
 * - an IAM denial or an account limit is fixed outside the cluster, which sends no event: an OutsideFixError,
 *   retried on the long backoff, its hint in the message;
 * - anything else (throttling, server faults, not-yet-visible objects) is retried with the usual backoff.
 * The per-ENI group quota is handled before this, by the caller (see ./group-quota.ts).
 */
export function stepError(doing: string, error: unknown): Error {
  if (error instanceof Ec2InvalidInputError) {
    return new TerminalError(`${doing}: ${error.message}`, { cause: error });
  }
  if (needsOutsideFix(error)) {
    return new OutsideFixError(`${doing}: ${error.message}`, { cause: error });
  }
  return withContext(doing, error);
}

export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
