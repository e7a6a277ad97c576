import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupPolicy } from '../../../operator/api/types.ts';
import { SECURITY_GROUP_ANNOTATIONS_OFF } from '../../../operator/controllers/pod/index.ts';
import {
  decidePodMutation,
  matchPodPolicies,
  toAdmissionResponse,
  type AdmissionPod,
  type AdmissionRequest,
  type ServiceAccountLike,
} from '../../../operator/webhook/index.ts';

const policy = (name: string, spec: Partial<SecurityGroupPolicy['spec']>): SecurityGroupPolicy => ({
  apiVersion: 'vpcresources.k8s.aws/v1beta1',
  kind: 'SecurityGroupPolicy',
  metadata: { name, namespace: 'shop' },
  spec: { securityGroups: { groupIds: ['sg-0a'] }, ...spec },
});
const byPodLabel = policy('db-clients', { podSelector: { matchLabels: { role: 'db-client' } } });
const bySaLabel = policy('payments', { serviceAccountSelector: { matchLabels: { team: 'payments' } } });

const pod = (overrides: { labels?: Record<string, string>; spec?: AdmissionPod['spec'] } = {}): AdmissionPod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', labels: overrides.labels },
  spec: overrides.spec ?? { containers: [{ name: 'app' }, { name: 'sidecar' }] },
});
const create = (object: AdmissionPod): AdmissionRequest => ({
  uid: 'req-1',
  operation: 'CREATE',
  namespace: 'shop',
  userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
  object,
});
const serviceAccount = (labels: Record<string, string>): ServiceAccountLike => ({
  metadata: { name: 'default', namespace: 'shop', labels },
});
/** Security groups by annotation off (the default). */
const OFF = { namespaceLabels: undefined, rule: SECURITY_GROUP_ANNOTATIONS_OFF };
const BOTH = { limits: { 'vpc.amazonaws.com/pod-eni': '1' }, requests: { 'vpc.amazonaws.com/pod-eni': '1' } };

