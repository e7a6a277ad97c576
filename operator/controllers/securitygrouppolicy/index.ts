/** The SecurityGroupPolicy controller and its pure verdicts. */
import type { LeanPod } from '../../api/pod.ts';
import { POLICY_NAMESPACE_LABEL } from '../../api/constants.ts';
import { podInformerOptions } from '../../api/pod.ts';
import { Kinds } from '../../api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../api/types.ts';
import { keyOf } from '../../framework/index.ts';
import type { Controller, KubeObject, Reader } from '../../framework/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { hasGroupReferences } from '../pod/index.ts';
import type { SecurityGroupDirectory } from '../vpcnetwork/index.ts';
import { SecurityGroupPolicyReconciler } from './controller.ts';
import { SecurityGroupLookup } from './group-lookup.ts';

export {
  SecurityGroupPolicyReconciler,
  REVALIDATE_VALID_MS,
  REVALIDATE_INVALID_MS,
  REFERENCES_WAIT_MS,
} from './controller.ts';
export type { PolicyReconcilerDeps } from './controller.ts';
export { SecurityGroupLookup, GROUP_CACHE_TTL_MS } from './group-lookup.ts';
export {
  validatePolicySpec,
  validatePolicyGroups,
  validatePolicyGrants,
  withResolvedReferences,
} from './validation.ts';
export {
  describeReference,
  groupReferencesOf,
  movedReferences,
  referenceMatches,
  referenceProblems,
  resolvedReferencesOf,
  resolveGroupReferences,
} from './group-references.ts';
export type { GroupReference, ReferenceResolution, ReferenceProblemReason } from './group-references.ts';
export type { PolicyValidation, PolicyInvalidReason } from './validation.ts';
export { desiredPolicyStatus } from './status.ts';
export { namespaceLabelPatch } from './namespace-label.ts';

/** Policy reconciles are cheap (cached EC2 answers); two workers keep a namespace's burst from queueing long. */
export const POLICY_WORKERS = 2;

/** Every policy key of a namespace, or the namespace-only key when it has none (label clean-up). */
function policyKeysOf(policies: Reader<SecurityGroupPolicy>, namespace: string): string[] {
  const keys = policies.list(namespace).map((policy) => keyOf(policy));
  return keys.length > 0 ? keys : [`${namespace}/`];
}

export function registerSecurityGroupPolicyController(
  deps: ControllerDeps,
  securityGroups: SecurityGroupDirectory,
): Controller {
  const policies = deps.manager.informer<SecurityGroupPolicy>({ kind: Kinds.SecurityGroupPolicy });
  const pods = deps.manager.informer<LeanPod>(podInformerOptions);
  const serviceAccounts = deps.manager.informer<KubeObject>({ kind: Kinds.ServiceAccount });
  const namespaces = deps.manager.informer<KubeObject>({ kind: Kinds.Namespace });
  const grants = deps.manager.informer<SecurityGroupGrant>({ kind: Kinds.SecurityGroupGrant });

  const reconciler = new SecurityGroupPolicyReconciler({
    client: deps.client,
    recorder: deps.recorder,
    clock: deps.clock,
    cluster: deps.cluster,
    groups: new SecurityGroupLookup(deps.ec2, deps.clock),
    policies,
    pods,
    serviceAccounts,
    namespaces,
    grants,
    securityGroups,
  });
  const controller = deps.manager.controller({ name: 'securitygrouppolicy', reconciler, workers: POLICY_WORKERS });
  controller.watch(policies);
  controller.watch(pods, (pod) => policies.list(pod.metadata.namespace).map((policy) => keyOf(policy)));
  controller.watch(serviceAccounts, (sa) => policies.list(sa.metadata.namespace).map((policy) => keyOf(policy)));
  controller.watch(namespaces, (namespace) => {
    const name = namespace.metadata.name;
    const labelled = namespace.metadata.labels?.[POLICY_NAMESPACE_LABEL] !== undefined;
    const hasPolicies = policies.list(name).length > 0;
    // With grants, a namespace's labels decide which grants cover it: re-check its policies on any change.
    if (grants.list().length > 0) return policies.list(name).map((policy) => keyOf(policy));
    return labelled !== hasPolicies ? policyKeysOf(policies, name) : [];
  });
  // Any grant change (spec, resolved tag groups, creation of the first, deletion of the last) can change the
  // verdict on any policy; grants are few and change rarely, and a policy reconcile reads EC2 from a cache.
  controller.watch(grants, () => policies.list().map((policy) => keyOf(policy)));
  // Groups by name or tags: the VPC's groups are described while some policy uses them, and every describe
  // brings those policies back (a new one resolved, a deleted or moved group noticed).
  securityGroups.describeSecurityGroupsWhile(() => policies.list().some(hasGroupReferences));
  securityGroups.onSecurityGroups(() => {
    for (const policy of policies.list()) if (hasGroupReferences(policy)) controller.enqueue(keyOf(policy));
  });
  return controller;
}
