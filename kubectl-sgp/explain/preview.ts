/**
 * `kubectl sgp preview -f policy.yaml`: which running pods a SecurityGroupPolicy would select once applied
 * and how their groups would change, by the operator's own matching (securityGroupsForPod over the
 * namespace's live policies, with the file's policy added or replacing its namesake). Pure.
 *
 * Groups named by name or tag selector are taken from EC2 when the caller described the VPC's groups, else
 * from the live namesake's status when it names the same references, else shown as the reference itself
 * (`<name "payments-db">`): the operator resolves them after the apply.
 */
import type { LeanPod } from '../../operator/api/pod.ts';
import { isPodFinished, requestsPodEni, serviceAccountNameOf } from '../../operator/api/pod.ts';
import type { ResolvedGroupReference, SecurityGroupGrant, SecurityGroupPolicy } from '../../operator/api/types.ts';
import type { SecurityGroup } from '../../operator/aws/index.ts';
import {
  policyGroupIds,
  securityGroupsForPod,
  type SecurityGroupAnnotationRule,
} from '../../operator/controllers/pod/index.ts';
import { judgeGroupsForNamespace, liveGrants } from '../../operator/controllers/securitygroupgrant/index.ts';
import {
  describeReference,
  groupReferencesOf,
  referenceMatches,
  referenceProblems,
  resolvedReferencesOf,
  resolveGroupReferences,
  validatePolicySpec,
} from '../../operator/controllers/securitygrouppolicy/index.ts';
import type { KubeObject } from '../../operator/framework/types.ts';

export interface PreviewFacts {
  /** The policy from the file, its namespace filled in. */
  proposed: SecurityGroupPolicy;
  /** The live policies of that namespace. */
  live: readonly SecurityGroupPolicy[];
  /** The namespace's pods. */
  pods: readonly LeanPod[];
  /** The namespace's ServiceAccounts by name. */
  serviceAccounts: ReadonlyMap<string, KubeObject>;
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  grants: readonly SecurityGroupGrant[];
  annotationRule: SecurityGroupAnnotationRule | undefined;
  /** The cluster VPC and its groups, when the caller described them (`--ec2`). */
  vpc?: { id: string; groups: readonly SecurityGroup[] };
}

export type PodChangeKind =
  /** The policy would newly select the pod. */
  | 'selected'
  /** The pod's namesake policy selects it now and would no longer. */
  | 'unselected'
  /** Selected before and after, with other groups. */
  | 'groups'
  /** Selected before and after, same groups. */
  | 'same';

export interface PodChange {
  pod: string;
  node?: string;
  change: PodChangeKind;
  before: { sources: string[]; securityGroups: string[] };
  after: { sources: string[]; securityGroups: string[] };
  /** What the change does to the running pod. */
  effect: string;
}

export interface PolicyPreview {
  kind: 'PolicyPreview';
  namespace: string;
  name: string;
  action: 'create' | 'update';
  /** What its names and selectors denote, and where that came from. */
  references: { reference: string; groupId?: string; from: 'ec2' | 'live-status' | 'unresolved' }[];
  /** Reasons the operator would not give the policy's groups to anyone (spec, names, grants). */
  problems: string[];
  /** Pods whose selection by this policy or whose groups would change, or that it selects either way. */
  pods: PodChange[];
  /** Running pods of the namespace it leaves alone. */
  untouched: number;
}