describe('decidePodMutation', () => {
  test.each([
    {
      name: 'pod-label match, no resources: adds the whole resources map on containers[0]',
      pod: pod({ labels: { role: 'db-client' } }),
      sa: undefined,
      policies: [byPodLabel],
      patch: [{ op: 'add', path: '/spec/containers/0/resources', value: BOTH }],
    },
    {
      name: 'a policy naming its groups by name only, before the operator resolved them',
      pod: pod({ labels: { role: 'db-client' } }),
      sa: undefined,
      policies: [
        policy('by-name', {
          podSelector: { matchLabels: { role: 'db-client' } },
          securityGroups: { groupNames: ['payments-db'] },
        }),
      ],
      patch: [{ op: 'add', path: '/spec/containers/0/resources', value: BOTH }],
    },
    {
      name: 'ServiceAccount-label match alone',
      pod: pod(),
      sa: serviceAccount({ team: 'payments' }),
      policies: [bySaLabel],
      patch: [{ op: 'add', path: '/spec/containers/0/resources', value: BOTH }],
    },
    {
      name: 'existing limits and requests keep their other resources',
      pod: pod({
        labels: { role: 'db-client' },
        spec: { containers: [{ name: 'app', resources: { limits: { cpu: '1' }, requests: { cpu: '500m' } } }] },
      }),
      sa: undefined,
      policies: [byPodLabel],
      patch: [
        { op: 'add', path: '/spec/containers/0/resources/limits/vpc.amazonaws.com~1pod-eni', value: '1' },
        { op: 'add', path: '/spec/containers/0/resources/requests/vpc.amazonaws.com~1pod-eni', value: '1' },
      ],
    },
    {
      name: 'resources without requests: creates the missing map',
      pod: pod({
        labels: { role: 'db-client' },
        spec: { containers: [{ name: 'app', resources: { limits: { cpu: '1' } } }] },
      }),
      sa: undefined,
      policies: [byPodLabel],
      patch: [
        { op: 'add', path: '/spec/containers/0/resources/limits/vpc.amazonaws.com~1pod-eni', value: '1' },
        { op: 'add', path: '/spec/containers/0/resources/requests', value: { 'vpc.amazonaws.com/pod-eni': '1' } },
      ],
    },
    {
      name: 'a different quantity is replaced with one ENI',
      pod: pod({
        labels: { role: 'db-client' },
        spec: {
          containers: [
            { name: 'app', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '2' }, requests: BOTH.requests } },
          ],
        },
      }),
      sa: undefined,
      policies: [byPodLabel],
      patch: [{ op: 'replace', path: '/spec/containers/0/resources/limits/vpc.amazonaws.com~1pod-eni', value: '1' }],
    },
  ])('$name', ({ pod: object, sa, policies, patch }) => {
    const verdict = decidePodMutation(create(object), {
      policies,
      serviceAccount: sa,
      matcher: matchPodPolicies,
      annotations: OFF,
    });
    expect(verdict).toEqual({ kind: 'patch', reason: 'pod-eni-requested', patch });
  });

  test.each([
    {
      name: 'no policies in the namespace',
      pod: pod({ labels: { role: 'db-client' } }),
      sa: undefined,
      policies: [],
      reason: 'no-policies',
    },
    {
      name: 'policies match nothing',
      pod: pod({ labels: { role: 'web' } }),
      sa: serviceAccount({}),
      policies: [byPodLabel, bySaLabel],
      reason: 'no-matching-policy',
    },
    {
      name: 'pod with no labels',
      pod: pod(),
      sa: serviceAccount({}),
      policies: [byPodLabel],
      reason: 'no-matching-policy',
    },
    {
      name: 'hostNetwork pod, even when selected',
      pod: pod({ labels: { role: 'db-client' }, spec: { hostNetwork: true, containers: [{ name: 'app' }] } }),
      sa: undefined,
      policies: [byPodLabel],
      reason: 'host-network',
    },
    {
      name: 'Fargate pod',
      pod: pod({ labels: { role: 'db-client', 'eks.amazonaws.com/fargate-profile': 'fp' } }),
      sa: undefined,
      policies: [byPodLabel],
      reason: 'fargate',
    },
    {
      name: 'already requests exactly one pod ENI (no duplicate)',
      pod: pod({ labels: { role: 'db-client' }, spec: { containers: [{ name: 'app', resources: BOTH }] } }),
      sa: undefined,
      policies: [byPodLabel],
      reason: 'already-requested',
    },
  ])('untouched: $name', ({ pod: object, sa, policies, reason }) => {
    expect(
      decidePodMutation(create(object), { policies, serviceAccount: sa, matcher: matchPodPolicies, annotations: OFF }),
    ).toEqual({
      kind: 'allow',
      reason,
    });
  });

  test('a ServiceAccount selector with the ServiceAccount not cached denies with a retryable message', () => {
    const verdict = decidePodMutation(create(pod()), {
      policies: [bySaLabel],
      serviceAccount: undefined,
      matcher: matchPodPolicies,
      annotations: OFF,
    });
    expect(verdict).toEqual({
      kind: 'deny',
      code: 500,
      reason: 'service-account-not-cached',
      message:
        'sgp-operator cannot decide whether pod shop/web needs a branch ENI: ServiceAccount shop/default is not ' +
        'in its cache yet and a SecurityGroupPolicy in the namespace selects by ServiceAccount labels; retry, ' +
        'or create the ServiceAccount first',
    });
  });

  test('the wire response carries the patch as base64 JSON', () => {
    const verdict = decidePodMutation(create(pod({ labels: { role: 'db-client' } })), {
      policies: [byPodLabel],
      serviceAccount: undefined,
      matcher: matchPodPolicies,
      annotations: OFF,
    });
    const response = toAdmissionResponse('req-1', verdict);
    expect({ ...response, patch: JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString()) }).toEqual({
      uid: 'req-1',
      allowed: true,
      patchType: 'JSONPatch',
      patch: [{ op: 'add', path: '/spec/containers/0/resources', value: BOTH }],
    });
  });
});
