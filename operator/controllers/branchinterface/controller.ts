/**
 * BranchInterfaceReconciler (key: namespace/name of a BranchInterface). Carries one pod's branch ENI
 * through its lifecycle. planBranchStep (./plan.ts) decides the next step from the status checkpoint, the
 * pod and the node's trunk; the step runs (one file per step) and its result is written to status before
 * the next step is planned, so within one reconcile a new branch goes Pending → Ready without a requeue,
 * and after a crash it resumes where status says it stopped.
 *
 * Failure behaviour, by kind:
 * - at capacity (in use + cooling down = the node's branch limit): one event, requeue after the cooldown,
 *   and an earlier wake-up when a sibling on the node is released (see ./index.ts);
 * - EC2 errors: thrown (per-key backoff) with a Warning event on the pod; a malformed request is a
 *   TerminalError and waits for the spec to change; an IAM denial or account limit is an OutsideFixError,
 *   retried on the long backoff (./step.ts); groups over the per-ENI quota are recorded in a condition and
 *   not retried until the policies change (./group-quota.ts);
 * - cooldown: requeueAfterMs until the release is due.
 *
 * Watches (./index.ts): BranchInterfaces (own key; a released sibling wakes the node's waiting branches),
 * Pods (a pod's branches: deleted, finished, annotated), TrunkInterfaces and Nodes (the node's branches).
 * Who may release a branch, and when, is in docs/lifecycle.md.
 */
import type { LeanPod } from '../../api/pod.ts';
import { BRANCH_NODE_NAME_INDEX, POD_NODE_NAME_INDEX } from '../../api/pod.ts';
import { BRANCH_FINALIZER } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../../api/types.ts';
import { OperatorError } from '../../errors.ts';
import { ensureFinalizer, keyFor, setCondition } from '../../framework/index.ts';
import type { KubeObject, Reader, ReconcileContext, ReconcileResult, Reconciler } from '../../framework/types.ts';
import {
  branchCapacityWaitsTotal,
  branchOperationsTotal,
  branchSubnetFallbacksTotal,
} from '../../observability/metrics.ts';
import type { CooldownSource } from '../deps.ts';
import { adoptBranchEni } from './adopt.ts';
import { allocateVlanForBranch } from './allocate.ts';
import { foreignVlans } from './annotation.ts';
import { annotatePod } from './annotate.ts';
import { associateBranchEni } from './associate.ts';
import { NODE_AT_CAPACITY_REASON } from './branch-gauges.ts';
import type { StatusCheckpoints } from './checkpoints.ts';
import { createBranchEni } from './create.ts';
import { groupsAppliedConditions } from './group-quota.ts';
import { modifyBranchGroups } from './modify-groups.ts';
import type { BranchStep } from './plan.ts';
import { isTrunkUsable, planBranchStep } from './plan.ts';
import { releaseBranch, requestRelease } from './release.ts';
import { noSubnetError, subnetForBranch } from './subnet.ts';
import { needsIpv6 } from '../podnetwork/settings.ts';
import type { BranchStatus, BranchStepDeps, StepContext } from './step.ts';
import type { VlanReservations } from './vlan-reservations.ts';

/** Steps one reconcile may take (a fresh branch needs five: VLAN, create, associate, annotate, groups). */
export const MAX_STEPS_PER_RECONCILE = 8;

export interface BranchReconcilerDeps extends BranchStepDeps {
  cooldown: CooldownSource;
  branches: Reader<BranchInterface>;
  pods: Reader<LeanPod>;
  trunks: Reader<TrunkInterface>;
  /** Nodes by name: only a Node object that is gone lets a running pod's branch go (docs/lifecycle.md). */
  nodes: Reader<KubeObject>;
  checkpoints: StatusCheckpoints;
  reservations: VlanReservations;
}

/** What running one step means for the reconcile loop. */
type StepOutcome =
  | { next: 'continue'; branch: BranchInterface }
  | { next: 'done'; requeueAfterMs?: number }
  /** adopt.ts refused the pod's annotated ENI: plan again, allocating a new one. */
  | { next: 'adoption-refused' };

export class BranchInterfaceReconciler implements Reconciler {
  readonly #deps: BranchReconcilerDeps;
  /**
   * UID of each branch this process released by its recorded ENI id, by key, until the cache shows the object
   * gone. The release's own writes (status Releasing, the delete, the finalizer removal) bring reconciles
   * while the cache still shows the object; planning from it would release the branch a second time (more
   * EC2 calls that can only answer NotFound). A branch released without an ENI id is not remembered: its
   * release looked the ENI up by tag, which EC2 answers eventually consistently, so a repeat is a second look.
   */
  readonly #released = new Map<string, string>();

