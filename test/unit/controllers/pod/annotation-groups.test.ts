import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import {
  annotationGroupsForPod,
  judgeSecurityGroupsAnnotation,
  parseSecurityGroupsAnnotation,
  type AnnotationScope,
} from '../../../../operator/controllers/pod/annotation-groups.ts';
import { securityGroupsForPod } from '../../../../operator/controllers/pod/matching.ts';

const A = 'sg-0000000a';
const B = 'sg-0123456789abcdef0';
const OUTSIDE = 'sg-0badbad0';
const ANNOTATION = 'vpc.amazonaws.com/security-groups';
const OPTED_IN = { 'trunking.sgp-operator.io/allow-security-group-annotations': 'true' };
const ON: AnnotationScope = { namespaceLabels: OPTED_IN, rule: { isEnabled: true, allowList: [A, B] } };
const POD = { kind: 'Pod', namespace: 'shop', name: 'web-0' };
const WHERE = `annotation ${ANNOTATION} of Pod shop/web-0`;

describe('parseSecurityGroupsAnnotation', () => {
  test.each([
    { name: 'one id', value: A, groupIds: [A], malformed: [] },
    {
      name: 'trims, skips empty entries, keeps the first of duplicates',
      value: ` ${B}, ,${A},${B} `,
      groupIds: [B, A],
      malformed: [],
    },
    { name: 'a 17-digit id', value: B, groupIds: [B], malformed: [] },
    { name: 'empty', value: '', groupIds: [], malformed: [] },
    {
      name: 'upper-case hex, wrong length, a name',
      value: 'sg-0000000A,sg-123,web',
      groupIds: [],
      malformed: ['sg-0000000A', 'sg-123', 'web'],
    },
  ])('$name', ({ value, groupIds, malformed }) => {
    expect(parseSecurityGroupsAnnotation(value)).toEqual({ groupIds, malformed });
  });
});

describe('judgeSecurityGroupsAnnotation', () => {
  test('allowed ids in an opted-in namespace pass', () => {
    expect(judgeSecurityGroupsAnnotation(POD, `${A},${B}`, ON)).toEqual({ groupIds: [A, B], refusals: [] });
  });

  test.each([
    {
      name: 'feature off: ignored, naming the flag',
      scope: { ...ON, rule: { isEnabled: false, allowList: [A] } },
      value: A,
      reason: 'FeatureDisabled',
      message: `${WHERE} is ignored: sgp-operator runs without --enable-security-group-annotations; use a SecurityGroupPolicy, or ask a cluster admin to enable the annotation`,
    },
    {
      name: 'namespace not labelled: the whole annotation, malformed entries included',
      scope: { ...ON, namespaceLabels: { team: 'shop' } },
      value: `${A},nope`,
      reason: 'NamespaceNotAllowed',
      message: `${WHERE} is not allowed: namespace shop is not labelled trunking.sgp-operator.io/allow-security-group-annotations=true; ask a cluster admin to label it, or use a SecurityGroupPolicy`,
    },
    {
      name: 'label with another value',
      scope: { ...ON, namespaceLabels: { 'trunking.sgp-operator.io/allow-security-group-annotations': 'yes' } },
      value: A,
      reason: 'NamespaceNotAllowed',
      message: `${WHERE} is not allowed: namespace shop is not labelled trunking.sgp-operator.io/allow-security-group-annotations=true; ask a cluster admin to label it, or use a SecurityGroupPolicy`,
    },
    {
      name: 'empty value',
      scope: ON,
      value: ' , ',
      reason: 'EmptyAnnotation',
      message: `${WHERE} names no security group; list security group ids separated by commas, or remove it`,
    },
  ])('refused whole: $name', ({ scope, value, reason, message }) => {
    const judgement = judgeSecurityGroupsAnnotation(POD, value, scope);
    expect(judgement.groupIds).toEqual([]);
    expect(judgement.refusals.map((refusal) => ({ reason: refusal.reason, message: refusal.message }))).toEqual([
      { reason, message },
    ]);
  });

  test('malformed and disallowed ids are all reported; the allowed one still passes', () => {
    expect(judgeSecurityGroupsAnnotation(POD, `${A},sg-xyz,${OUTSIDE},web`, ON)).toEqual({
      groupIds: [A],
      refusals: [
        {
          reason: 'MalformedGroupId',
          refused: ['sg-xyz', 'web'],
          message: `"sg-xyz", "web" in ${WHERE} are not security group ids (sg- followed by 8 or 17 hex digits); fix the annotation`,
        },
        {
          reason: 'GroupNotAllowed',
          refused: [OUTSIDE],
          message: `security group ${OUTSIDE} in ${WHERE} is not in the operator's allow-list (--security-group-annotation-allow-list); ask a cluster admin to add it, or use a SecurityGroupPolicy`,
        },
      ],
    });
  });

  test('a pod template names its workload', () => {
    const deployment = { kind: 'Deployment', namespace: 'shop', name: 'web', isPodTemplate: true };
    expect(judgeSecurityGroupsAnnotation(deployment, OUTSIDE, ON).refusals[0]?.message).toBe(
      `security group ${OUTSIDE} in annotation ${ANNOTATION} of the pod template of Deployment shop/web is not in the operator's allow-list (--security-group-annotation-allow-list); ask a cluster admin to add it, or use a SecurityGroupPolicy`,
    );
  });
});

