/**
 * PodReconciler (key: namespace/name of a Pod). Decides, for each scheduled pod on a managed node that
 * requests vpc.amazonaws.com/pod-eni, which security groups its branch ENI carries, and records that as
 * the spec of the pod's BranchInterface. It never touches EC2: the BranchInterface controller turns the
 * spec into a branch ENI, and releases it when the pod goes (it watches pods itself).
 *
 * Watches (declared in ./index.ts): Pods (own key); SecurityGroupPolicies (a policy change re-evaluates the
 * pod-eni pods of its namespace); ServiceAccounts (pods running as it); TrunkInterfaces (a node becoming
 * managed enqueues its pods); BranchInterfaces (the pod a branch serves, e.g. after its predecessor's
 * branch is released).
 */
import type { LeanPod } from '../../api/pod.ts';
import { BRANCH_POD_INDEX, serviceAccountNameOf } from '../../api/pod.ts';
import { BRANCH_FINALIZER } from '../../api/constants.ts';
import { apiVersionOf, Kinds } from '../../api/kinds.ts';
import type { BranchInterface, SecurityGroupPolicy, TrunkInterface } from '../../api/types.ts';
import { OperatorError } from '../../errors.ts';
import { isConflict, keyFor } from '../../framework/index.ts';
import type {
  EventRecorder,
  KubeClient,
  KubeObject,
  Reader,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from '../../framework/types.ts';
import type { PodBranchPlan } from './decision.ts';
import { branchNameForPod, planPodBranch } from './decision.ts';
import { securityGroupsForPod } from './matching.ts';

export interface PodReconcilerDeps {
  client: KubeClient;
  recorder: EventRecorder;
  pods: Reader<LeanPod>;
  policies: Reader<SecurityGroupPolicy>;
  serviceAccounts: Reader<KubeObject>;
  trunks: Reader<TrunkInterface>;
  branches: Reader<BranchInterface>;
}

export class PodReconciler implements Reconciler {
  readonly #deps: PodReconcilerDeps;
  /**
   * Pod key → the BranchInterface this process created for it, until the cache shows it. Without this, a
   * reconcile right after the create would read a stale cache, see no branch, and try again under another
   * name (branchNameForPod) — a second branch, a second ENI.
   */
  readonly #created = new Map<string, BranchInterface>();
  /** Pod key → the last hold message emitted, so a held pod gets one Warning per distinct reason. */
  readonly #heldWith = new Map<string, { uid: string; message: string }>();

  constructor(deps: PodReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const pod = deps.pods.get(key);
    const uid = pod?.metadata.uid;
    if (!pod || !uid) {
      // The BranchInterface controller releases the ENI of a pod that is gone; nothing to decide here.
      this.#created.delete(key);
      this.#heldWith.delete(key);
      return {};
    }
    const namespace = pod.metadata.namespace ?? '';
    const branch = this.#branchOf(key, uid);
    const policies = deps.policies.list(namespace);
    const serviceAccount = deps.serviceAccounts.get(keyFor(namespace, serviceAccountNameOf(pod)));
    const match = securityGroupsForPod(pod, serviceAccount, policies);
    const nodeName = pod.spec?.nodeName;
    const plan = planPodBranch({
      pod,
      isNodeManaged: nodeName !== undefined && deps.trunks.get(nodeName) !== undefined,
      match,
      policies,
      branch,
    });
    await this.#apply(plan, key, pod, branch, context);
    return {};
  }

  async #apply(
    plan: PodBranchPlan,
    key: string,
    pod: LeanPod,
    branch: BranchInterface | undefined,
    context: ReconcileContext,
  ): Promise<void> {
    const deps = this.#deps;
    const uid = pod.metadata.uid ?? '';
    const held = this.#heldWith.get(key);
    if (plan.action !== 'hold') this.#heldWith.delete(key);
    switch (plan.action) {
      case 'none':
        return;
      case 'wait':
        context.log.debug('pod waits', { reason: plan.reason, detail: plan.message });
        return;
      case 'hold':
        if (held?.uid !== uid || held.message !== plan.message) {
          this.#heldWith.set(key, { uid, message: plan.message });
          deps.recorder.event(pod, plan.event.type, plan.event.reason, plan.event.message);
          context.log.info('pod held by an invalid policy', { reason: plan.reason, detail: plan.message });
        }
        return;
      case 'create': {
        const created = await this.#createBranch(key, pod, uid, plan.securityGroups, plan.matchedPolicies);
        if (plan.event) deps.recorder.event(pod, plan.event.type, plan.event.reason, plan.event.message);
        context.log.info('created branch interface', {
          branch: created.metadata.name,
          node: pod.spec?.nodeName,
          groups: plan.securityGroups,
          policies: plan.matchedPolicies,
        });
        return;
      }
      case 'update': {
        if (!branch) return;
        await deps.client.mergePatch<BranchInterface>(
          Kinds.BranchInterface,
          keyFor(branch.metadata.namespace, branch.metadata.name),
          // No resourceVersion precondition: this controller is the only writer of the spec, the patch
          // replaces both lists whole, and the branch controller's status writes would make one fail often.
          { spec: { securityGroups: plan.securityGroups, matchedPolicies: plan.matchedPolicies } },
        );
        if (plan.event) deps.recorder.event(pod, plan.event.type, plan.event.reason, plan.event.message);
        context.log.info('updated branch interface groups', {
          branch: branch.metadata.name,
          reason: plan.reason,
          groups: plan.securityGroups,
          policies: plan.matchedPolicies,
        });
        return;
      }
      default: {
        const unknown: never = plan;
        throw new OperatorError(`unhandled pod plan ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The BranchInterface serving this pod UID: from the cache, or the one this process just created. */
  #branchOf(podKey: string, uid: string): BranchInterface | undefined {
    const cached = this.#deps.branches.byIndex(BRANCH_POD_INDEX, podKey).find((b) => b.spec.podUid === uid);
    if (cached) {
      this.#created.delete(podKey);
      return cached;
    }
    const created = this.#created.get(podKey);
    return created?.spec.podUid === uid ? created : undefined;
  }

  async #createBranch(
    podKey: string,
    pod: LeanPod,
    uid: string,
    securityGroups: string[],
    matchedPolicies: string[],
  ): Promise<BranchInterface> {
    const deps = this.#deps;
    const namespace = pod.metadata.namespace ?? '';
    const occupant = deps.branches.get(keyFor(namespace, pod.metadata.name));
    const name = branchNameForPod(pod.metadata.name, uid, occupant);
    const desired: BranchInterface = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'BranchInterface',
      metadata: {
        name,
        namespace,
        // The branch is released by its own controller when the pod goes; the finalizer keeps the object
        // (and with it the ENI's record) until the ENI is deleted in EC2.
        finalizers: [BRANCH_FINALIZER],
        ownerReferences: [{ apiVersion: apiVersionOf(Kinds.Pod), kind: 'Pod', name: pod.metadata.name, uid }],
      },
      spec: {
        podName: pod.metadata.name,
        podUid: uid,
        nodeName: pod.spec?.nodeName ?? '',
        securityGroups,
        matchedPolicies,
      },
    };
    try {
      const created = await deps.client.create<BranchInterface>(Kinds.BranchInterface, desired);
      this.#created.set(podKey, created);
      return created;
    } catch (error) {
      // AlreadyExists: the cache is behind (ours, created earlier) or a predecessor's branch appeared there;
      // either way the next reconcile, with a fresher cache, decides again.
      if (isConflict(error))
        throw new OperatorError(`BranchInterface ${namespace}/${name} already exists; re-reading`, { cause: error });
      throw error;
    }
  }
}