  constructor(deps: BranchReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const cached = deps.branches.get(key);
    if (!cached) {
      deps.checkpoints.forget(key);
      this.#released.delete(key);
      return {};
    }
    const releasedUid = this.#released.get(key);
    if (releasedUid !== undefined && releasedUid === cached.metadata.uid) return {};
    this.#released.delete(key);
    let branch = deps.checkpoints.effective(key, cached);
    let liveNode: KubeObject | undefined;
    let adoptionRefused = false;
    for (let steps = 0; steps < MAX_STEPS_PER_RECONCILE; steps++) {
      const pod = deps.pods.get(keyFor(branch.metadata.namespace, branch.spec.podName));
      const trunk = deps.trunks.get(branch.spec.nodeName);
      const plan = (node: KubeObject | undefined) =>
        planBranchStep({
          branch,
          pod,
          trunk,
          node,
          nowMs: deps.clock.now(),
          cooldownMs: deps.cooldown.currentMs(),
          adoptionRefused,
        });
      let step = plan(deps.nodes.get(branch.spec.nodeName) ?? liveNode);
      if ('cause' in step && step.cause === 'NodeGone') {
        // Releasing for a gone node skips the cooldown, so the cache's word is not enough: ask the API server.
        liveNode = await deps.client.get<KubeObject>(Kinds.Node, branch.spec.nodeName);
        if (liveNode) step = plan(liveNode);
      }
      const outcome = await this.#run(step, key, branch, trunk, context);
      if (outcome.next === 'adoption-refused') {
        adoptionRefused = true;
        continue;
      }
      if (outcome.next === 'done')
        return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : {};
      branch = outcome.branch;
    }
    // Not expected: every step either advances status or ends the loop. Come back rather than spin.
    context.log.warn('branch did not settle within one reconcile', { steps: MAX_STEPS_PER_RECONCILE });
    return { requeueAfterMs: 1000 };
  }