export function previewPolicy(facts: PreviewFacts): PolicyPreview {
  const { proposed } = facts;
  const namespace = proposed.metadata.namespace ?? '';
  const name = proposed.metadata.name;
  const namesake = facts.live.find((policy) => policy.metadata.name === name);
  const problems: string[] = [];
  const specProblem = validatePolicySpec(proposed);
  if (specProblem) problems.push(specProblem.message);

  const { references, resolved, problem } = referencesOf(proposed, namesake, facts.vpc);
  if (problem) problems.push(problem);
  // The proposal as the operator would see it once it resolved the references.
  const candidate: SecurityGroupPolicy = {
    ...proposed,
    metadata: { ...proposed.metadata, namespace, generation: 1 },
    status: { observedGeneration: 1, resolvedReferences: resolved },
  };
  const grants = liveGrants(facts.grants);
  if (grants.length > 0 && !specProblem) {
    const realIds = policyGroupIds(candidate).filter((id) => !id.startsWith('<'));
    const verdict = judgeGroupsForNamespace(
      realIds,
      { grants, namespace, namespaceLabels: facts.namespaceLabels },
      { kind: 'SecurityGroupPolicy', namespace, name },
    );
    if (!verdict.allowed) problems.push(verdict.message);
  }

  const scope = {
    namespaceLabels: facts.namespaceLabels,
    rule: facts.annotationRule ?? { isEnabled: false, allowList: [] },
  };
  const after = [...facts.live.filter((policy) => policy.metadata.name !== name), candidate];
  const pods: PodChange[] = [];
  let untouched = 0;
  for (const pod of [...facts.pods].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    if (isPodFinished(pod) || pod.metadata.deletionTimestamp) continue;
    const serviceAccount = facts.serviceAccounts.get(serviceAccountNameOf(pod));
    const now = securityGroupsForPod(pod, serviceAccount, facts.live, scope);
    const next = securityGroupsForPod(pod, serviceAccount, after, scope);
    const wasSelected = now.matchedPolicies.includes(name);
    const isSelected = next.matchedPolicies.includes(name);
    if (!wasSelected && !isSelected) {
      untouched++;
      continue;
    }
    const before = { sources: now.matchedPolicies, securityGroups: [...now.groupIds].sort() };
    const later = { sources: next.matchedPolicies, securityGroups: [...next.groupIds].sort() };
    const sameGroups = before.securityGroups.join(' ') === later.securityGroups.join(' ');
    const change: PodChangeKind = !wasSelected
      ? 'selected'
      : !isSelected
        ? 'unselected'
        : sameGroups
          ? 'same'
          : 'groups';
    pods.push({
      pod: pod.metadata.name,
      ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      change,
      before,
      after: later,
      effect: effectOf(pod, change, sameGroups, problems.length > 0),
    });
  }
  return {
    kind: 'PolicyPreview',
    namespace,
    name,
    action: namesake ? 'update' : 'create',
    references,
    problems,
    pods,
    untouched,
  };
}

function effectOf(pod: LeanPod, change: PodChangeKind, sameGroups: boolean, isInvalid: boolean): string {
  if (sameGroups) return 'none';
  if (!requestsPodEni(pod)) {
    return change === 'unselected'
      ? 'none (it never had a branch ENI)'
      : 'none until recreated: it does not request vpc.amazonaws.com/pod-eni, so it keeps the node’s groups';
  }
  if (isInvalid) return 'held: the operator would refuse the policy (see problems); a running pod keeps its groups';
  if (!pod.spec?.nodeName) return 'gets these groups when scheduled';
  return 'groups changed in place on its branch ENI (no restart)';
}

function referencesOf(
  proposed: SecurityGroupPolicy,
  namesake: SecurityGroupPolicy | undefined,
  vpc: PreviewFacts['vpc'],
): { references: PolicyPreview['references']; resolved: ResolvedGroupReference[]; problem?: string } {
  const wanted = groupReferencesOf(proposed);
  if (wanted.length === 0) return { references: [], resolved: [] };
  if (vpc) {
    const resolutions = resolveGroupReferences(proposed, vpc.groups);
    const resolved = resolvedReferencesOf(resolutions);
    const problem = referenceProblems(proposed, resolutions, vpc.id);
    return {
      references: resolutions.map((resolution) => ({
        reference: describeReference(resolution.reference),
        ...(resolution.outcome === 'resolved' ? { groupId: resolution.group.id } : {}),
        from: 'ec2' as const,
      })),
      resolved,
      ...(problem ? { problem: problem.message } : {}),
    };
  }
  const known =
    namesake?.status?.observedGeneration === namesake?.metadata.generation
      ? (namesake?.status?.resolvedReferences ?? [])
      : [];
  const references: PolicyPreview['references'] = [];
  const resolved: ResolvedGroupReference[] = [];
  for (const reference of wanted) {
    const previous = known.find((entry) =>
      reference.kind === 'name'
        ? entry.name !== undefined &&
          referenceMatches(reference, { id: entry.groupId, name: entry.name, vpcId: '', tags: {} })
        : entry.tags !== undefined &&
          describeReference({ kind: 'tags', tags: entry.tags }) === describeReference(reference),
    );
    const written = describeReference(reference);
    if (previous) {
      references.push({ reference: written, groupId: previous.groupId, from: 'live-status' });
      resolved.push(previous);
    } else {
      references.push({ reference: written, from: 'unresolved' });
      const placeholder = `<${written}>`;
      resolved.push({
        ...(reference.kind === 'name' ? { name: reference.name } : { tags: { ...reference.tags } }),
        groupId: placeholder,
        groupName: placeholder,
      });
    }
  }
  return { references, resolved };
}
