import { describe, expect, test } from '@jest/globals';
import {
  decideSecurityGroupAnnotationAdmission,
  desiredWebhooks,
  toAdmissionResponse,
  type AdmissionRequest,
  type AnnotatedObject,
  type AnnotationAdmissionInputs,
} from '../../../operator/webhook/index.ts';

const ANNOTATION = 'vpc.amazonaws.com/security-groups';
const ALLOWED = 'sg-0123abcd';
const OUTSIDE = 'sg-0badbad0';
const OPTED_IN = { 'trunking.sgp-operator.io/allow-security-group-annotations': 'true' };
const ON: AnnotationAdmissionInputs = {
  rule: { isEnabled: true, allowList: [ALLOWED] },
  namespaceLabels: OPTED_IN,
  isNamespaceCached: true,
};
const POD_ENI = { 'vpc.amazonaws.com/pod-eni': '1' };

const pod = (annotation: string | undefined, podEni = true): AnnotatedObject => ({
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    ...(annotation === undefined ? {} : { annotations: { [ANNOTATION]: annotation } }),
  },
  spec: { containers: [{ name: 'app', ...(podEni ? { resources: { limits: POD_ENI, requests: POD_ENI } } : {}) }] },
});
const serviceAccount = (annotation: string): AnnotatedObject => ({
  metadata: { name: 'payments', namespace: 'shop', annotations: { [ANNOTATION]: annotation } },
});
const deployment = (annotation: string): AnnotatedObject => ({
  metadata: { name: 'web', namespace: 'shop' },
  spec: { template: { metadata: { annotations: { [ANNOTATION]: annotation } } } },
});
const cronJob = (annotation: string): AnnotatedObject => ({
  metadata: { name: 'nightly', namespace: 'shop' },
  spec: { jobTemplate: { spec: { template: { metadata: { annotations: { [ANNOTATION]: annotation } } } } } },
});

function request(
  kind: string,
  operation: 'CREATE' | 'UPDATE',
  object: AnnotatedObject,
  oldObject?: AnnotatedObject,
): AdmissionRequest<AnnotatedObject> {
  return {
    uid: 'req-1',
    kind: { group: '', version: 'v1', kind },
    operation,
    namespace: 'shop',
    userInfo: { username: 'alice' },
    object,
    ...(oldObject ? { oldObject } : {}),
  };
}

const NOT_ALLOWED = (where: string) =>
  `security group ${OUTSIDE} in annotation ${ANNOTATION} of ${where} is not in the operator's allow-list ` +
  `(--security-group-annotation-allow-list); ask a cluster admin to add it, or use a SecurityGroupPolicy`;