  async #run(
    step: BranchStep,
    key: string,
    branch: BranchInterface,
    trunk: TrunkInterface | undefined,
    context: ReconcileContext,
  ): Promise<StepOutcome> {
    const deps = this.#deps;
    const stepContext: StepContext = { deps, branch, signal: context.signal, log: context.log };
    switch (step.step) {
      case 'none':
        return { next: 'done' };
      case 'wait-trunk':
        context.log.debug('branch waits for its trunk', { detail: step.message });
        return { next: 'done' };
      case 'wait-cooldown':
        return { next: 'done', requeueAfterMs: step.remainingMs };
      case 'add-finalizer': {
        const updated = await ensureFinalizer(deps.client, Kinds.BranchInterface, branch, BRANCH_FINALIZER);
        if (!updated) return { next: 'done' };
        return { next: 'continue', branch: { ...updated, status: branch.status } };
      }
      case 'request-release':
        return this.#continueWith(key, branch, requestRelease(stepContext, step.cause, deps.cooldown.currentMs()));
      case 'release':
        if (branch.status?.phase !== 'Releasing' && branch.status?.eniId) {
          branch = await this.#writeStatus(key, branch, { phase: 'Releasing' });
        }
        await releaseBranch({ ...stepContext, branch }, step.cause);
        deps.reservations.release(branch.metadata.uid ?? '');
        deps.checkpoints.forget(key);
        if (branch.metadata.uid && branch.status?.eniId) this.#released.set(key, branch.metadata.uid);
        return { next: 'done' };
      case 'adopt': {
        if (!isTrunkUsable(trunk)) return { next: 'done' };
        const siblings = deps.branches.byIndex(BRANCH_NODE_NAME_INDEX, branch.spec.nodeName);
        const adopted = await adoptBranchEni(stepContext, trunk, step.entry, siblings);
        if (adopted.outcome === 'refused') return { next: 'adoption-refused' };
        return this.#continueWith(key, branch, adopted.status);
      }
      case 'allocate-vlan':
        return this.#allocate(key, branch, trunk, context);
      case 'create-eni': {
        if (!isTrunkUsable(trunk)) return { next: 'done' };
        return this.#continueWith(key, branch, await createBranchEni(stepContext, trunk, step.securityGroups));
      }
      case 'associate': {
        if (!isTrunkUsable(trunk)) return { next: 'done' };
        return this.#continueWith(key, branch, await associateBranchEni(stepContext, trunk));
      }
      case 'annotate': {
        const result = await annotatePod(stepContext, step.annotation, step.needsPatch);
        // A replaced pod is not annotated; the pod watch brings the cache up to date and the release runs.
        if (result.outcome === 'pod-replaced') return { next: 'done' };
        if (result.status) await this.#writeStatus(key, branch, result.status);
        // Stop here: the cached pod does not show the annotation yet, so planning again now would annotate
        // again. The pod's update event brings the next reconcile (group drift, if any).
        return { next: 'done' };
      }
      case 'modify-groups':
        return this.#continueWith(key, branch, await modifyBranchGroups(stepContext, step.securityGroups));
      case 'wait-spec':
        context.log.debug('branch waits for its spec to change', { detail: step.message });
        return { next: 'done' };
      case 'record-groups-applied': {
        const conditions = groupsAppliedConditions(
          branch,
          step.securityGroups,
          new Date(deps.clock.now()).toISOString(),
        );
        if (!conditions) return { next: 'done' };
        return this.#continueWith(key, branch, { conditions });
      }
      default: {
        const unknown: never = step;
        throw new OperatorError(`unhandled branch step ${JSON.stringify(unknown)}`);
      }
    }
  }

  async #allocate(
    key: string,
    branch: BranchInterface,
    trunk: TrunkInterface | undefined,
    context: ReconcileContext,
  ): Promise<StepOutcome> {
    const deps = this.#deps;
    if (!isTrunkUsable(trunk)) return { next: 'done' };
    const siblings = deps.branches.byIndex(BRANCH_NODE_NAME_INDEX, branch.spec.nodeName);
    const capacity = trunk.status.branchCapacity;
    // VLANs of pods another controller wired that are not adopted yet (after a switch from EKS's controller).
    const otherPods = deps.pods
      .byIndex(POD_NODE_NAME_INDEX, branch.spec.nodeName)
      .filter((pod) => pod.metadata.name !== branch.spec.podName);
    const foreign = foreignVlans(otherPods, siblings);
    const allocation = allocateVlanForBranch(branch, siblings, capacity, deps.reservations, deps.clock.now(), foreign);
    const cooldownMs = deps.cooldown.currentMs();
    const nowIso = new Date(deps.clock.now()).toISOString();
    switch (allocation.outcome) {
      case 'allocated': {
        // The subnet is decided with the VLAN and checkpointed with it: the create that follows (and any
        // retry of it after a crash) asks EC2 for the ENI in this subnet.
        const subnet = subnetForBranch(trunk, deps.subnets, needsIpv6(deps.cluster.podNetwork));
        if (subnet.outcome === 'exhausted' || subnet.outcome === 'no-ipv6-block') {
          deps.reservations.release(branch.metadata.uid ?? '');
          const error = noSubnetError(subnet);
          deps.events.allocationFailed(branch, error);
          throw error;
        }
        try {
          if (subnet.outcome === 'pod-subnet') {
            branchSubnetFallbacksTotal.inc();
            deps.events.subnetFallback(branch, subnet.message);
          }
          branchOperationsTotal.inc({ operation: 'allocate_vlan', result: 'success' });
          context.log.info('allocated vlan', {
            vlan: allocation.vlanId,
            node: branch.spec.nodeName,
            subnet: subnet.subnet.subnetId,
          });
          return await this.#continueWith(key, branch, {
            phase: 'Creating',
            vlanId: allocation.vlanId,
            trunkEniId: trunk.status.eniId,
            ...subnet.subnet,
          });
        } catch (error) {
          deps.reservations.release(branch.metadata.uid ?? '');
          throw error;
        }
      }
      case 'at-capacity': {
        branchCapacityWaitsTotal.inc();
        const waiting = branch.status?.conditions?.find((c) => c.type === 'Ready')?.reason === NODE_AT_CAPACITY_REASON;
        if (!waiting) {
          deps.events.atCapacity(branch, allocation.holding, allocation.capacity, cooldownMs);
          await this.#writeStatus(key, branch, {
            phase: 'Pending',
            conditions: setCondition(
              branch.status?.conditions,
              {
                type: 'Ready',
                status: 'False',
                reason: NODE_AT_CAPACITY_REASON,
                message: `node ${branch.spec.nodeName} holds ${allocation.holding} of ${allocation.capacity} branch ENIs (in use or cooling down)`,
                observedGeneration: branch.metadata.generation,
              },
              nowIso,
            ),
          });
        }
        return { next: 'done', requeueAfterMs: cooldownMs };
      }
      case 'no-free-vlan':
        branchOperationsTotal.inc({ operation: 'allocate_vlan', result: 'error' });
        deps.events.allocationFailed(
          branch,
          new OperatorError(
            `failed to find free vlan id on trunk ${trunk.status.eniId} of node ${branch.spec.nodeName}`,
          ),
        );
        return { next: 'done', requeueAfterMs: cooldownMs };
      default: {
        const unknown: never = allocation;
        throw new OperatorError(`unhandled allocation ${JSON.stringify(unknown)}`);
      }
    }
  }

  async #continueWith(key: string, branch: BranchInterface, patch: Partial<BranchStatus>): Promise<StepOutcome> {
    return { next: 'continue', branch: await this.#writeStatus(key, branch, patch) };
  }

  /** Merge-patches status and remembers the result (see checkpoints.ts). Only this controller writes it. */
  async #writeStatus(key: string, branch: BranchInterface, patch: Partial<BranchStatus>): Promise<BranchInterface> {
    const deps = this.#deps;
    const updated = await deps.client.mergePatchStatus<BranchInterface>(Kinds.BranchInterface, key, {
      ...patch,
      observedGeneration: branch.metadata.generation,
    });
    deps.checkpoints.remember(key, updated);
    return updated;
  }
}
