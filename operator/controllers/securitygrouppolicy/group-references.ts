/**
 * Security groups named by EC2 group name or by tag selector (spec.securityGroups.groupNames, groupSelectors):
 * our extension of EKS's SecurityGroupPolicy, which takes ids only (EKS's issue #20). Pure: the controller
 * hands in the cluster VPC's groups as last described (vpcnetwork/directory.ts), this says what each
 * reference denotes, and the verdict names every reference that denotes no group or several.
 *
 * - A name matches a group's GroupName regardless of case: EC2 keeps names unique per VPC regardless of case,
 *   so a name denotes at most one group there. EC2 cannot rename a group; a name denotes another group only
 *   when its group was deleted and a new one created under the name, and then it is followed.
 * - A selector matches a group carrying every listed tag with exactly that value (no wildcards). It must
 *   denote exactly one group: tags are written by whoever may tag groups in the account, and a selector
 *   silently widening to a second group would change what pods may reach. Several matches are refused,
 *   naming the candidates; moving a tag from one group to another is followed.
 * - Only groups of the cluster's VPC count: a branch ENI can carry no other.
 */
import type { ResolvedGroupReference, SecurityGroupPolicy } from '../../api/types.ts';
import type { SecurityGroup } from '../../aws/index.ts';

export type GroupReference = { kind: 'name'; name: string } | { kind: 'tags'; tags: Readonly<Record<string, string>> };

export type ReferenceResolution =
  | { reference: GroupReference; outcome: 'resolved'; group: SecurityGroup }
  | { reference: GroupReference; outcome: 'not-found' }
  | { reference: GroupReference; outcome: 'ambiguous'; candidates: SecurityGroup[] };

/** The policy's names, then its selectors, in spec order. */
export function groupReferencesOf(policy: SecurityGroupPolicy): GroupReference[] {
  const groups = policy.spec?.securityGroups;
  return [
    ...(groups?.groupNames ?? []).map((name): GroupReference => ({ kind: 'name', name })),
    ...(groups?.groupSelectors ?? []).map((selector): GroupReference => ({ kind: 'tags', tags: selector.tags ?? {} })),
  ];
}

/** `name "payments-db"`, `tags {Name=payments-db, team=payments}` (keys sorted). */
export function describeReference(reference: GroupReference): string {
  if (reference.kind === 'name') return `name ${JSON.stringify(reference.name)}`;
  const tags = Object.entries(reference.tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  return `tags {${tags.join(', ')}}`;
}

export function referenceMatches(reference: GroupReference, group: SecurityGroup): boolean {
  if (reference.kind === 'name') return group.name.toLowerCase() === reference.name.toLowerCase();
  const entries = Object.entries(reference.tags);
  return entries.length > 0 && entries.every(([key, value]) => group.tags[key] === value);
}

/** What each reference denotes among `groups` (the cluster VPC's). */
export function resolveGroupReferences(
  policy: SecurityGroupPolicy,
  groups: readonly SecurityGroup[],
): ReferenceResolution[] {
  return groupReferencesOf(policy).map((reference) => {
    const candidates = groups.filter((group) => referenceMatches(reference, group));
    const [only] = candidates;
    if (candidates.length === 1 && only) return { reference, outcome: 'resolved', group: only };
    if (candidates.length === 0) return { reference, outcome: 'not-found' };
    return { reference, outcome: 'ambiguous', candidates };
  });
}

/** The resolved references as status.resolvedReferences records them. */
export function resolvedReferencesOf(resolutions: readonly ReferenceResolution[]): ResolvedGroupReference[] {
  return resolutions.flatMap((resolution) => {
    if (resolution.outcome !== 'resolved') return [];
    const { reference, group } = resolution;
    const written = reference.kind === 'name' ? { name: reference.name } : { tags: { ...reference.tags } };
    return [{ ...written, groupId: group.id, groupName: group.name }];
  });
}

export type ReferenceProblemReason =
  /** A name or selector denotes no group of the cluster's VPC. */
  | 'GroupReferenceNotFound'
  /** A selector (or, against EC2's rule, a name) denotes several groups. */
  | 'GroupReferenceAmbiguous';

/** Every unresolved reference in one message naming the policy, the VPC, the candidates and the fix. */
export function referenceProblems(
  policy: SecurityGroupPolicy,
  resolutions: readonly ReferenceResolution[],
  vpcId: string,
): { reason: ReferenceProblemReason; message: string } | undefined {
  const missing = resolutions.filter((resolution) => resolution.outcome === 'not-found');
  const ambiguous = resolutions.flatMap((resolution) => (resolution.outcome === 'ambiguous' ? [resolution] : []));
  if (missing.length === 0 && ambiguous.length === 0) return undefined;
  const subject = `SecurityGroupPolicy ${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;
  const problems: string[] = [];
  if (missing.length > 0) {
    const what = missing.map((resolution) => describeReference(resolution.reference)).join(', ');
    problems.push(
      `names security groups by ${what}, which no group in ${vpcId} matches; create the group, fix ` +
        'spec.securityGroups.groupNames or groupSelectors, or name it by id in groupIds',
    );
  }
  for (const resolution of ambiguous) {
    const candidates = resolution.candidates.map((group) => `${group.id} (${group.name})`).join(', ');
    problems.push(
      `names a security group by ${describeReference(resolution.reference)}, which ${resolution.candidates.length} ` +
        `groups in ${vpcId} match: ${candidates}; a name or selector must denote exactly one group, so add a tag ` +
        'that tells them apart or name the group by id in groupIds',
    );
  }
  return {
    reason: missing.length > 0 ? 'GroupReferenceNotFound' : 'GroupReferenceAmbiguous',
    message: `${subject} ${problems.join('; it also ')}`,
  };
}

/**
 * Names and selectors that denote another group than `before` recorded (a group deleted and created again
 * under its name, a tag moved): "name "db" now denotes sg-new (was sg-old)". Empty when nothing moved.
 */
export function movedReferences(
  before: readonly ResolvedGroupReference[] | undefined,
  after: readonly ResolvedGroupReference[],
): string[] {
  const key = (reference: ResolvedGroupReference): string =>
    reference.name !== undefined
      ? describeReference({ kind: 'name', name: reference.name })
      : describeReference({ kind: 'tags', tags: reference.tags ?? {} });
  const previous = new Map((before ?? []).map((reference) => [key(reference), reference.groupId]));
  return after.flatMap((reference) => {
    const was = previous.get(key(reference));
    return was !== undefined && was !== reference.groupId
      ? [`${key(reference)} now denotes ${reference.groupId} (${reference.groupName}; was ${was})`]
      : [];
  });
}