describe('decideSecurityGroupAnnotationAdmission', () => {
  test.each([
    {
      name: 'Pod CREATE, allowed group',
      request: request('Pod', 'CREATE', pod(ALLOWED)),
      reason: 'annotation-allowed',
    },
    { name: 'Pod without the annotation', request: request('Pod', 'CREATE', pod(undefined)), reason: 'no-annotation' },
    {
      name: 'Pod UPDATE leaving a now-disallowed annotation as it was (e.g. the operator writing pod-eni)',
      request: request('Pod', 'UPDATE', pod(OUTSIDE), pod(OUTSIDE)),
      reason: 'annotation-unchanged',
    },
    {
      name: 'Pod UPDATE changing to another allowed value on a pod-eni pod',
      request: request('Pod', 'UPDATE', pod(ALLOWED), pod(undefined)),
      reason: 'annotation-allowed',
    },
    {
      name: 'ServiceAccount, allowed',
      request: request('ServiceAccount', 'CREATE', serviceAccount(ALLOWED)),
      reason: 'annotation-allowed',
    },
    {
      name: 'a kind we do not check',
      request: request('ConfigMap', 'CREATE', pod(OUTSIDE)),
      reason: 'kind-not-annotatable',
    },
  ])('allows: $name', ({ request: given, reason }) => {
    expect(decideSecurityGroupAnnotationAdmission(given, ON)).toEqual({
      verdict: { kind: 'allow', reason },
      refusals: [],
    });
  });

  test.each([
    { name: 'Pod', request: request('Pod', 'CREATE', pod(`${ALLOWED},${OUTSIDE}`)), where: 'Pod shop/web-0' },
    {
      name: 'ServiceAccount',
      request: request('ServiceAccount', 'UPDATE', serviceAccount(OUTSIDE), serviceAccount(ALLOWED)),
      where: 'ServiceAccount shop/payments',
    },
    {
      name: 'Deployment pod template',
      request: request('Deployment', 'CREATE', deployment(OUTSIDE)),
      where: 'the pod template of Deployment shop/web',
    },
    {
      name: 'CronJob job template',
      request: request('CronJob', 'CREATE', cronJob(OUTSIDE)),
      where: 'the pod template of CronJob shop/nightly',
    },
  ])('denies a group outside the allow-list: $name', ({ request: given, where }) => {
    const { verdict, refusals } = decideSecurityGroupAnnotationAdmission(given, ON);
    expect(verdict).toEqual({ kind: 'deny', code: 403, reason: 'annotation-refused', message: NOT_ALLOWED(where) });
    expect(refusals.map((refusal) => refusal.reason)).toEqual(['GroupNotAllowed']);
  });

  test('denies in a namespace not opted in, naming the label', () => {
    const { verdict } = decideSecurityGroupAnnotationAdmission(request('Pod', 'CREATE', pod(ALLOWED)), {
      ...ON,
      namespaceLabels: {},
    });
    expect(verdict).toMatchObject({
      kind: 'deny',
      code: 403,
      message:
        `annotation ${ANNOTATION} of Pod shop/web-0 is not allowed: namespace shop is not labelled ` +
        'trunking.sgp-operator.io/allow-security-group-annotations=true; ask a cluster admin to label it, or use a SecurityGroupPolicy',
    });
  });

  test('every problem at once: malformed and disallowed', () => {
    const { verdict } = decideSecurityGroupAnnotationAdmission(request('Pod', 'CREATE', pod(`sg-nope,${OUTSIDE}`)), ON);
    expect(verdict).toMatchObject({
      kind: 'deny',
      message:
        `"sg-nope" in annotation ${ANNOTATION} of Pod shop/web-0 is not a security group id (sg- followed by 8 or 17 ` +
        `hex digits); fix the annotation; ${NOT_ALLOWED('Pod shop/web-0')}`,
    });
  });

  test('adding the annotation to a running pod without the pod-eni resource is denied: resources cannot change', () => {
    const { verdict } = decideSecurityGroupAnnotationAdmission(
      request('Pod', 'UPDATE', pod(ALLOWED, false), pod(undefined, false)),
      ON,
    );
    expect(verdict).toEqual({
      kind: 'deny',
      code: 403,
      reason: 'pod-eni-not-requested',
      message:
        `annotation ${ANNOTATION} cannot be added to or changed on Pod shop/web-0: the pod does not request ` +
        'vpc.amazonaws.com/pod-eni, so it has no branch ENI to carry the groups, and resource requests cannot ' +
        'change; set the annotation when the pod is created',
    });
  });

  test('a pod created from a generateName is named by its prefix', () => {
    const object = pod(OUTSIDE);
    const unnamed = {
      ...object,
      metadata: { namespace: 'shop', generateName: 'web-', annotations: object.metadata.annotations },
    };
    const { verdict } = decideSecurityGroupAnnotationAdmission(request('Pod', 'CREATE', unnamed), ON);
    expect(verdict).toMatchObject({ message: NOT_ALLOWED('Pod shop/web-*') });
  });

  test('namespace not cached yet: a retryable denial, not a verdict on the label', () => {
    const { verdict } = decideSecurityGroupAnnotationAdmission(request('Pod', 'CREATE', pod(ALLOWED)), {
      ...ON,
      namespaceLabels: undefined,
      isNamespaceCached: false,
    });
    expect(verdict).toEqual({
      kind: 'deny',
      code: 500,
      reason: 'namespace-not-cached',
      message: `sgp-operator cannot check annotation ${ANNOTATION} of Pod shop/web-0: namespace shop is not in its cache yet; retry in a few seconds`,
    });
  });

  test('feature off: allowed with a warning that says how to enable it, on the wire too', () => {
    const off = { rule: { isEnabled: false, allowList: [] }, namespaceLabels: undefined, isNamespaceCached: false };
    const { verdict, refusals } = decideSecurityGroupAnnotationAdmission(
      request('Deployment', 'CREATE', deployment(OUTSIDE)),
      off,
    );
    const warning =
      `annotation ${ANNOTATION} of the pod template of Deployment shop/web is ignored: sgp-operator runs without ` +
      '--enable-security-group-annotations; use a SecurityGroupPolicy, or ask a cluster admin to enable the annotation';
    expect(verdict).toEqual({ kind: 'allow', reason: 'annotation-ignored', warnings: [warning] });
    expect(refusals.map((refusal) => refusal.reason)).toEqual(['FeatureDisabled']);
    expect(toAdmissionResponse('req-1', verdict)).toEqual({ uid: 'req-1', allowed: true, warnings: [warning] });
  });
});

