/**
 * SecurityGroupGrantReconciler (key: name of a SecurityGroupGrant). Resolves the grant's EC2 tag rules to
 * the security groups of the cluster's VPC carrying them (one DescribeSecurityGroups per rule, with a
 * `vpc-id` and a `tag:<key>` or `tag-key` filter, through the throttled port) and writes them to
 * status.resolvedGroupIds for the current generation. The webhook, the SecurityGroupPolicy controller and the
 * pod controller read that status through their caches; nothing else in the operator calls EC2 for grants.
 *
 * Refresh: on every spec change (a new generation) and every GRANT_REFRESH_MS after, since tags change in
 * EC2 without any event we could watch. Status is written only when the ids or a condition change, so a
 * refresh that finds the same groups costs one describe per rule and no API write.
 */
import { Kinds } from '../../api/kinds.ts';
import type { SecurityGroupGrant } from '../../api/types.ts';
import type { Ec2Api } from '../../aws/index.ts';
import { patchStatusIfChanged } from '../../framework/index.ts';
import type {
  Clock,
  EventRecorder,
  KubeClient,
  Reader,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from '../../framework/types.ts';
import { Reason } from '../../observability/reasons.ts';
import { hasTagRules } from './judgement.ts';
import { resolvedGrantStatus, unresolvedGrantStatus } from './status.ts';

/** How often tag rules are re-resolved: tags added in EC2 take effect within this long. */
export const GRANT_REFRESH_MS = 5 * 60_000;

export interface GrantReconcilerDeps {
  client: KubeClient;
  recorder: EventRecorder;
  clock: Clock;
  ec2: Ec2Api;
  vpcId: string;
  grants: Reader<SecurityGroupGrant>;
  /** Default GRANT_REFRESH_MS. */
  refreshMs?: number;
}

export class SecurityGroupGrantReconciler implements Reconciler {
  readonly #deps: GrantReconcilerDeps;
  /** Grant UID → generation and time of the last successful resolution, so a re-queue before it is due is free. */
  readonly #resolved = new Map<string, { generation: number | undefined; atMs: number }>();

  constructor(deps: GrantReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const refreshMs = deps.refreshMs ?? GRANT_REFRESH_MS;
    const grant = deps.grants.get(key);
    if (!grant || grant.metadata.deletionTimestamp) {
      this.#forgetDeleted();
      return {};
    }
    const uid = grant.metadata.uid ?? grant.metadata.name;
    const nowMs = deps.clock.now();
    const last = this.#resolved.get(uid);
    const isCurrentInStatus = grant.status?.observedGeneration === grant.metadata.generation;
    if (last && last.generation === grant.metadata.generation && isCurrentInStatus && nowMs - last.atMs < refreshMs) {
      return hasTagRules(grant) ? { requeueAfterMs: Math.max(1, last.atMs + refreshMs - nowMs) } : {};
    }

    const nowIso = new Date(nowMs).toISOString();
    let resolved: string[];
    try {
      resolved = await this.#resolve(grant, context.signal);
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      const status = unresolvedGrantStatus(grant, problem, nowIso);
      const written = await patchStatusIfChanged(deps.client, Kinds.SecurityGroupGrant, grant, status);
      if (written !== grant) {
        deps.recorder.event(
          { ...grant, apiVersion: 'trunking.sgp-operator.io/v1alpha1', kind: 'SecurityGroupGrant' },
          'Warning',
          Reason.SecurityGroupGrantResolveFailed,
          `resolving the tag rules of SecurityGroupGrant ${grant.metadata.name} in ${deps.vpcId} failed: ${problem}; retrying`,
        );
      }
      throw error; // retried with backoff
    }
    const status = resolvedGrantStatus(grant, resolved, deps.vpcId, nowIso);
    const before = grant.status?.resolvedGroupIds ?? [];
    const written = await patchStatusIfChanged(deps.client, Kinds.SecurityGroupGrant, grant, status);
    if (written !== grant && hasTagRules(grant)) {
      context.log.info('resolved grant tag rules', {
        grant: grant.metadata.name,
        groups: status.resolvedGroupIds,
        before,
      });
    }
    this.#resolved.set(uid, { generation: grant.metadata.generation, atMs: nowMs });
    return hasTagRules(grant) ? { requeueAfterMs: refreshMs } : {};
  }

  /** Ids of the VPC's groups matching any tag rule ([] without rules). Throws the port's Ec2Error. */
  async #resolve(grant: SecurityGroupGrant, signal: AbortSignal | undefined): Promise<string[]> {
    const ids = new Set<string>();
    for (const rule of grant.spec.securityGroups?.tags ?? []) {
      const groups = await this.#deps.ec2.describeSecurityGroupsByTag(
        // Grants match values exactly: EC2 reads * and ? in filter values as wildcards unless escaped.
        { vpcId: this.#deps.vpcId, key: rule.key, values: rule.values?.map(escapeFilterValue) },
        { signal, priority: 'normal' },
      );
      for (const group of groups) ids.add(group.id);
    }
    return [...ids];
  }

  #forgetDeleted(): void {
    const live = new Set(this.#deps.grants.list().map((grant) => grant.metadata.uid ?? grant.metadata.name));
    for (const uid of this.#resolved.keys()) if (!live.has(uid)) this.#resolved.delete(uid);
  }
}

/** An EC2 filter value matching `value` literally (backslash before *, ? and \\). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*?]/g, (c) => `\\${c}`);
}
