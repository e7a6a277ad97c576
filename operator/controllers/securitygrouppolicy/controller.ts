/**
 * SecurityGroupPolicyReconciler (key: namespace/name of a SecurityGroupPolicy; "namespace/" with an empty
 * name only re-checks that namespace's label). For each policy: the verdict on its spec and on its groups
 * in EC2 (they must exist in the cluster's VPC), the number of pods it selects, and status with Valid and
 * Ready conditions; a policy turning invalid gets one Warning event naming the problem and the fix. The
 * pod side reads the verdict from status (operator/controllers/pod/policy-state.ts): pods only ever get
 * groups from policies validated for their current generation. Also keeps POLICY_NAMESPACE_LABEL on
 * namespaces that hold policies.
 *
 * Watches (./index.ts): SecurityGroupPolicies (own key), Pods and ServiceAccounts (the policies of their
 * namespace, for matchedPods), Namespaces (a label someone removed or left behind).
 */
import type { LeanPod } from '../../api/pod.ts';
import { isPodFinished, serviceAccountNameOf } from '../../api/pod.ts';
import { Kinds } from '../../api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../api/types.ts';
import {
  findCondition,
  isNotFound as isKubeNotFound,
  keyFor,
  patchStatusIfChanged,
  splitKey,
} from '../../framework/index.ts';
import type {
  Clock,
  EventRecorder,
  KubeClient,
  KubeObject,
  Reader,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from '../../framework/types.ts';
import { policyValidationsTotal } from '../../observability/metrics.ts';
import { Reason } from '../../observability/reasons.ts';
import type { ClusterSettings } from '../deps.ts';
import { PolicyCondition, policySelectsPod } from '../pod/index.ts';
import { judgeGroupsForNamespace } from '../securitygroupgrant/index.ts';
import type { SecurityGroupLookup } from './group-lookup.ts';
import { namespaceLabelPatch } from './namespace-label.ts';
import { desiredPolicyStatus } from './status.ts';
import type { PolicyValidation } from './validation.ts';
import { validatePolicyGrants, validatePolicyGroups, validatePolicySpec } from './validation.ts';

/** A valid policy's groups are re-checked this often (someone may delete a group in EC2). */
export const REVALIDATE_VALID_MS = 10 * 60_000;
/** An invalid policy is re-checked this often: the fix may be creating the group, which we cannot watch. */
export const REVALIDATE_INVALID_MS = 60_000;

export interface PolicyReconcilerDeps {
  client: KubeClient;
  recorder: EventRecorder;
  clock: Clock;
  cluster: ClusterSettings;
  groups: SecurityGroupLookup;
  policies: Reader<SecurityGroupPolicy>;
  pods: Reader<LeanPod>;
  serviceAccounts: Reader<KubeObject>;
  namespaces: Reader<KubeObject>;
  /** Cluster admins' SecurityGroupGrants (none: every group allowed, as on EKS). */
  grants: Reader<SecurityGroupGrant>;
}

interface Verdict {
  generation: number | undefined;
  atMs: number;
  validation: PolicyValidation;
}

export class SecurityGroupPolicyReconciler implements Reconciler {
  readonly #deps: PolicyReconcilerDeps;
  /** Policy UID → last verdict, reused (no EC2 call) until it is due for a re-check or the spec changes. */
  readonly #verdicts = new Map<string, Verdict>();

  constructor(deps: PolicyReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const namespace = splitKey(key).namespace ?? '';
    await this.#labelNamespace(namespace, context);
    const policy = splitKey(key).name ? deps.policies.get(key) : undefined;
    if (!policy) {
      this.#forgetDeleted();
      return {};
    }
    if (policy.metadata.deletionTimestamp) return {};

    // Grants first, at every reconcile: they are read from the cache (no EC2 call), and a grant change or a
    // namespace label change re-queues the policy, so the verdict is never older than the grants.
    const verdict = this.#grantVerdict(policy) ?? (await this.#verdict(policy, context));
    const nowIso = new Date(deps.clock.now()).toISOString();
    const status = desiredPolicyStatus(policy, verdict.validation, this.#countMatchedPods(policy), nowIso);
    const before = findCondition(policy.status?.conditions, PolicyCondition.Valid);
    const written = await patchStatusIfChanged(deps.client, Kinds.SecurityGroupPolicy, policy, status);
    if (written !== undefined && written !== policy)
      this.#announce(policy, before?.status, before?.message, verdict.validation, context);

    if (!verdict.validation.valid && !['GroupsNotFound', 'GroupsInOtherVpc'].includes(verdict.validation.reason)) {
      return {}; // a spec problem: the fix is an edit, which brings the next reconcile
    }
    const intervalMs = verdict.validation.valid ? REVALIDATE_VALID_MS : REVALIDATE_INVALID_MS;
    return { requeueAfterMs: Math.max(1, verdict.atMs + intervalMs - deps.clock.now()) };
  }

  /** A refusal by the SecurityGroupGrants, or undefined when they allow the groups (or the spec is broken). */
  #grantVerdict(policy: SecurityGroupPolicy): Verdict | undefined {
    const deps = this.#deps;
    if (validatePolicySpec(policy)) return undefined; // spec problems are reported first, by #verdict
    const namespace = policy.metadata.namespace ?? '';
    const validation = validatePolicyGrants(
      judgeGroupsForNamespace(
        policy.spec.securityGroups.groupIds,
        { grants: deps.grants.list(), namespace, namespaceLabels: deps.namespaces.get(namespace)?.metadata.labels },
        { kind: 'SecurityGroupPolicy', namespace, name: policy.metadata.name },
      ),
    );
    if (!validation) return undefined;
    policyValidationsTotal.inc({ result: 'invalid' });
    return { generation: policy.metadata.generation, atMs: deps.clock.now(), validation };
  }

  async #verdict(policy: SecurityGroupPolicy, context: ReconcileContext): Promise<Verdict> {
    const deps = this.#deps;
    const uid = policy.metadata.uid ?? keyFor(policy.metadata.namespace, policy.metadata.name);
    const nowMs = deps.clock.now();
    const previous = this.#verdicts.get(uid);
    if (previous && previous.generation === policy.metadata.generation) {
      const intervalMs = previous.validation.valid ? REVALIDATE_VALID_MS : REVALIDATE_INVALID_MS;
      if (nowMs - previous.atMs < intervalMs) return previous;
    }
    let validation = validatePolicySpec(policy);
    if (!validation) {
      try {
        const found = await deps.groups.find(policy.spec.securityGroups.groupIds, context.signal);
        validation = validatePolicyGroups(policy, found, deps.cluster.vpcId);
      } catch (error) {
        policyValidationsTotal.inc({ result: 'error' });
        throw error;
      }
    }
    policyValidationsTotal.inc({ result: validation.valid ? 'valid' : 'invalid' });
    const verdict: Verdict = { generation: policy.metadata.generation, atMs: nowMs, validation };
    this.#verdicts.set(uid, verdict);
    return verdict;
  }

  /** One event per change of verdict: a Warning when the policy becomes (differently) invalid, Normal on recovery. */
  #announce(
    policy: SecurityGroupPolicy,
    beforeStatus: string | undefined,
    beforeMessage: string | undefined,
    validation: PolicyValidation,
    context: ReconcileContext,
  ): void {
    const deps = this.#deps;
    const object = { ...policy, apiVersion: 'vpcresources.k8s.aws/v1beta1', kind: 'SecurityGroupPolicy' };
    if (validation.reason === 'GrantNotResolved') {
      // Valid=Unknown while a grant's tag rules are resolved: the condition says so; no event for a wait.
      context.log.info('policy waits for a grant to resolve', { detail: validation.message });
    } else if (!validation.valid && (beforeStatus !== 'False' || beforeMessage !== validation.message)) {
      deps.recorder.event(
        object,
        'Warning',
        validation.reason === 'GroupsNotGranted' ? Reason.SecurityGroupNotGranted : Reason.SecurityGroupPolicyInvalid,
        validation.message,
      );
      context.log.info('policy invalid', { reason: validation.reason, detail: validation.message });
    } else if (validation.valid && beforeStatus === 'False') {
      deps.recorder.event(object, 'Normal', Reason.SecurityGroupPolicyValid, validation.message);
      context.log.info('policy valid again', { groups: validation.resolvedGroupIds });
    }
  }

  /** Pods in the namespace the policy selects now (finished and terminating pods excluded). */
  #countMatchedPods(policy: SecurityGroupPolicy): number {
    const deps = this.#deps;
    const namespace = policy.metadata.namespace ?? '';
    let count = 0;
    for (const pod of deps.pods.list(namespace)) {
      if (isPodFinished(pod) || pod.metadata.deletionTimestamp) continue;
      const serviceAccount = deps.serviceAccounts.get(keyFor(namespace, serviceAccountNameOf(pod)));
      if (policySelectsPod(policy, pod, serviceAccount)) count++;
    }
    return count;
  }

  async #labelNamespace(namespace: string, context: ReconcileContext): Promise<void> {
    const deps = this.#deps;
    const object = deps.namespaces.get(namespace);
    if (!object || object.metadata.deletionTimestamp) return;
    const hasPolicies = deps.policies.list(namespace).some((policy) => !policy.metadata.deletionTimestamp);
    const patch = namespaceLabelPatch(object.metadata.labels, hasPolicies);
    if (!patch) return;
    try {
      await deps.client.mergePatch(Kinds.Namespace, namespace, patch);
      context.log.info(hasPolicies ? 'labelled policy namespace' : 'unlabelled policy namespace', { namespace });
    } catch (error) {
      if (!isKubeNotFound(error)) throw error;
    }
  }

  #forgetDeleted(): void {
    const live = new Set(this.#deps.policies.list().map((policy) => policy.metadata.uid));
    for (const uid of this.#verdicts.keys()) if (!live.has(uid)) this.#verdicts.delete(uid);
    this.#deps.groups.prune();
  }
}
