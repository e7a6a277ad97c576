/**
 * PodReconciler (key: namespace/name of a Pod). Decides, for each scheduled pod on a managed node that
 * requests vpc.amazonaws.com/pod-eni, which security groups its branch ENI carries, and records that as
 * the spec of the pod's BranchInterface. It never touches EC2: the BranchInterface controller turns the
 * spec into a branch ENI, and releases it when the pod goes (it watches pods itself).
 *
 * Security groups by annotation (annotation-groups.ts) are judged here again, not only at admission: the
 * webhook may have been down, and the namespace label or the allow-list may have changed since. Only allowed
 * groups reach the BranchInterface; refused ones get a Warning event on the pod, once per distinct message.
 *
 * The pod-eni annotation is re-checked here too (pod-eni-annotation.ts): an annotation the operator did not
 * write (no BranchInterface of the pod, or another ENI than it records) is removed, with a Warning event and
 * a metric, so a forgery that got past admission does not stay on the pod.
 *
 * Watches (declared in ./index.ts): Pods (own key); SecurityGroupPolicies (a policy change re-evaluates the
 * pod-eni pods of its namespace); ServiceAccounts (pods running as it: labels and annotation); Namespaces
 * (the annotation opt-in label); TrunkInterfaces (a node becoming managed enqueues its pods);
 * BranchInterfaces (the pod a branch serves, e.g. after its predecessor's branch is released).
 */
