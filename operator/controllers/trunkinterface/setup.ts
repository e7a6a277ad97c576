/**
 * Bringing a node's trunk ENI up (docs/lifecycle.md): gather what EC2 says (gather.ts), ask the pure plan
 * for the next step (plan.ts), run it (one file per step), and record progress in status before the next
 * EC2 call; repeat. Where a new trunk goes comes from the caller, which read the node's ENIConfig
 * (pod-network-sync.ts). Waiting (instance pending, the node's ENIConfig unusable, attachment in progress)
 * returns requeueAfterMs instead of sleeping. A crash between any two EC2 calls resumes at the right step:
 * every ENI we create carries our tags and is found again by them, and a failed attempt's unattached ENI is
 * deleted before the error goes up (attempts.ts).
 */
import type { TrunkInterface } from '../../api/types.ts';
import { OperatorError, OutsideFixError } from '../../errors.ts';
import type { ReconcileContext } from '../../framework/types.ts';
import { attachTrunkEni, noFreeSlot } from './attach.ts';
import { setDeleteOnTermination, waitAttached } from './attachment.ts';
import { deleteStray } from './attempts.ts';
import { createTrunkEni } from './create.ts';
import { gatherTrunkFacts } from './gather.ts';
import { ATTACH_POLL_BASE_MS, INSTANCE_WAIT_MS, nextTrunkStep, type TrunkFacts, type TrunkStep } from './plan.ts';
import { POD_NETWORK_RECHECK_MS } from './pod-network.ts';
import { describeTrunkSubnet, recordReady } from './ready.ts';
import type { SetupResult, StatusWriter, TrunkStepContext, TrunkStepDeps, TrunkStepOutcome } from './step.ts';
import { progressed } from './step.ts';

/** Upper bound on steps in one reconcile (create, attach, DoT, re-describe, subnet, ready, strays). */
const MAX_STEPS = 12;

export async function setUpTrunk(
  deps: TrunkStepDeps,
  initial: TrunkInterface,
  given: Pick<TrunkFacts, 'limits' | 'placement'>,
  writeStatus: StatusWriter,
  reconcile: ReconcileContext,
  pollAttempt: number,
): Promise<SetupResult> {
  const call = { signal: reconcile.signal, priority: 'critical' as const };
  const status = initial.status ?? {};
  const facts = await gatherTrunkFacts(deps, initial, given, call);
  if (facts === undefined) return instanceNotFound(deps, initial);

  let context: TrunkStepContext = { deps, trunk: initial, status, facts, call, log: reconcile.log, writeStatus };
  let redescribed = false;
  for (let i = 0; i < MAX_STEPS; i++) {
    const step = nextTrunkStep(context.facts);
    const outcome = await runStep(context, step, { redescribed, attempt: pollAttempt });
    if (outcome.next === 'done') return outcome.result;
    if (step.kind === 'wait-attached') redescribed = true;
    context = { ...context, ...outcome.progress };
  }
  return { trunk: context.trunk, status: context.status, requeueAfterMs: ATTACH_POLL_BASE_MS };
}

function runStep(
  context: TrunkStepContext,
  step: TrunkStep,
  poll: { redescribed: boolean; attempt: number },
): Promise<TrunkStepOutcome> | TrunkStepOutcome {
  switch (step.kind) {
    case 'wait-instance': {
      const status = progressed(context, context.status, {
        state: 'Pending',
        reason: 'InstanceNotRunning',
        message: step.message,
      });
      return { next: 'done', result: { trunk: context.trunk, status, requeueAfterMs: INSTANCE_WAIT_MS } };
    }
    case 'wait-pod-network': {
      const status = progressed(context, context.status, {
        state: 'Pending',
        reason: 'WaitingForPodNetwork',
        message: step.message,
      });
      return { next: 'done', result: { trunk: context.trunk, status, requeueAfterMs: POD_NETWORK_RECHECK_MS } };
    }
    case 'delete-stray':
      return deleteStray(context, step.eniId);
    case 'create':
      return createTrunkEni(context, step);
    case 'attach':
      return attachTrunkEni(context, step);
    case 'no-free-slot':
      return noFreeSlot(context, step);
    case 'set-delete-on-termination':
      return setDeleteOnTermination(context, step);
    case 'wait-attached':
      return waitAttached(context, step, poll);
    case 'describe-subnet':
      return describeTrunkSubnet(context, step);
    case 'ready':
      return recordReady(context, step);
    default: {
      const unreachable: never = step;
      throw new OperatorError(`unhandled trunk step ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The node's instance is not in EC2 (yet, or any more): wait for it, or for the node to be deleted. */
function instanceNotFound(deps: TrunkStepDeps, trunk: TrunkInterface): SetupResult {
  const { instanceId, nodeName } = trunk.spec;
  const status = progressed({ deps, trunk }, trunk.status ?? {}, {
    state: 'Pending',
    reason: 'InstanceNotFound',
    message: `instance ${instanceId} of node ${nodeName} does not exist in EC2; waiting for it (or for the node to be deleted)`,
  });
  return {
    trunk,
    status,
    error: new OutsideFixError(`instance ${instanceId} of node ${nodeName} does not exist in EC2`),
  };
}
