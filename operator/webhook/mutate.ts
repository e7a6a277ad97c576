/**
 * The mutating decision for pods (CREATE): a pod that at least one SecurityGroupPolicy selects, or whose (or
 * whose ServiceAccount's) security-group annotation is allowed to give it groups, must request one
 * `vpc.amazonaws.com/pod-eni`, so the scheduler only places it on a node with a free branch ENI slot and
 * the VPC CNI waits for the branch ENI annotation instead of wiring the pod to the node's ENI. As on EKS
 * (docs/compatibility.md#the-pod-eni-resource) the request and the limit go on containers[0] only: extended resources are counted per
 * pod, so one container carrying it is enough, and putting it on more would ask for more ENIs.
 *
 * Pure: the server gathers the namespace's policies and the pod's ServiceAccount from the caches and calls
 * this; it never awaits, logs or reads the clock.
 */
import { ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL, FARGATE_PROFILE_LABEL, POD_ENI_RESOURCE } from '../api/constants.ts';
import type { ObjectMeta, SecurityGroupPolicy } from '../api/types.ts';
import { securityGroupsForPod, type AnnotationScope } from '../controllers/pod/index.ts';
import {
  describePod,
  escapeJsonPointer,
  type AdmissionPod,
  type AdmissionRequest,
  type AdmissionVerdict,
  type JsonPatchAdd,
} from './admission.ts';

/** What of a ServiceAccount policy matching reads. */
export interface ServiceAccountLike {
  metadata: Pick<ObjectMeta, 'name'> & Partial<ObjectMeta>;
}

/**
 * What gives a pod groups: the matching policies and, given `annotations`, its allowed annotation sources
 * (`sources` empty when nothing does), and the groups known now (a policy naming groups by name before the
 * operator resolved them selects the pod without contributing ids yet). The composition root passes the pod
 * controller's pure `securityGroupsForPod`, so the webhook and the reconciler that later creates the branch
 * ENI agree on what "matches" means.
 */
export type PodPolicyMatcher = (
  pod: AdmissionPod,
  serviceAccount: ServiceAccountLike | undefined,
  policies: readonly SecurityGroupPolicy[],
  annotations: AnnotationScope | undefined,
) => { sources: readonly string[]; groupIds: readonly string[] };

/** The pod controller's matching, so admission and branch ENI creation agree on what "matches" means. */
export const matchPodPolicies: PodPolicyMatcher = (pod, serviceAccount, policies, annotations) => {
  const match = securityGroupsForPod(pod, serviceAccount, policies, annotations);
  return { sources: match.matchedPolicies, groupIds: match.groupIds };
};

/** Whether annotations can give this namespace's pods groups at all (feature on, namespace opted in). */
export function mayUseAnnotations(annotations: AnnotationScope | undefined): boolean {
  return (
    annotations !== undefined &&
    annotations.rule.isEnabled &&
    annotations.namespaceLabels?.[ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL] === 'true'
  );
}

export interface MutationInputs {
  /** SecurityGroupPolicies of the pod's namespace, from the cache. */
  policies: readonly SecurityGroupPolicy[];
  /** The pod's ServiceAccount from the cache; undefined when the cache does not have it. */
  serviceAccount: ServiceAccountLike | undefined;
  matcher: PodPolicyMatcher;
  /** The namespace's labels and the operator's annotation rule (security groups by annotation). */
  annotations: AnnotationScope;
}

export const POD_ENI_QUANTITY = '1';

export function decidePodMutation(request: AdmissionRequest, inputs: MutationInputs): AdmissionVerdict {
  const pod = request.object;
  if (request.operation !== 'CREATE' || !pod) return { kind: 'allow', reason: 'not-a-pod-create' };
  if (pod.spec?.hostNetwork) return { kind: 'allow', reason: 'host-network' };
  // Fargate runs its own pod security groups; a branch ENI from us would never be used there.
  if (pod.metadata.labels?.[FARGATE_PROFILE_LABEL] !== undefined) return { kind: 'allow', reason: 'fargate' };
  const annotationsApply = mayUseAnnotations(inputs.annotations);
  if (inputs.policies.length === 0 && !annotationsApply) return { kind: 'allow', reason: 'no-policies' };

  const serviceAccountName = pod.spec?.serviceAccountName || 'default';
  if (!inputs.serviceAccount && (annotationsApply || inputs.policies.some(selectsByServiceAccount))) {
    // Without the ServiceAccount's labels (or annotation) we cannot tell whether it gives the pod groups,
    // and admitting the pod without the resource would run it with the node's groups. Pod creators
    // (ReplicaSet, Job, StatefulSet controllers) retry, and by then the cache has caught up.
    const namespace = pod.metadata.namespace || request.namespace || '';
    return {
      kind: 'deny',
      code: 500,
      reason: 'service-account-not-cached',
      message:
        `sgp-operator cannot decide whether pod ${describePod(request)} needs a branch ENI: ServiceAccount ` +
        `${namespace}/${serviceAccountName} is not in its cache yet and ` +
        (annotationsApply
          ? 'its security-group annotation may give the pod groups'
          : 'a SecurityGroupPolicy in the namespace selects by ServiceAccount labels') +
        '; retry, or create the ServiceAccount first',
    };
  }

  const match = inputs.matcher(pod, inputs.serviceAccount, inputs.policies, inputs.annotations);
  if (match.sources.length === 0) return { kind: 'allow', reason: 'no-matching-policy' };

  const patch = podEniResourcePatch(pod);
  return patch.length === 0
    ? { kind: 'allow', reason: 'already-requested' }
    : { kind: 'patch', reason: 'pod-eni-requested', patch };
}

/** True when containers[0] already requests and limits exactly one pod ENI. */
export function hasPodEniResource(pod: AdmissionPod): boolean {
  return podEniResourcePatch(pod).length === 0;
}

/**
 * JSON patch that makes containers[0] request and limit one pod ENI, creating `resources`, `limits` and
 * `requests` when missing and replacing a different quantity (the API server requires request == limit for
 * extended resources, and the branch ENI count is one per pod). Empty when nothing needs to change, or when
 * the pod has no containers (the API server rejects such a pod anyway).
 */
export function podEniResourcePatch(pod: AdmissionPod): JsonPatchAdd[] {
  const container = pod.spec?.containers?.[0];
  if (!container) return [];
  const base = '/spec/containers/0/resources';
  const resources = container.resources;
  if (!resources) {
    return [
      {
        op: 'add',
        path: base,
        value: { limits: { [POD_ENI_RESOURCE]: POD_ENI_QUANTITY }, requests: { [POD_ENI_RESOURCE]: POD_ENI_QUANTITY } },
      },
    ];
  }
  const patch: JsonPatchAdd[] = [];
  for (const field of ['limits', 'requests'] as const) {
    const quantities = resources[field];
    if (!quantities) {
      patch.push({ op: 'add', path: `${base}/${field}`, value: { [POD_ENI_RESOURCE]: POD_ENI_QUANTITY } });
    } else if (quantities[POD_ENI_RESOURCE] !== POD_ENI_QUANTITY) {
      patch.push({
        op: quantities[POD_ENI_RESOURCE] === undefined ? 'add' : 'replace',
        path: `${base}/${field}/${escapeJsonPointer(POD_ENI_RESOURCE)}`,
        value: POD_ENI_QUANTITY,
      });
    }
  }
  return patch;
}

/** Any serviceAccountSelector, even an empty one, makes the answer depend on the ServiceAccount. */
function selectsByServiceAccount(policy: SecurityGroupPolicy): boolean {
  return policy.spec.serviceAccountSelector !== undefined;
}
