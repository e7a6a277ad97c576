/**
 * May this namespace use these security groups? The SecurityGroupGrant rule as pure functions, so the
 * admission webhook, the SecurityGroupPolicy controller and the pod controller give the same answer with
 * the same words.
 *
 * - No grant in the cluster (none at all, or only grants being deleted): every group is allowed, as on EKS.
 * - Otherwise a group is allowed in a namespace when some grant covers the namespace (named in
 *   spec.namespaces.names, or its labels match spec.namespaces.selector) and the group (listed in
 *   spec.securityGroups.groupIds, or in status.resolvedGroupIds, which the grant controller fills from the tag
 *   rules). Grants only ever add; there is no deny rule and no precedence.
 * - A tag rule counts only once resolved for the grant's current generation. When a refused group might be
 *   allowed by a covering grant whose tags are not resolved yet, the verdict says so (reason
 *   GrantNotResolved) rather than claiming that no grant allows the group.
 *
 * Pure: no I/O, no clock, no logging.
 */
import type { SecurityGroupGrant } from '../../api/types.ts';
import { matchesLabelSelector } from '../pod/label-selector.ts';

/** Condition types on SecurityGroupGrant status. */
export const GrantCondition = {
  /** The tag rules are resolved to group ids for the current generation (True without tag rules too). */
  Resolved: 'Resolved',
  /** The grant is in effect with everything it names. */
  Ready: 'Ready',
} as const;

/** Who asks, for messages: "SecurityGroupPolicy payments/db". */
export interface GrantSubject {
  kind: string;
  namespace: string;
  name: string;
}

export type GroupGrantVerdict =
  | {
      allowed: true;
      reason: 'NoGrants' | 'Granted';
      /** Group id → names of the grants allowing it (empty with NoGrants). */
      grantedBy: Record<string, string[]>;
      message: string;
    }
  | {
      allowed: false;
      reason: 'GroupsNotGranted' | 'GrantNotResolved';
      /** The groups no grant allows in the namespace, in the order asked. */
      refused: string[];
      /** Covering grants whose tag rules are not resolved yet, by name. */
      unresolvedGrants: string[];
      message: string;
    };

export interface GrantScope {
  /** Every SecurityGroupGrant in the cluster. */
  grants: readonly SecurityGroupGrant[];
  namespace: string;
  /** Labels of the namespace; undefined when it is not known (then it has no labels: only selector {} matches). */
  namespaceLabels: Readonly<Record<string, string>> | undefined;
}

/** The grants that count: those not being deleted. */
export function liveGrants(grants: readonly SecurityGroupGrant[]): SecurityGroupGrant[] {
  return grants.filter((grant) => !grant.metadata.deletionTimestamp);
}

/** Whether the grant covers the namespace (by name or by label). */
export function grantCoversNamespace(
  grant: SecurityGroupGrant,
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const { names, selector } = grant.spec.namespaces ?? {};
  if (names?.includes(namespace)) return true;
  return selector !== undefined && matchesLabelSelector(selector, { ...labels });
}

export function hasTagRules(grant: SecurityGroupGrant): boolean {
  return (grant.spec.securityGroups?.tags ?? []).length > 0;
}

/** Whether status.resolvedGroupIds belongs to the current spec (always true without tag rules). */
export function isGrantResolved(grant: SecurityGroupGrant): boolean {
  if (!hasTagRules(grant)) return true;
  return (
    grant.status?.observedGeneration !== undefined && grant.status.observedGeneration === grant.metadata.generation
  );
}

/** Every group the grant allows now: its listed ids and, once resolved, the ids its tag rules matched. */
export function groupsOfGrant(grant: SecurityGroupGrant): Set<string> {
  const ids = new Set(grant.spec.securityGroups?.groupIds ?? []);
  if (hasTagRules(grant) && isGrantResolved(grant)) for (const id of grant.status?.resolvedGroupIds ?? []) ids.add(id);
  return ids;
}

function describeSubject(subject: GrantSubject): string {
  return `${subject.kind} ${subject.namespace}/${subject.name}`;
}

