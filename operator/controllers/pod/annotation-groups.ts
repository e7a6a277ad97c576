/**
 * Security groups by annotation: `vpc.amazonaws.com/security-groups: sg-a,sg-b` on a Pod (or the pod
 * template that creates it) or on its ServiceAccount. This is our extension; EKS reads no such annotation
 * (docs/compatibility.md#where-we-differ-on-purpose) and pods there get groups from SecurityGroupPolicies only.
 *
 * Why it is fenced in. A SecurityGroupPolicy is a namespaced object an admin can keep away from pod authors
 * with RBAC; an annotation is written by whoever writes the pod. Without limits any pod author could put a
 * pod behind any security group in the VPC, e.g. the database's. So an annotation counts only when all three
 * hold, checked in this order (the first failed gate refuses the whole annotation; then every malformed or
 * disallowed id is reported at once):
 *   1. the operator runs with --enable-security-group-annotations (off by default);
 *   2. the namespace carries the label ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL=true (set by a cluster admin);
 *   3. each id is well-formed and in --security-group-annotation-allow-list.
 *
 * The same judgement serves admission (validate-annotations.ts denies, mutate.ts adds the pod-eni resource)
 * and the pod controller, which re-checks at every reconcile because the webhook may have been down, and the
 * label or the allow-list may have changed since the pod was admitted. Refused groups are never applied.
 *
 * Pure: no I/O, no clock, no logging.
 */
import { ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL, SECURITY_GROUPS_ANNOTATION } from '../../api/constants.ts';

export interface SecurityGroupAnnotationRule {
  /** --enable-security-group-annotations. */
  isEnabled: boolean;
  /** --security-group-annotation-allow-list: the only groups an annotation may name. */
  allowList: readonly string[];
}

/** The default: annotations are ignored, as EKS ignores them. */
export const SECURITY_GROUP_ANNOTATIONS_OFF: SecurityGroupAnnotationRule = Object.freeze({
  isEnabled: false,
  allowList: Object.freeze([]),
});

/** What the judgement reads besides the annotation: the namespace's labels and the operator's rule. */
export interface AnnotationScope {
  /** Labels of the namespace the annotated object lives in. */
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  rule: SecurityGroupAnnotationRule;
}

/** EC2 security group ids: "sg-" and 8 (older) or 17 lower-case hex digits. */
export const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export interface ParsedSecurityGroupsAnnotation {
  /** Well-formed ids, trimmed, first occurrence kept. */
  groupIds: string[];
  /** Entries that are not security group ids, as written (trimmed). */
  malformed: string[];
}

/** "sg-a, sg-b,,sg-a" → ids [sg-a, sg-b]; empty entries are skipped. */
export function parseSecurityGroupsAnnotation(value: string): ParsedSecurityGroupsAnnotation {
  const entries = [
    ...new Set(
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    ),
  ];
  return {
    groupIds: entries.filter((entry) => SECURITY_GROUP_ID.test(entry)),
    malformed: entries.filter((entry) => !SECURITY_GROUP_ID.test(entry)),
  };
}

/** The object an annotation was found on, for messages. */
export interface AnnotationCarrier {
  /** Pod, ServiceAccount, or a workload kind (Deployment, CronJob, …). */
  kind: string;
  namespace: string;
  name: string;
  /** The annotation sits in the object's pod template (workloads), not on the object itself. */
  isPodTemplate?: boolean;
}

export function describeCarrier(carrier: AnnotationCarrier): string {
  const object = `${carrier.kind} ${carrier.namespace}/${carrier.name}`;
  return carrier.isPodTemplate ? `the pod template of ${object}` : object;
}

export type AnnotationRefusalReason =
  /** The operator runs without --enable-security-group-annotations: the annotation is ignored. */
  | 'FeatureDisabled'
  /** The namespace lacks ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL=true. */
  | 'NamespaceNotAllowed'
  /** The annotation lists no id at all. */
  | 'EmptyAnnotation'
  /** An entry is not a security group id. */
  | 'MalformedGroupId'
  /** A well-formed id outside --security-group-annotation-allow-list. */
  | 'GroupNotAllowed';

export interface AnnotationRefusal {
  reason: AnnotationRefusalReason;
  /** The ids (or malformed entries) refused. */
  refused: string[];
  /** Names the group(s), the object carrying the annotation, the rule and the fix. */
  message: string;
}

export interface AnnotationJudgement {
  /** Ids the annotation may give. */
  groupIds: string[];
  refusals: AnnotationRefusal[];
}

const ALLOW_LIST_FLAG = '--security-group-annotation-allow-list';
const ENABLE_FLAG = '--enable-security-group-annotations';