describe('annotation webhooks in the configurations', () => {
  const { mutating, validating } = desiredWebhooks(
    {
      mutatingName: 'm',
      validatingName: 'v',
      target: { baseUrl: 'https://127.0.0.1:9443' },
      namespaceSelector: { matchLabels: { 'trunking.sgp-operator.io/has-policies': 'true' } },
      annotationNamespaceSelector: {},
      operatorUsername: 'system:serviceaccount:sgp-system:sgp-operator-controller-manager',
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
    },
    undefined,
  );

  test('the opted-in namespaces get a fail-closed mutating webhook on the pod path', () => {
    expect(mutating.find((webhook) => webhook.name === 'mpod-annotations.trunking.sgp-operator.io')).toMatchObject({
      clientConfig: { url: 'https://127.0.0.1:9443/mutate-v1-pod' },
      namespaceSelector: { matchLabels: OPTED_IN },
      failurePolicy: 'Fail',
    });
  });

  test('validation covers every namespace, fails open, and only sees new or changed annotations', () => {
    const annotationWebhooks = validating.filter((webhook) => webhook.name.startsWith('vannotations-'));
    expect(
      annotationWebhooks.map((webhook) => ({
        name: webhook.name,
        resources: webhook.rules.map((rule) => `${rule.apiGroups[0] || 'core'}/${rule.resources[0]}`),
        failurePolicy: webhook.failurePolicy,
        namespaceSelector: webhook.namespaceSelector,
      })),
    ).toEqual([
      {
        name: 'vannotations-objects.trunking.sgp-operator.io',
        resources: ['core/pods', 'core/serviceaccounts'],
        failurePolicy: 'Ignore',
        namespaceSelector: {},
      },
      {
        name: 'vannotations-pod-templates.trunking.sgp-operator.io',
        resources: ['apps/deployments', 'apps/statefulsets', 'apps/daemonsets', 'apps/replicasets', 'batch/jobs'],
        failurePolicy: 'Ignore',
        namespaceSelector: {},
      },
      {
        name: 'vannotations-job-templates.trunking.sgp-operator.io',
        resources: ['batch/cronjobs'],
        failurePolicy: 'Ignore',
        namespaceSelector: {},
      },
    ]);
    expect(annotationWebhooks[1]?.matchConditions?.[0]?.expression).toBe(
      '(has(object.spec) && has(object.spec.template) && has(object.spec.template.metadata) && ' +
        "has(object.spec.template.metadata.annotations) && 'vpc.amazonaws.com/security-groups' in " +
        "object.spec.template.metadata.annotations) && (request.operation == 'CREATE' || !(has(oldObject.spec) && " +
        'has(oldObject.spec.template) && has(oldObject.spec.template.metadata) && ' +
        "has(oldObject.spec.template.metadata.annotations) && 'vpc.amazonaws.com/security-groups' in " +
        "oldObject.spec.template.metadata.annotations) || oldObject.spec.template.metadata.annotations['vpc.amazonaws.com/security-groups'] " +
        "!= object.spec.template.metadata.annotations['vpc.amazonaws.com/security-groups'])",
    );
  });
});