function byName(a: SecurityGroupGrant, b: SecurityGroupGrant): number {
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** The verdict on `groupIds` for `subject` in `scope.namespace` (see the file comment). */
export function judgeGroupsForNamespace(
  groupIds: readonly string[],
  scope: GrantScope,
  subject: GrantSubject,
): GroupGrantVerdict {
  const grants = liveGrants(scope.grants).sort(byName);
  const wanted = [...new Set(groupIds)];
  if (grants.length === 0) {
    return {
      allowed: true,
      reason: 'NoGrants',
      grantedBy: {},
      message: 'no SecurityGroupGrant exists, so every security group is allowed',
    };
  }
  const covering = grants.filter((grant) => grantCoversNamespace(grant, scope.namespace, scope.namespaceLabels));
  const grantedBy: Record<string, string[]> = {};
  for (const id of wanted) {
    const names = covering.filter((grant) => groupsOfGrant(grant).has(id)).map((grant) => grant.metadata.name);
    if (names.length > 0) grantedBy[id] = names;
  }
  const refused = wanted.filter((id) => grantedBy[id] === undefined);
  if (refused.length === 0) {
    const list = Object.entries(grantedBy).map(([id, names]) => `${id} (${names.join(', ')})`);
    return {
      allowed: true,
      reason: 'Granted',
      grantedBy,
      message: `SecurityGroupGrants allow ${list.join(', ')} in namespace ${scope.namespace}`,
    };
  }

  const unresolved = covering.filter((grant) => !isGrantResolved(grant));
  const perGroup = refused.map((id) => explainRefusal(id, grants, covering, scope.namespace));
  const ask = `${describeSubject(subject)} names ${refused.length > 1 ? 'security groups' : 'security group'} ${refused.join(', ')}, which no SecurityGroupGrant allows in namespace ${scope.namespace}`;
  if (unresolved.length > 0) {
    const names = unresolved.map((grant) => grant.metadata.name);
    return {
      allowed: false,
      reason: 'GrantNotResolved',
      refused,
      unresolvedGrants: names,
      message:
        `${ask} yet: the tag rules of SecurityGroupGrant ${names.join(', ')}, which ${names.length > 1 ? 'cover' : 'covers'} ` +
        `the namespace, are not resolved in EC2 yet (see its Resolved condition), so whether ` +
        `${names.length > 1 ? 'they allow' : 'it allows'} the group is not known; retry once it is resolved. ` +
        perGroup.join('; '),
    };
  }
  return {
    allowed: false,
    reason: 'GroupsNotGranted',
    refused,
    unresolvedGrants: [],
    message: `${ask}; ${perGroup.join('; ')}, or remove it from the ${subject.kind}`,
  };
}

/** How one refused group could be allowed: which grant to extend, or that a new grant is needed. */
function explainRefusal(
  id: string,
  grants: readonly SecurityGroupGrant[],
  covering: readonly SecurityGroupGrant[],
  namespace: string,
): string {
  const elsewhere = grants.filter((grant) => !covering.includes(grant) && groupsOfGrant(grant).has(id));
  if (elsewhere.length > 0) {
    const names = elsewhere.map((grant) => grant.metadata.name).join(', ');
    return (
      `SecurityGroupGrant ${names} allows ${id} but not in namespace ${namespace}: ask a cluster admin to add ` +
      `${namespace} to its spec.namespaces.names (or label the namespace to match its spec.namespaces.selector)`
    );
  }
  if (covering.length > 0) {
    const names = covering.map((grant) => grant.metadata.name).join(', ');
    return (
      `no grant allows ${id}: ask a cluster admin to add it to spec.securityGroups.groupIds (or tag it to match a ` +
      `tag rule) of SecurityGroupGrant ${names}, which ${covering.length > 1 ? 'cover' : 'covers'} namespace ${namespace}`
    );
  }
  return (
    `no grant allows ${id}: ask a cluster admin to add a SecurityGroupGrant giving ${id} to namespace ${namespace} ` +
    `(no grant covers the namespace yet)`
  );
}
