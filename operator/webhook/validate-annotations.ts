/**
 * The validating decision for `vpc.amazonaws.com/security-groups` annotations (CREATE and UPDATE) on Pods,
 * ServiceAccounts and the pod templates of workloads. It refuses, with the pod controller's own judgement
 * (controllers/pod/annotation-groups.ts), what the controller would refuse later anyway, so that the author
 * hears about it at `kubectl apply` time: a Deployment with a disallowed template annotation fails there,
 * rather than as a FailedCreate event on a ReplicaSet nobody looks at.
 *
 * - Feature off: allowed, with an admission warning that the annotation is ignored and how to enable it.
 * - An UPDATE that leaves the annotation as it was is allowed whatever it says: the pod controller already
 *   refuses what no longer passes (label removed, allow-list shrunk), and denying here would block unrelated
 *   writes to the object, the operator's own pod-eni annotation included.
 * - Adding or changing the annotation on a pod that does not request vpc.amazonaws.com/pod-eni is denied:
 *   container resources cannot change on an existing pod, so the groups could never be applied.
 *
 * Pure: (request, namespace labels, rule) → verdict and the refusals to count.
 */
import { SECURITY_GROUPS_ANNOTATION } from '../api/constants.ts';
import type { ObjectMeta } from '../framework/meta.ts';
import {
  judgeSecurityGroupsAnnotation,
  type AnnotationRefusal,
  type SecurityGroupAnnotationRule,
} from '../controllers/pod/index.ts';
import type { AdmissionContainer, AdmissionRequest, AdmissionVerdict } from './admission.ts';
import { hasPodEniResource } from './mutate.ts';

/** A kind whose objects (or whose pod templates) can carry the annotation. */
export interface AnnotatedKind {
  kind: string;
  group: string;
  resource: string;
}

/** Where in an object the annotation sits, and the kinds that keep it there. */
export interface AnnotationPlace {
  /** Short name, part of the webhook's name. */
  name: string;
  /** Path to the pod template whose metadata holds the annotation; empty: the object's own metadata. */
  templatePath: readonly string[];
  kinds: readonly AnnotatedKind[];
}

/** Every kind the annotation webhooks see; configuration.ts builds one webhook per place. */
export const ANNOTATION_PLACES: readonly AnnotationPlace[] = [
  {
    name: 'objects',
    templatePath: [],
    kinds: [
      { kind: 'Pod', group: '', resource: 'pods' },
      { kind: 'ServiceAccount', group: '', resource: 'serviceaccounts' },
    ],
  },
  {
    name: 'pod-templates',
    templatePath: ['spec', 'template'],
    kinds: [
      { kind: 'Deployment', group: 'apps', resource: 'deployments' },
      { kind: 'StatefulSet', group: 'apps', resource: 'statefulsets' },
      { kind: 'DaemonSet', group: 'apps', resource: 'daemonsets' },
      { kind: 'ReplicaSet', group: 'apps', resource: 'replicasets' },
      { kind: 'Job', group: 'batch', resource: 'jobs' },
    ],
  },
  {
    name: 'job-templates',
    templatePath: ['spec', 'jobTemplate', 'spec', 'template'],
    kinds: [{ kind: 'CronJob', group: 'batch', resource: 'cronjobs' }],
  },
];

/** What the decision reads of any of those objects; the rest passes through untyped. */
export interface AnnotatedObject {
  metadata: Partial<ObjectMeta> & { generateName?: string };
  spec?: { containers?: AdmissionContainer[] } & Record<string, unknown>;
}

export interface AnnotationAdmissionInputs {
  rule: SecurityGroupAnnotationRule;
  /** Labels of the request's namespace; `isNamespaceCached` false when the cache does not hold it yet. */
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  isNamespaceCached: boolean;
}

export interface AnnotationAdmission {
  verdict: AdmissionVerdict;
  /** What was refused (denied, or warned about when the feature is off), for the refusals metric. */
  refusals: AnnotationRefusal[];
}

/** The annotation's value on the object (or its pod template), undefined when absent. */
export function securityGroupsAnnotationOf(
  object: AnnotatedObject | undefined,
  templatePath: readonly string[],
): string | undefined {
  let node: unknown = object;
  for (const segment of templatePath) {
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
  }
  const metadata =
    node !== null && typeof node === 'object' ? (node as { metadata?: Partial<ObjectMeta> }).metadata : undefined;
  const value = metadata?.annotations?.[SECURITY_GROUPS_ANNOTATION];
  return typeof value === 'string' ? value : undefined;
}

export function decideSecurityGroupAnnotationAdmission(
  request: AdmissionRequest<AnnotatedObject>,
  inputs: AnnotationAdmissionInputs,
): AnnotationAdmission {
  const allow = (reason: string): AnnotationAdmission => ({ verdict: { kind: 'allow', reason }, refusals: [] });
  const object = request.object;
  if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || !object) return allow('not-a-write');
  const kind = request.kind?.kind ?? '';
  const place = ANNOTATION_PLACES.find((candidate) => candidate.kinds.some((annotated) => annotated.kind === kind));
  if (!place) return allow('kind-not-annotatable');
  const value = securityGroupsAnnotationOf(object, place.templatePath);
  if (value === undefined) return allow('no-annotation');
  if (request.operation === 'UPDATE' && value === securityGroupsAnnotationOf(request.oldObject, place.templatePath)) {
    return allow('annotation-unchanged');
  }

  const namespace = object.metadata.namespace || request.namespace || '';
  const name =
    object.metadata.name || request.name || (object.metadata.generateName ? `${object.metadata.generateName}*` : '');
  const carrier = { kind, namespace, name, isPodTemplate: place.templatePath.length > 0 };
  if (inputs.rule.isEnabled && !inputs.isNamespaceCached) {
    return {
      verdict: {
        kind: 'deny',
        code: 500,
        reason: 'namespace-not-cached',
        message:
          `sgp-operator cannot check annotation ${SECURITY_GROUPS_ANNOTATION} of ${kind} ${namespace}/${name}: ` +
          `namespace ${namespace} is not in its cache yet; retry in a few seconds`,
      },
      refusals: [],
    };
  }
  if (inputs.rule.isEnabled && request.operation === 'UPDATE' && kind === 'Pod' && !hasPodEniResource(object)) {
    return {
      verdict: {
        kind: 'deny',
        code: 403,
        reason: 'pod-eni-not-requested',
        message:
          `annotation ${SECURITY_GROUPS_ANNOTATION} cannot be added to or changed on Pod ${namespace}/${name}: the pod ` +
          `does not request vpc.amazonaws.com/pod-eni, so it has no branch ENI to carry the groups, and resource ` +
          `requests cannot change; set the annotation when the pod is created`,
      },
      refusals: [],
    };
  }

  const judgement = judgeSecurityGroupsAnnotation(carrier, value, {
    namespaceLabels: inputs.namespaceLabels,
    rule: inputs.rule,
  });
  const { refusals } = judgement;
  if (refusals.length === 0) return allow('annotation-allowed');
  if (refusals.every((refusal) => refusal.reason === 'FeatureDisabled')) {
    return {
      verdict: { kind: 'allow', reason: 'annotation-ignored', warnings: refusals.map((refusal) => refusal.message) },
      refusals,
    };
  }
  return {
    verdict: {
      kind: 'deny',
      code: 403,
      reason: 'annotation-refused',
      message: refusals.map((refusal) => refusal.message).join('; '),
    },
    refusals,
  };
}