/** Judges one annotation value found on `carrier` (see the file comment for the gates). */
export function judgeSecurityGroupsAnnotation(
  carrier: AnnotationCarrier,
  value: string,
  scope: AnnotationScope,
): AnnotationJudgement {
  const where = `annotation ${SECURITY_GROUPS_ANNOTATION} of ${describeCarrier(carrier)}`;
  const { groupIds, malformed } = parseSecurityGroupsAnnotation(value);
  const refuseAll = (reason: AnnotationRefusalReason, message: string): AnnotationJudgement => ({
    groupIds: [],
    refusals: [{ reason, refused: [...groupIds, ...malformed], message }],
  });
  if (!scope.rule.isEnabled) {
    return refuseAll(
      'FeatureDisabled',
      `${where} is ignored: sgp-operator runs without ${ENABLE_FLAG}; use a SecurityGroupPolicy, or ask a ` +
        'cluster admin to enable the annotation',
    );
  }
  if (scope.namespaceLabels?.[ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL] !== 'true') {
    return refuseAll(
      'NamespaceNotAllowed',
      `${where} is not allowed: namespace ${carrier.namespace} is not labelled ` +
        `${ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL}=true; ask a cluster admin to label it, or use a SecurityGroupPolicy`,
    );
  }
  if (groupIds.length === 0 && malformed.length === 0) {
    return refuseAll(
      'EmptyAnnotation',
      `${where} names no security group; list security group ids separated by commas, or remove it`,
    );
  }
  const refusals: AnnotationRefusal[] = [];
  if (malformed.length > 0) {
    const quoted = malformed.map((entry) => JSON.stringify(entry)).join(', ');
    refusals.push({
      reason: 'MalformedGroupId',
      refused: malformed,
      message:
        `${quoted} in ${where} ${malformed.length === 1 ? 'is not a security group id' : 'are not security group ids'} ` +
        '(sg- followed by 8 or 17 hex digits); fix the annotation',
    });
  }
  const allowList = new Set(scope.rule.allowList);
  for (const groupId of groupIds.filter((id) => !allowList.has(id))) {
    refusals.push({
      reason: 'GroupNotAllowed',
      refused: [groupId],
      message:
        `security group ${groupId} in ${where} is not in the operator's allow-list (${ALLOW_LIST_FLAG}); ` +
        'ask a cluster admin to add it, or use a SecurityGroupPolicy',
    });
  }
  return { groupIds: groupIds.filter((id) => allowList.has(id)), refusals };
}

/** What of a pod the annotation path reads. */
export interface PodForAnnotations {
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string> };
}

/** What of a ServiceAccount the annotation path reads. */
export interface ServiceAccountForAnnotations {
  metadata: { name?: string; annotations?: Record<string, string> };
}

export interface PodAnnotationGroups {
  /** Allowed ids, the pod's own first, then its ServiceAccount's; de-duplicated. */
  groupIds: string[];
  /**
   * Where allowed ids came from, as BranchInterface.spec.matchedPolicies records it beside policy names:
   * "annotation:Pod", "annotation:ServiceAccount/<name>". A policy name cannot contain ':'.
   */
  sources: string[];
  /** The same objects described for people ("Pod ns/name", "ServiceAccount ns/name"), in the same order. */
  carriers: string[];
  refusals: AnnotationRefusal[];
}

export const POD_ANNOTATION_SOURCE = 'annotation:Pod';
export const serviceAccountAnnotationSource = (name: string): string => `annotation:ServiceAccount/${name}`;

/** The groups a pod gets from its own and its ServiceAccount's annotation, and what was refused. */
export function annotationGroupsForPod(
  pod: PodForAnnotations,
  serviceAccount: ServiceAccountForAnnotations | undefined,
  scope: AnnotationScope,
): PodAnnotationGroups {
  const namespace = pod.metadata.namespace ?? '';
  const carriers: Array<{ carrier: AnnotationCarrier; value: string | undefined; source: string }> = [
    {
      carrier: { kind: 'Pod', namespace, name: pod.metadata.name ?? '' },
      value: pod.metadata.annotations?.[SECURITY_GROUPS_ANNOTATION],
      source: POD_ANNOTATION_SOURCE,
    },
    {
      carrier: { kind: 'ServiceAccount', namespace, name: serviceAccount?.metadata.name ?? '' },
      value: serviceAccount?.metadata.annotations?.[SECURITY_GROUPS_ANNOTATION],
      source: serviceAccountAnnotationSource(serviceAccount?.metadata.name ?? ''),
    },
  ];
  const result: PodAnnotationGroups = { groupIds: [], sources: [], carriers: [], refusals: [] };
  for (const { carrier, value, source } of carriers) {
    if (value === undefined) continue;
    const judgement = judgeSecurityGroupsAnnotation(carrier, value, scope);
    result.refusals.push(...judgement.refusals);
    if (judgement.groupIds.length === 0) continue;
    result.sources.push(source);
    result.carriers.push(describeCarrier(carrier));
    for (const groupId of judgement.groupIds) if (!result.groupIds.includes(groupId)) result.groupIds.push(groupId);
  }
  return result;
}
