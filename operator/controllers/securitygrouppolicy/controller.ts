/**
 * SecurityGroupPolicyReconciler (key: namespace/name of a SecurityGroupPolicy; "namespace/" with an empty
 * name only re-checks that namespace's label). For each policy: the verdict on its spec and on its groups
 * in EC2 (they must exist in the cluster's VPC), the number of pods it selects, and status with Valid and
 * Ready conditions; a policy turning invalid gets one Warning event naming the problem and the fix. The
 * pod side reads the verdict from status (operator/controllers/pod/policy-state.ts): pods only ever get
 * groups from policies validated for their current generation. Also keeps POLICY_NAMESPACE_LABEL on
 * namespaces that hold policies.
 *
 * Groups by name or tag selector (our extension, group-references.ts) are resolved here against the cluster
 * VPC's groups as the leader last described them (vpcnetwork/directory.ts), never against a view older than
 * the policy's current generation: a new or edited policy asks for a describe and waits for it, without
 * touching its status (so a restart or a leader change holds no pod). The result goes to
 * status.resolvedReferences and resolvedGroupIds, where the pod side reads it; every later describe re-checks
 * it, so a group deleted (Valid=False, a Warning event; pods held, running ones keep their ENI and groups) or
 * a name or tag now on another group (followed, with a Normal event; running pods' groups change in place) is
 * never a silent change.
 *
 * Watches (./index.ts): SecurityGroupPolicies (own key), Pods and ServiceAccounts (the policies of their
 * namespace, for matchedPods), Namespaces (a label someone removed or left behind), the VPC's security
 * groups (policies with names or selectors, after every describe).
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
import { hasGroupReferences, PolicyCondition, policySelectsPod } from '../pod/index.ts';
import { judgeGroupsForNamespace } from '../securitygroupgrant/index.ts';
import type { SecurityGroupDirectory } from '../vpcnetwork/index.ts';
import type { SecurityGroupLookup } from './group-lookup.ts';
import {
  movedReferences,
  referenceProblems,
  resolvedReferencesOf,
  resolveGroupReferences,
} from './group-references.ts';
import { namespaceLabelPatch } from './namespace-label.ts';
import { desiredPolicyStatus } from './status.ts';
import type { PolicyValidation } from './validation.ts';
import {
  validatePolicyGrants,
  validatePolicyGroups,
  validatePolicySpec,
  withResolvedReferences,
} from './validation.ts';

/** A valid policy's groups are re-checked this often (someone may delete a group in EC2). */
export const REVALIDATE_VALID_MS = 10 * 60_000;
/** An invalid policy is re-checked this often: the fix may be creating the group, which we cannot watch. */
export const REVALIDATE_INVALID_MS = 60_000;
/**
 * A policy with names waiting for a describe of the VPC's groups asks again this often (the describe's
 * listener normally wakes it first; this covers a describe that failed).
 */
export const REFERENCES_WAIT_MS = 10_000;