describe('annotationGroupsForPod', () => {
  const pod = (value?: string) => ({
    metadata: {
      name: 'web-0',
      namespace: 'shop',
      ...(value === undefined ? {} : { annotations: { [ANNOTATION]: value } }),
    },
  });
  const sa = (value?: string) => ({
    metadata: { name: 'payments', ...(value === undefined ? {} : { annotations: { [ANNOTATION]: value } }) },
  });

  test.each([
    { name: 'no annotation anywhere', pod: pod(), sa: sa(), groupIds: [], sources: [] },
    { name: 'pod only', pod: pod(A), sa: sa(), groupIds: [A], sources: ['annotation:Pod'] },
    {
      name: 'ServiceAccount only',
      pod: pod(),
      sa: sa(B),
      groupIds: [B],
      sources: ['annotation:ServiceAccount/payments'],
    },
    {
      name: 'both, unioned, pod first',
      pod: pod(`${B},${A}`),
      sa: sa(A),
      groupIds: [B, A],
      sources: ['annotation:Pod', 'annotation:ServiceAccount/payments'],
    },
    { name: 'ServiceAccount not cached', pod: pod(A), sa: undefined, groupIds: [A], sources: ['annotation:Pod'] },
    { name: 'nothing allowed: no source', pod: pod(OUTSIDE), sa: sa(), groupIds: [], sources: [] },
  ])('$name', ({ pod: p, sa: s, groupIds, sources }) => {
    const result = annotationGroupsForPod(p, s, ON);
    expect({ groupIds: result.groupIds, sources: result.sources }).toEqual({ groupIds, sources });
  });

  test('refusals name the ServiceAccount that carries the annotation', () => {
    expect(annotationGroupsForPod(pod(), sa(OUTSIDE), ON).refusals.map((refusal) => refusal.message)).toEqual([
      `security group ${OUTSIDE} in annotation ${ANNOTATION} of ServiceAccount shop/payments is not in the operator's allow-list (--security-group-annotation-allow-list); ask a cluster admin to add it, or use a SecurityGroupPolicy`,
    ]);
  });
});

describe('securityGroupsForPod with annotations: the union', () => {
  const policy: SecurityGroupPolicy = {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: 'db', namespace: 'shop' },
    spec: { podSelector: { matchLabels: { role: 'db' } }, securityGroups: { groupIds: ['sg-0000dbdb', A] } },
  };
  const pod = (labels: Record<string, string>, value: string) => ({
    metadata: { name: 'web-0', namespace: 'shop', labels, annotations: { [ANNOTATION]: value } },
  });

  test.each([
    {
      name: 'policy and annotation: policy groups first, duplicates once',
      pod: pod({ role: 'db' }, `${A},${B}`),
      groupIds: ['sg-0000dbdb', A, B],
      matched: ['db', 'annotation:Pod'],
      reason: 'PoliciesMatched',
      message: `Pod will get the following Security Groups [sg-0000dbdb ${A} ${B}] from SecurityGroupPolicy db and annotation ${ANNOTATION} of Pod shop/web-0`,
    },
    {
      name: 'annotation alone',
      pod: pod({}, B),
      groupIds: [B],
      matched: ['annotation:Pod'],
      reason: 'AnnotationMatched',
      message: `Pod will get the following Security Groups [${B}] from annotation ${ANNOTATION} of Pod shop/web-0`,
    },
    {
      name: 'policy alone (annotation refused): EKS wording unchanged',
      pod: pod({ role: 'db' }, OUTSIDE),
      groupIds: ['sg-0000dbdb', A],
      matched: ['db'],
      reason: 'PoliciesMatched',
      message: `Pod will get the following Security Groups [sg-0000dbdb ${A}]`,
    },
  ])('$name', ({ pod: p, groupIds, matched, reason, message }) => {
    const match = securityGroupsForPod(p, undefined, [policy], ON);
    expect({
      groupIds: match.groupIds,
      matched: match.matchedPolicies,
      reason: match.reason,
      message: match.message,
    }).toEqual({ groupIds, matched, reason, message });
  });

  test('without an annotation scope only policies count and nothing is refused', () => {
    const match = securityGroupsForPod(pod({}, B), undefined, [policy]);
    expect({ groupIds: match.groupIds, refusals: match.refusals, reason: match.reason }).toEqual({
      groupIds: [],
      refusals: [],
      reason: 'NoPolicyMatched',
    });
  });
});