import type { LeanPod } from '../../api/pod.ts';
import { BRANCH_POD_INDEX, serviceAccountNameOf, toLeanPod } from '../../api/pod.ts';
import { BRANCH_FINALIZER, POD_ENI_ANNOTATION } from '../../api/constants.ts';
import { apiVersionOf, Kinds } from '../../api/kinds.ts';
import type { BranchInterface, SecurityGroupGrant, SecurityGroupPolicy, TrunkInterface } from '../../api/types.ts';
import { OperatorError, withContext } from '../../errors.ts';
import { isConflict, isNotFound, KubeApiError, keyFor, splitKey } from '../../framework/index.ts';
import type {
  EventRecorder,
  KubeClient,
  KubeObject,
  Reader,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from '../../framework/types.ts';
import { podEniAnnotationsForgedTotal, securityGroupAnnotationRefusalsTotal } from '../../observability/metrics.ts';
import type { SecurityGroupAnnotationRule } from './annotation-groups.ts';
import type { PodBranchPlan, PodEvent } from './decision.ts';
import { annotationRefusalEvent, branchNameForPod, planPodBranch, ungrantedPolicies } from './decision.ts';
import type { PodMatch } from './matching.ts';
import { securityGroupsForPod } from './matching.ts';
import { forgedAnnotationEvent, forgeryMetricReason, judgePodEniAnnotation } from './pod-eni-annotation.ts';

/** JSON pointer (RFC 6901) of the pod-eni annotation: '/' in the key is escaped as '~1'. */
const POD_ENI_ANNOTATION_POINTER = `/metadata/annotations/${POD_ENI_ANNOTATION.replaceAll('~', '~0').replaceAll('/', '~1')}`;

export interface PodReconcilerDeps {
  client: KubeClient;
  recorder: EventRecorder;
  pods: Reader<LeanPod>;
  policies: Reader<SecurityGroupPolicy>;
  serviceAccounts: Reader<KubeObject>;
  namespaces: Reader<KubeObject>;
  trunks: Reader<TrunkInterface>;
  branches: Reader<BranchInterface>;
  /** --enable-security-group-annotations and its allow-list. */
  securityGroupAnnotations: SecurityGroupAnnotationRule;
  /** SecurityGroupGrants; absent: none (every group allowed, as on EKS). */
  grants?: Reader<SecurityGroupGrant>;
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
  /** Pod key → the last annotation refusal emitted, so a pod gets one Warning per distinct refusal. */
  readonly #refusedWith = new Map<string, { uid: string; message: string }>();

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
      this.#refusedWith.delete(key);
      if (!pod) {
        const { namespace = '', name } = splitKey(key);
        deps.recorder.forget(Kinds.Pod.kind, namespace, name);
      }
      return {};
    }
    const namespace = pod.metadata.namespace ?? '';
    const branch = this.#branchOf(key, uid);
    await this.#removeForgedPodEniAnnotation(key, pod, branch, context);
    const policies = deps.policies.list(namespace);
    const serviceAccount = deps.serviceAccounts.get(keyFor(namespace, serviceAccountNameOf(pod)));
    const match = securityGroupsForPod(pod, serviceAccount, policies, {
      namespaceLabels: deps.namespaces.get(namespace)?.metadata.labels,
      rule: deps.securityGroupAnnotations,
    });
    this.#reportRefusals(key, pod, match, context);
    const nodeName = pod.spec?.nodeName;
    const plan = planPodBranch({
      pod,
      isNodeManaged: nodeName !== undefined && deps.trunks.get(nodeName) !== undefined,
      match,
      policies,
      branch,
      ungranted: ungrantedPolicies(policies, match.matchedPolicies, {
        grants: deps.grants?.list() ?? [],
        namespace,
        namespaceLabels: deps.namespaces.get(namespace)?.metadata.labels,
      }),
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

  /** A Warning (and the refusals metric) the first time a pod's annotation refusals read this way. */
  #reportRefusals(key: string, pod: LeanPod, match: PodMatch, context: ReconcileContext): void {
    const uid = pod.metadata.uid ?? '';
    const event: PodEvent | undefined = annotationRefusalEvent(pod, match);
    if (!event) {
      this.#refusedWith.delete(key);
      return;
    }
    const last = this.#refusedWith.get(key);
    if (last?.uid === uid && last.message === event.message) return;
    this.#refusedWith.set(key, { uid, message: event.message });
    this.#deps.recorder.event(pod, event.type, event.reason, event.message);
    for (const refusal of match.refusals) {
      securityGroupAnnotationRefusalsTotal.inc({ where: 'pod-controller', reason: refusal.reason });
    }
    context.log.info('refused security group annotation', {
      reasons: match.refusals.map((refusal) => refusal.reason),
      refused: match.refusals.flatMap((refusal) => refusal.refused),
    });
  }

  /**
   * Removes a vpc.amazonaws.com/pod-eni annotation the operator did not write. The caches alone never condemn
   * one: the pod cache may show an annotation the branch controller just wrote (on this replica, or on the
   * leader before a handover) while the BranchInterface cache still lacks the status it was written from. So a
   * "forged" verdict is taken again from live reads, the pod first and then its BranchInterfaces: the operator
   * records a branch's ENI in status before it annotates, so BranchInterfaces read after the pod show every ENI
   * an annotation the operator wrote could name. The removal tests the UID and the exact value it judged, so an
   * annotation the operator writes in between is never removed.
   */
  async #removeForgedPodEniAnnotation(
    key: string,
    pod: LeanPod,
    branch: BranchInterface | undefined,
    context: ReconcileContext,
  ): Promise<void> {
    const deps = this.#deps;
    const isNodeManaged = (subject: LeanPod): boolean => {
      const nodeName = subject.spec?.nodeName;
      return nodeName === undefined || deps.trunks.get(nodeName) !== undefined;
    };
    if (judgePodEniAnnotation({ pod, branch, isNodeManaged: isNodeManaged(pod) }).verdict !== 'forged') return;
    const uid = pod.metadata.uid ?? '';
    const fetched = await deps.client.get<LeanPod>(Kinds.Pod, key);
    if (!fetched || fetched.metadata.uid !== uid) return;
    const live = toLeanPod(fetched);
    // Only when something looks forged: a live list of the namespace's BranchInterfaces (their names may carry
    // a UID suffix, see branchNameForPod, so the pod's cannot be fetched by name).
    const liveBranches = await deps.client.list<BranchInterface>(Kinds.BranchInterface, {
      namespace: pod.metadata.namespace ?? '',
    });
    const liveBranch = liveBranches.find((candidate) => candidate.spec.podUid === uid);
    const verdict = judgePodEniAnnotation({ pod: live, branch: liveBranch, isNodeManaged: isNodeManaged(live) });
    if (verdict.verdict !== 'forged') return;
    try {
      await deps.client.jsonPatch(Kinds.Pod, key, [
        { op: 'test', path: '/metadata/uid', value: uid },
        { op: 'test', path: POD_ENI_ANNOTATION_POINTER, value: live.metadata.annotations?.[POD_ENI_ANNOTATION] },
        { op: 'remove', path: POD_ENI_ANNOTATION_POINTER },
      ]);
    } catch (error) {
      // The pod went, or it or its annotation changed since the live read: its watch event brings a new look.
      if (isNotFound(error) || isConflict(error) || (error instanceof KubeApiError && error.statusCode === 422)) {
        context.log.debug('pod-eni annotation changed before its removal', { error });
        return;
      }
      throw withContext(`removing the forged ${POD_ENI_ANNOTATION} annotation of pod ${key}`, error);
    }
    podEniAnnotationsForgedTotal.inc({ reason: forgeryMetricReason(verdict.reason) });
    const event = forgedAnnotationEvent(live, verdict);
    deps.recorder.event(live, event.type, event.reason, event.message);
    context.log.warn('removed forged pod-eni annotation', {
      reason: verdict.reason,
      found: verdict.found,
      expected: verdict.expected,
    });
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
