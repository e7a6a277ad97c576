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
 * Pods (a pod's branches: deleted, finished, annotated), TrunkInterfaces and Nodes (the node's branches),
 * WarmBranches (a node's waiting branches may take a warm ENI). Who may release a branch, and when, is in
 * docs/lifecycle.md; how a released ENI is kept warm and taken over, in docs/warm-branches.md.
 */
import type { LeanPod } from '../../api/pod.ts';
import { BRANCH_NODE_NAME_INDEX, POD_NODE_NAME_INDEX } from '../../api/pod.ts';
import { BRANCH_FINALIZER } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../api/types.ts';
import { WARM_BRANCH_NODE_INDEX } from '../../api/warm-branch.ts';
import { OperatorError } from '../../errors.ts';
import { ensureFinalizer, keyFor, setCondition } from '../../framework/index.ts';
import type { KubeObject, Reader, ReconcileContext, ReconcileResult, Reconciler } from '../../framework/types.ts';
import {
  branchCapacityWaitsTotal,
  branchOperationsTotal,
  branchSubnetFallbacksTotal,
  warmBranchReuseTotal,
} from '../../observability/metrics.ts';
import type { CooldownSource } from '../deps.ts';
import { adoptBranchEni } from './adopt.ts';
import { allocateVlanForBranch } from './allocate.ts';
import { foreignVlans } from './annotation.ts';
import { annotatePod } from './annotate.ts';
import { associateBranchEni } from './associate.ts';
import { NODE_AT_CAPACITY_REASON } from './branch-gauges.ts';
import type { StatusCheckpoints } from '../../framework/index.ts';
import { createBranchEni } from './create.ts';
import { groupsAppliedConditions } from './group-quota.ts';
import { modifyBranchGroups } from './modify-groups.ts';
import type { BranchStep } from './plan.ts';
import type { ReleaseCause } from './plan.ts';
import { desiredSecurityGroups, isTrunkUsable, planBranchStep } from './plan.ts';
import { parkBranchEni } from './park.ts';
import { releaseBranch, removeBranchInterface, requestRelease } from './release.ts';
import { reuseStatus } from './reuse.ts';
import { branchSubnetIds, nodeBranchSubnet, noSubnetError, subnetForBranch } from './subnet.ts';
import { needsIpv6 } from '../podnetwork/settings.ts';
import type { BranchStatus, BranchStepDeps, StepContext } from './step.ts';
import type { VlanReservations } from './vlan-reservations.ts';
import type { WarmClaims } from './warm-claims.ts';
import type { NodeLike } from './warm-controller.ts';
import { nodeStateOf } from './warm-controller.ts';
import type { WarmSettingsSource } from './warm-settings.ts';
import type { HandoverDecision, NodeBranchNetwork } from './warm.ts';
import { chooseWarmBranch, decideHandover, eniIdsHeldByBranches } from './warm.ts';

/** Steps one reconcile may take (a fresh branch needs five: VLAN, create, associate, annotate, groups). */
export const MAX_STEPS_PER_RECONCILE = 8;

export interface BranchReconcilerDeps extends BranchStepDeps {
  cooldown: CooldownSource;
  branches: Reader<BranchInterface>;
  pods: Reader<LeanPod>;
  trunks: Reader<TrunkInterface>;
  /**
   * Nodes by name: only a Node object that is gone lets a running pod's branch go (docs/lifecycle.md); a
   * cordoned node parks no released ENI (docs/warm-branches.md#the-pools-bounds).
   */
  nodes: Reader<NodeLike>;
  checkpoints: StatusCheckpoints<BranchInterface>;
  reservations: VlanReservations;
  /** Warm branch ENIs (docs/warm-branches.md): the records, the claims in flight, the live limits. */
  warm: Reader<WarmBranch>;
  claims: WarmClaims;
  warmSettings: WarmSettingsSource;
}

/** What running one step means for the reconcile loop. */
type StepOutcome =
  | { next: 'continue'; branch: BranchInterface }
  | { next: 'done'; requeueAfterMs?: number }
  /** adopt.ts refused the pod's annotated ENI: plan again, allocating a new one. */
  | { next: 'adoption-refused' };

/** A warm ENI as a VLAN holder for the allocation (it keeps its VLAN on the trunk). */
function warmAsVlanHolder(warm: WarmBranch): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: warm.metadata.name, ...(warm.metadata.uid ? { uid: warm.metadata.uid } : {}) },
    spec: { podName: '', podUid: '', nodeName: warm.spec.nodeName, securityGroups: [] },
    status: { vlanId: warm.spec.vlanId },
  };
}

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
      case 'release': {
        const handover = this.#handover(branch, step.cause, trunk);
        if (handover.outcome === 'delete') {
          if (branch.status?.phase !== 'Releasing' && branch.status?.eniId) {
            branch = await this.#writeStatus(key, branch, { phase: 'Releasing' });
          }
          await releaseBranch({ ...stepContext, branch }, step.cause);
        } else {
          // The ENI stays: recorded as warm now (park), or already recorded elsewhere (forget).
          if (handover.outcome === 'park' && trunk) {
            const warm = await parkBranchEni(stepContext, trunk);
            // Hold the VLAN for the record until the cache shows it (the branch that held it is about to go).
            deps.reservations.reserve(
              warm.metadata.uid ?? '',
              branch.spec.nodeName,
              warm.spec.vlanId,
              deps.clock.now(),
            );
          }
          await removeBranchInterface({ ...stepContext, branch });
          context.log.info('dropped branch record, eni kept', {
            eni: branch.status?.eniId,
            handover: handover.outcome,
          });
        }
        deps.reservations.release(branch.metadata.uid ?? '');
        deps.checkpoints.forget(key);
        if (branch.metadata.uid && branch.status?.eniId) this.#released.set(key, branch.metadata.uid);
        return { next: 'done' };
      }
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
      case 'modify-groups': {
        // What EC2 holds is unknown from the call on: a crash after it must not leave status (and a warm
        // record made from it) naming groups the ENI may no longer carry. [] means "unknown" (see warm.ts).
        const previous = branch.status?.appliedSecurityGroups ?? [];
        if (previous.length > 0) branch = await this.#writeStatus(key, branch, { appliedSecurityGroups: [] });
        const applied = await modifyBranchGroups({ ...stepContext, branch }, step.securityGroups, previous);
        return this.#continueWith(key, branch, applied);
      }
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
    const warmOnNode = deps.warm.byIndex(WARM_BRANCH_NODE_INDEX, branch.spec.nodeName);
    const reused = await this.#takeOverWarm(key, branch, trunk, siblings, warmOnNode, context);
    if (reused !== undefined) return reused;
    const capacity = trunk.status.branchCapacity;
    // VLANs of pods another controller wired that are not adopted yet (after a switch from EKS's controller).
    const otherPods = deps.pods
      .byIndex(POD_NODE_NAME_INDEX, branch.spec.nodeName)
      .filter((pod) => pod.metadata.name !== branch.spec.podName);
    const foreign = foreignVlans(otherPods, siblings);
    // Warm ENIs hold their VLANs (and node capacity) until a pod takes them or they are released.
    const holders = [...siblings, ...warmOnNode.map(warmAsVlanHolder)];
    const allocation = allocateVlanForBranch(branch, holders, capacity, deps.reservations, deps.clock.now(), foreign);
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

  /**
   * Takes over a warm ENI on the node, if one is free (docs/warm-branches.md#who-owns-the-eni-at-each-instant): claim in memory, record the ENI
   * in status (the branch owns it from here). Groups and annotation follow in the plan; the WarmBranch
   * reconciler drops the warm record, off this pod's path (a record whose ENI a branch records is never handed
   * out or released, so it may linger for a moment).
   */
  async #takeOverWarm(
    key: string,
    branch: BranchInterface,
    trunk: TrunkInterface & { status: { eniId: string; subnetId: string } },
    siblings: readonly BranchInterface[],
    warmOnNode: readonly WarmBranch[],
    context: ReconcileContext,
  ): Promise<StepOutcome | undefined> {
    const deps = this.#deps;
    const uid = branch.metadata.uid ?? '';
    if (warmOnNode.length === 0) {
      if (deps.warmSettings.current().limitPerNode > 0) warmBranchReuseTotal.inc({ result: 'miss' });
      return undefined;
    }
    const claimed = eniIdsHeldByBranches(siblings, warmOnNode);
    for (const eniId of deps.claims.claimedEniIds()) claimed.add(eniId);
    const securityGroups = desiredSecurityGroups(branch, trunk);
    const choice = chooseWarmBranch({
      warmOnNode,
      claimedEniIds: claimed,
      retiringEniIds: deps.claims.retiringEniIds(),
      securityGroups,
      trunkEniId: trunk.status.eniId,
      // Until the tagged subnets are read, only the node's branch subnet, where a new ENI would go first.
      network: this.#nodeNetwork(trunk) ?? {
        subnetIds: new Set([nodeBranchSubnet(trunk).subnetId]),
        needsIpv6: needsIpv6(deps.cluster.podNetwork),
      },
    });
    if (choice.outcome === 'none' || !deps.claims.tryClaim(choice.warm.spec.eniId, uid)) {
      warmBranchReuseTotal.inc({ result: 'miss' });
      return undefined;
    }
    const warm = choice.warm;
    let updated: BranchInterface;
    try {
      deps.reservations.reserve(uid, branch.spec.nodeName, warm.spec.vlanId, deps.clock.now());
      updated = await this.#writeStatus(key, branch, reuseStatus(warm, securityGroups));
      deps.claims.markRecorded(warm.spec.eniId, uid);
    } catch (error) {
      deps.claims.unclaim(warm.spec.eniId, uid);
      deps.reservations.release(uid);
      throw error;
    }
    warmBranchReuseTotal.inc({ result: choice.outcome === 'same-groups' ? 'same_groups' : 'other_groups' });
    deps.events.warmReused(
      branch,
      warm.spec.eniId,
      warm.spec.vlanId,
      choice.outcome === 'same-groups' ? 'kept' : 'set',
    );
    context.log.info('took over warm branch eni', {
      eni: warm.spec.eniId,
      vlan: warm.spec.vlanId,
      groups: warm.spec.securityGroups,
      wanted: securityGroups,
    });
    return { next: 'continue', branch: updated };
  }

  /** Park, forget or delete the ENI of a branch being released (pure decision in warm.ts). */
  #handover(branch: BranchInterface, cause: ReleaseCause, trunk: TrunkInterface | undefined): HandoverDecision {
    const deps = this.#deps;
    const eniId = branch.status?.eniId;
    const uid = branch.metadata.uid;
    const claimant = eniId !== undefined ? deps.claims.claimantOf(eniId) : undefined;
    const isHeldByAnotherBranch =
      eniId !== undefined &&
      ((claimant !== undefined && claimant !== uid) ||
        deps.branches
          .byIndex(BRANCH_NODE_NAME_INDEX, branch.spec.nodeName)
          .some((other) => other.metadata.uid !== uid && other.status?.eniId === eniId));
    // The record of this branch's own takeover (if a crash left it) is being dropped: it does not count.
    const warmOnNode = deps.warm
      .byIndex(WARM_BRANCH_NODE_INDEX, branch.spec.nodeName)
      .filter((warm) => !(warm.metadata.name === branch.status?.reusedFrom && warm.spec.previousBranchUid !== uid));
    return decideHandover({
      branch,
      cause,
      trunk,
      node: nodeStateOf(deps.nodes.get(branch.spec.nodeName)),
      warmOnNode,
      isHeldByAnotherBranch,
      network: isTrunkUsable(trunk) ? this.#nodeNetwork(trunk) : undefined,
      settings: deps.warmSettings.current(),
    });
  }

  /** Where the node's new branch ENIs may go (subnets, IP family); undefined while the tagged subnets are unread. */
  #nodeNetwork(trunk: TrunkInterface & { status: { subnetId: string } }): NodeBranchNetwork | undefined {
    const subnetIds = branchSubnetIds(trunk, this.#deps.subnets);
    return subnetIds === undefined ? undefined : { subnetIds, needsIpv6: needsIpv6(this.#deps.cluster.podNetwork) };
  }

  async #continueWith(key: string, branch: BranchInterface, patch: Partial<BranchStatus>): Promise<StepOutcome> {
    return { next: 'continue', branch: await this.#writeStatus(key, branch, patch) };
  }

  /** Merge-patches status and remembers the result (see framework/status-checkpoints.ts). Only this controller writes it. */
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
