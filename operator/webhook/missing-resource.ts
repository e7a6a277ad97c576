/**
 * Pods a SecurityGroupPolicy selects (or whose allowed security-group annotation gives them groups) that do
 * not request `vpc.amazonaws.com/pod-eni`: created before the policy or the namespace's annotation opt-in
 * existed, or admitted on a path that bypassed the webhook. Without the resource the VPC CNI wires
 * the pod to the node's ENI, so it silently runs with the node's security groups (EKS issue #167). The
 * operator cannot fix a running pod (container resources are immutable), so it says so: a Warning event on
 * the pod and a metric, once per pod. In strict mode it deletes the pod when a workload controller will
 * recreate it, and the new pod comes back through the webhook with the resource.
 *
 * Strict mode recreates only pods owned by a ReplicaSet, StatefulSet, DaemonSet or ReplicationController:
 * a bare pod would be gone for good, and a Job may count a deleted pod as a failure against its
 * backoffLimit.
 */
import { FARGATE_PROFILE_LABEL } from '../api/constants.ts';
import { Kinds } from '../api/kinds.ts';
import { isPodFinished, podInformerOptions, requestsPodEni, serviceAccountNameOf, type LeanPod } from '../api/pod.ts';
import type { SecurityGroupPolicy } from '../api/types.ts';
import type { ControllerDeps } from '../controllers/deps.ts';
import type { AnnotationScope, SecurityGroupAnnotationRule } from '../controllers/pod/index.ts';
import type { Reconciler, Informer, KubeObject } from '../framework/types.ts';
import { podsMissingPodEniResourceTotal, podsRecreatedForPodEniResourceTotal } from '../observability/metrics.ts';
import { Reason } from '../observability/reasons.ts';
import { mayUseAnnotations, type PodPolicyMatcher, type ServiceAccountLike } from './mutate.ts';

export const RECREATABLE_OWNER_KINDS: readonly string[] = [
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'ReplicationController',
];

export type MissingResourceDecision =
  { action: 'none' } | { action: 'warn'; message: string } | { action: 'recreate'; message: string };

export function decideMissingPodEni(
  pod: LeanPod,
  serviceAccount: ServiceAccountLike | undefined,
  policies: readonly SecurityGroupPolicy[],
  options: { matcher: PodPolicyMatcher; isStrict: boolean; annotations?: AnnotationScope },
): MissingResourceDecision {
  if (pod.metadata.deletionTimestamp || isPodFinished(pod)) return { action: 'none' };
  if (pod.spec?.hostNetwork || pod.metadata.labels?.[FARGATE_PROFILE_LABEL] !== undefined) return { action: 'none' };
  if ((policies.length === 0 && !mayUseAnnotations(options.annotations)) || requestsPodEni(pod)) {
    return { action: 'none' };
  }
  const match = options.matcher(pod, serviceAccount, policies, options.annotations);
  if (match.sources.length === 0) return { action: 'none' };
  const owner = pod.metadata.ownerReferences?.find((reference) => reference.controller);
  const groups =
    match.groupIds.length > 0
      ? `groups ${match.groupIds.join(', ')}`
      : `the groups SecurityGroupPolicy ${match.sources.join(', ')} names (not resolved yet)`;
  const base =
    `a SecurityGroupPolicy or security-group annotation gives this pod ${groups} but it ` +
    `does not request vpc.amazonaws.com/pod-eni, so it runs with the node's security groups; it was created ` +
    `before the policy or the namespace's annotation opt-in, or without the sgp-operator webhook`;
  if (options.isStrict && owner && RECREATABLE_OWNER_KINDS.includes(owner.kind)) {
    return { action: 'recreate', message: `${base}; deleting it so ${owner.kind} ${owner.name} recreates it` };
  }
  return { action: 'warn', message: `${base}; delete the pod to have it recreated with a branch ENI` };
}

export interface MissingResourceOptions {
  matcher: PodPolicyMatcher;
  /** Delete such pods when a workload controller will recreate them (`--webhook-strict`). */
  isStrict: boolean;
  /** --enable-security-group-annotations and its allow-list. */
  securityGroupAnnotations: SecurityGroupAnnotationRule;
}

/**
 * Registers the check as a controller on the manager: pods, and the policies, ServiceAccounts and Namespaces
 * (the annotation opt-in label) they match by.
 */
export function setupMissingResourceController(deps: ControllerDeps, options: MissingResourceOptions): void {
  const pods = deps.manager.informer<LeanPod>(podInformerOptions);
  const policies = deps.manager.informer<SecurityGroupPolicy>({ kind: Kinds.SecurityGroupPolicy });
  const serviceAccounts = deps.manager.informer<ServiceAccountLike & KubeObject>({ kind: Kinds.ServiceAccount });
  const namespaces = deps.manager.informer<KubeObject>({ kind: Kinds.Namespace });
  const controller = deps.manager.controller({
    name: 'pod-eni-resource-check',
    reconciler: createMissingResourceReconciler(deps, { ...options, pods, policies, serviceAccounts, namespaces }),
  });
  const podKeysIn = (namespace: string | undefined): string[] =>
    pods.list(namespace ?? '').map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
  controller.watch(pods);
  controller.watch(policies, (policy) => podKeysIn(policy.metadata.namespace));
  controller.watch(namespaces, (namespace) => podKeysIn(namespace.metadata.name));
  controller.watch(serviceAccounts, (account) =>
    pods
      .list(account.metadata.namespace ?? '')
      .filter((pod) => serviceAccountNameOf(pod) === account.metadata.name)
      .map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`),
  );
}

export function createMissingResourceReconciler(
  deps: Pick<ControllerDeps, 'client' | 'recorder'>,
  options: MissingResourceOptions & {
    pods: Informer<LeanPod>;
    policies: Informer<SecurityGroupPolicy>;
    serviceAccounts: Informer<ServiceAccountLike & KubeObject>;
    namespaces: Informer<KubeObject>;
  },
): Reconciler {
  /** UIDs already reported, so a resync or an unrelated pod update does not count the same pod again. */
  const reported = new Map<string, string>();
  return {
    async reconcile(key, context) {
      const pod = options.pods.get(key);
      if (!pod) {
        reported.delete(key);
        return;
      }
      const namespace = pod.metadata.namespace ?? '';
      const decision = decideMissingPodEni(
        pod,
        options.serviceAccounts.get(`${namespace}/${serviceAccountNameOf(pod)}`),
        options.policies.list(namespace),
        {
          ...options,
          annotations: {
            namespaceLabels: options.namespaces.get(namespace)?.metadata.labels,
            rule: options.securityGroupAnnotations,
          },
        },
      );
      const uid = pod.metadata.uid ?? '';
      if (decision.action === 'none') {
        reported.delete(key);
        return;
      }
      const isNew = reported.get(key) !== uid;
      if (isNew) {
        reported.set(key, uid);
        podsMissingPodEniResourceTotal.inc();
        deps.recorder.event(pod, 'Warning', Reason.PodMissingPodENIResource, decision.message);
        context.log.warn('pod selected by a policy lacks the pod-eni resource', { pod: key, strict: options.isStrict });
      }
      if (decision.action === 'recreate') {
        // The UID precondition keeps us from deleting a replacement that took the same name.
        await deps.client.delete(Kinds.Pod, key, { uid });
        podsRecreatedForPodEniResourceTotal.inc();
        deps.recorder.event(pod, 'Normal', Reason.PodRecreatedForPodENIResource, decision.message);
        context.log.info('deleted pod lacking the pod-eni resource', { pod: key });
      }
    },
  };
}
