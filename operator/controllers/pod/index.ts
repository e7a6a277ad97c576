/**
 * The pod controller and the pure decisions other folders may call (the webhook matches pods through
 * securityGroupsForPod and judges security-group annotations through judgeSecurityGroupsAnnotation; the
 * SecurityGroupPolicy controller counts matched pods through policySelectsPod).
 */
import type { LeanPod } from '../../api/pod.ts';
import {
  branchInterfaceInformerOptions,
  POD_NODE_NAME_INDEX,
  podInformerOptions,
  requestsPodEni,
  serviceAccountNameOf,
} from '../../api/pod.ts';
import { Kinds } from '../../api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy, TrunkInterface } from '../../api/types.ts';
import { keyOf, keyFor } from '../../framework/index.ts';
import type { Controller, KubeObject, Reader } from '../../framework/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { PodReconciler } from './controller.ts';

export { PodReconciler } from './controller.ts';
export type { PodReconcilerDeps } from './controller.ts';
export {
  securityGroupsForPod,
  policySelectsPod,
  explainPolicyMatch,
  policyGroupIds,
  hasGroupReferences,
  policySkipReason,
  formatGroupList,
  NO_MATCH_MESSAGE,
} from './matching.ts';
export type {
  PodMatch,
  MatchReason,
  PodForMatching,
  ServiceAccountForMatching,
  PolicySkipReason,
  PolicyMatchExplanation,
} from './matching.ts';
export {
  matchesLabelSelector,
  labelSelectorProblems,
  selectorMismatches,
  describeSelectorMismatch,
} from './label-selector.ts';
export type { SelectorMismatch } from './label-selector.ts';
export { planPodBranch, branchNameForPod, ungrantedPolicies } from './decision.ts';
export type { PodBranchPlan, PodBranchInput } from './decision.ts';
export {
  annotationGroupsForPod,
  judgeSecurityGroupsAnnotation,
  SECURITY_GROUP_ANNOTATIONS_OFF,
} from './annotation-groups.ts';
export type { AnnotationRefusal, AnnotationScope, SecurityGroupAnnotationRule } from './annotation-groups.ts';
export { PolicyCondition, policyInvalidMessage, policyValidity } from './policy-state.ts';
export { judgePodEniAnnotation, forgedAnnotationEvent, forgeryMetricReason } from './pod-eni-annotation.ts';
export type { ForgeryReason, PodEniAnnotationInput, PodEniAnnotationVerdict } from './pod-eni-annotation.ts';
export type { PolicyValidity } from './policy-state.ts';

/** Keys of the pods in a namespace that ask for a branch ENI (the only ones a policy change can affect). */
function podEniPodKeys(pods: Reader<LeanPod>, namespace: string, filter: (pod: LeanPod) => boolean = () => true) {
  return pods
    .list(namespace)
    .filter((pod) => requestsPodEni(pod) && filter(pod))
    .map((pod) => keyOf(pod));
}

export function registerPodController(deps: ControllerDeps): Controller {
  const pods = deps.manager.informer<LeanPod>(podInformerOptions);
  const policies = deps.manager.informer<SecurityGroupPolicy>({ kind: Kinds.SecurityGroupPolicy });
  const serviceAccounts = deps.manager.informer<KubeObject>({ kind: Kinds.ServiceAccount });
  const namespaces = deps.manager.informer<KubeObject>({ kind: Kinds.Namespace });
  const trunks = deps.manager.informer<TrunkInterface>({ kind: Kinds.TrunkInterface });
  const branches = deps.manager.informer(branchInterfaceInformerOptions);

  const reconciler = new PodReconciler({
    client: deps.client,
    recorder: deps.recorder,
    pods,
    policies,
    serviceAccounts,
    namespaces,
    trunks,
    branches,
    securityGroupAnnotations: deps.settings.securityGroupAnnotations,
    // Read only: a grant change reaches pods through their policies' status (the SecurityGroupPolicy
    // controller re-checks them), so grants need no watch here.
    grants: deps.manager.informer<SecurityGroupGrant>({ kind: Kinds.SecurityGroupGrant }),
  });
  const controller = deps.manager.controller({
    name: 'pod',
    reconciler,
    workers: deps.settings.podWorkers,
  });
  controller.watch(pods);
  controller.watch(policies, (policy) => podEniPodKeys(pods, policy.metadata.namespace ?? ''));
  controller.watch(serviceAccounts, (sa) =>
    podEniPodKeys(pods, sa.metadata.namespace ?? '', (pod) => serviceAccountNameOf(pod) === sa.metadata.name),
  );
  // The annotation opt-in label: adding or removing it changes the groups of the namespace's pod-eni pods.
  controller.watch(namespaces, (namespace) => podEniPodKeys(pods, namespace.metadata.name));
  controller.watch(trunks, (trunk) =>
    pods
      .byIndex(POD_NODE_NAME_INDEX, trunk.spec.nodeName)
      .filter(requestsPodEni)
      .map((pod) => keyOf(pod)),
  );
  controller.watch(branches, (branch) => [keyFor(branch.metadata.namespace, branch.spec.podName)]);
  return controller;
}