/** Invalid verdicts whose fix is in EC2 (a group created, tagged or moved), so they are re-checked on a timer. */
const FIXED_IN_EC2: ReadonlySet<string> = new Set([
  'GroupsNotFound',
  'GroupsInOtherVpc',
  'GroupReferenceNotFound',
  'GroupReferenceAmbiguous',
]);

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
  /** The cluster VPC's security groups, for groupNames and groupSelectors. */
  securityGroups: Pick<SecurityGroupDirectory, 'securityGroups' | 'requestSecurityGroups'>;
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
  /** Policy UID → the generation this process first saw and when: its names resolve only against later describes. */
  readonly #firstSeen = new Map<string, { generation: number | undefined; atMs: number }>();

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

    // Names and selectors first: without a describe newer than this generation there is no verdict, and the
    // status stays as it is (pods keep what it says) until the describe's listener brings the policy back.
    const references = this.#resolveReferences(policy);
    if (references === 'waiting') {
      context.log.debug('policy waits for a describe of the VPC security groups');
      return { requeueAfterMs: REFERENCES_WAIT_MS };
    }
    const resolved = resolvedReferencesOf(references);
    // Then grants, at every reconcile: they are read from the cache (no EC2 call), and a grant change or a
    // namespace label change re-queues the policy, so the verdict is never older than the grants.
    const verdict =
      this.#referenceVerdict(policy, references) ??
      this.#grantVerdict(
        policy,
        resolved.map((reference) => reference.groupId),
      ) ??
      (await this.#verdict(policy, context));
    const validation = withResolvedReferences(verdict.validation, resolved, deps.cluster.vpcId);
    const nowIso = new Date(deps.clock.now()).toISOString();
    const status = desiredPolicyStatus(policy, validation, this.#countMatchedPods(policy), nowIso);
    const before = findCondition(policy.status?.conditions, PolicyCondition.Valid);
    const written = await patchStatusIfChanged(deps.client, Kinds.SecurityGroupPolicy, policy, status);
    if (written !== undefined && written !== policy) {
      this.#announce(policy, before?.status, before?.message, validation, context);
      this.#announceMoves(policy, validation, context);
    }

    if (!validation.valid && !FIXED_IN_EC2.has(validation.reason)) {
      return {}; // a spec problem: the fix is an edit, which brings the next reconcile
    }
    const intervalMs = validation.valid ? REVALIDATE_VALID_MS : REVALIDATE_INVALID_MS;
    return { requeueAfterMs: Math.max(1, verdict.atMs + intervalMs - deps.clock.now()) };
  }

  /**
   * What the policy's names and selectors denote, from a describe started after this process first saw the
   * policy's generation; 'waiting' (and a describe requested) when there is none yet. [] without references,
   * or with a spec problem (reported first, by #verdict).
   */
  #resolveReferences(policy: SecurityGroupPolicy): ReturnType<typeof resolveGroupReferences> | 'waiting' {
    const deps = this.#deps;
    if (!hasGroupReferences(policy) || validatePolicySpec(policy)) return [];
    const uid = policy.metadata.uid ?? keyFor(policy.metadata.namespace, policy.metadata.name);
    const known = this.#firstSeen.get(uid);
    const seen =
      known !== undefined && known.generation === policy.metadata.generation
        ? known
        : { generation: policy.metadata.generation, atMs: deps.clock.now() };
    this.#firstSeen.set(uid, seen);
    const snapshot = deps.securityGroups.securityGroups();
    if (!snapshot || snapshot.describedAtMs < seen.atMs) {
      deps.securityGroups.requestSecurityGroups();
      return 'waiting';
    }
    return resolveGroupReferences(policy, snapshot.groups);
  }

  /** A name or selector denoting no group, or several; undefined when every one denotes exactly one. */
  #referenceVerdict(
    policy: SecurityGroupPolicy,
    references: ReturnType<typeof resolveGroupReferences>,
  ): Verdict | undefined {
    const deps = this.#deps;
    const problem = referenceProblems(policy, references, deps.cluster.vpcId);
    if (!problem) return undefined;
    policyValidationsTotal.inc({ result: 'invalid' });
    return {
      generation: policy.metadata.generation,
      atMs: deps.clock.now(),
      validation: { valid: false, reason: problem.reason, message: problem.message, resolvedGroupIds: [] },
    };
  }

  /**
   * A refusal by the SecurityGroupGrants of the policy's ids and the groups its names resolved to, or
   * undefined when they allow them (or the spec is broken).
   */
  #grantVerdict(policy: SecurityGroupPolicy, referencedIds: readonly string[]): Verdict | undefined {
    const deps = this.#deps;
    if (validatePolicySpec(policy)) return undefined; // spec problems are reported first, by #verdict
    const namespace = policy.metadata.namespace ?? '';
    const validation = validatePolicyGrants(
      judgeGroupsForNamespace(
        [...(policy.spec.securityGroups.groupIds ?? []), ...referencedIds],
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
        const found = await deps.groups.find(policy.spec.securityGroups.groupIds ?? [], context.signal);
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
      deps.recorder.event(object, 'Warning', invalidEventReason(validation.reason), validation.message);
      context.log.info('policy invalid', { reason: validation.reason, detail: validation.message });
    } else if (validation.valid && beforeStatus === 'False') {
      deps.recorder.event(object, 'Normal', Reason.SecurityGroupPolicyValid, validation.message);
      context.log.info('policy valid again', { groups: validation.resolvedGroupIds });
    }
  }

  /** A Normal event when a name or selector now denotes another group than the status recorded. */
  #announceMoves(policy: SecurityGroupPolicy, validation: PolicyValidation, context: ReconcileContext): void {
    const recorded = policy.status;
    if (!recorded || recorded.observedGeneration !== policy.metadata.generation) return;
    if (!validation.resolvedReferences) return;
    const moves = movedReferences(recorded.resolvedReferences, validation.resolvedReferences);
    if (moves.length === 0) return;
    const object = { ...policy, apiVersion: 'vpcresources.k8s.aws/v1beta1', kind: 'SecurityGroupPolicy' };
    const message =
      `${moves.join('; ')}; pods this policy selects get the new group, running ones in place ` +
      '(ModifyNetworkInterfaceAttribute, no restart)';
    this.#deps.recorder.event(object, 'Normal', Reason.SecurityGroupReferenceChanged, message);
    context.log.info('policy group reference moved', { moves });
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
    for (const uid of this.#firstSeen.keys()) if (!live.has(uid)) this.#firstSeen.delete(uid);
    this.#deps.groups.prune();
  }
}

/** The Warning reason for an invalid policy: grants and unresolved names have their own, for alerts. */
function invalidEventReason(reason: PolicyValidation['reason']): string {
  switch (reason) {
    case 'GroupsNotGranted':
      return Reason.SecurityGroupNotGranted;
    case 'GroupReferenceNotFound':
    case 'GroupReferenceAmbiguous':
      return Reason.SecurityGroupReferenceUnresolved;
    default:
      return Reason.SecurityGroupPolicyInvalid;
  }
}
