import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import type { SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import { decideMissingPodEni } from '../../../../operator/controllers/missingresource/index.ts';
import { matchPodPolicies } from '../../../../operator/webhook/index.ts';

const policy: SecurityGroupPolicy = {
  apiVersion: 'vpcresources.k8s.aws/v1beta1',
  kind: 'SecurityGroupPolicy',
  metadata: { name: 'db-clients', namespace: 'shop' },
  spec: { podSelector: { matchLabels: { role: 'db-client' } }, securityGroups: { groupIds: ['sg-0a'] } },
};
const owner = (kind: string) => [{ apiVersion: 'apps/v1', kind, name: 'web-7d9f', uid: 'u-1', controller: true }];
const pod = (
  patch: { meta?: Partial<LeanPod['metadata']>; spec?: LeanPod['spec']; phase?: 'Running' | 'Succeeded' } = {},
): LeanPod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop', uid: 'p-1', labels: { role: 'db-client' }, ...patch.meta },
  spec: patch.spec ?? { containers: [{ name: 'app' }] },
  status: { phase: patch.phase ?? 'Running' },
});
const WARN =
  "a SecurityGroupPolicy or security-group annotation gives this pod groups sg-0a but it does not request vpc.amazonaws.com/pod-eni, so it runs with the node's security groups; it was created before the policy or the namespace's annotation opt-in, or without the sgp-operator webhook";

describe('decideMissingPodEni', () => {
  test.each([
    {
      name: 'selected, no resource, not strict: warn',
      p: pod({ meta: { ownerReferences: owner('ReplicaSet') } }),
      strict: false,
      action: 'warn',
      suffix: '; delete the pod to have it recreated with a branch ENI',
    },
    {
      name: 'strict with a ReplicaSet owner: recreate',
      p: pod({ meta: { ownerReferences: owner('ReplicaSet') } }),
      strict: true,
      action: 'recreate',
      suffix: '; deleting it so ReplicaSet web-7d9f recreates it',
    },
    {
      name: 'strict, bare pod: only warn',
      p: pod(),
      strict: true,
      action: 'warn',
      suffix: '; delete the pod to have it recreated with a branch ENI',
    },
    {
      name: 'strict, Job pod: only warn (a deletion may count against backoffLimit)',
      p: pod({ meta: { ownerReferences: owner('Job') } }),
      strict: true,
      action: 'warn',
      suffix: '; delete the pod to have it recreated with a branch ENI',
    },
  ])('$name', ({ p, strict, action, suffix }) => {
    expect(decideMissingPodEni(p, undefined, [policy], { matcher: matchPodPolicies, isStrict: strict })).toEqual({
      action,
      message: WARN + suffix,
    });
  });

  test.each([
    {
      name: 'has the resource',
      p: pod({ spec: { containers: [{ name: 'app', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } }] } }),
    },
    { name: 'not selected', p: pod({ meta: { labels: { role: 'web' } } }) },
    { name: 'hostNetwork', p: pod({ spec: { hostNetwork: true, containers: [{ name: 'app' }] } }) },
    { name: 'finished', p: pod({ phase: 'Succeeded' }) },
    { name: 'terminating', p: pod({ meta: { deletionTimestamp: '2026-01-01T00:00:00Z' } }) },
  ])('nothing to do: $name', ({ p }) => {
    expect(decideMissingPodEni(p, undefined, [policy], { matcher: matchPodPolicies, isStrict: true })).toEqual({
      action: 'none',
    });
  });

  describe('security groups by annotation', () => {
    const annotated = pod({
      meta: { labels: {}, annotations: { 'vpc.amazonaws.com/security-groups': 'sg-0123abcd' } },
    });
    const rule = { isEnabled: true, allowList: ['sg-0123abcd'] };
    const optedIn = { 'trunking.sgp-operator.io/allow-security-group-annotations': 'true' };

    test('an allowed annotation without the resource warns, with no policy in the namespace', () => {
      const options = { matcher: matchPodPolicies, isStrict: false, annotations: { namespaceLabels: optedIn, rule } };
      expect(decideMissingPodEni(annotated, undefined, [], options)).toEqual({
        action: 'warn',
        message: WARN.replace('sg-0a', 'sg-0123abcd') + '; delete the pod to have it recreated with a branch ENI',
      });
    });

    test.each([
      { name: 'namespace not opted in', labels: {}, rule },
      { name: 'feature off', labels: optedIn, rule: { isEnabled: false, allowList: ['sg-0123abcd'] } },
      { name: 'group not allow-listed', labels: optedIn, rule: { isEnabled: true, allowList: ['sg-0fff0000'] } },
    ])('nothing to do when the annotation gives no group: $name', ({ labels, rule: given }) => {
      const options = {
        matcher: matchPodPolicies,
        isStrict: false,
        annotations: { namespaceLabels: labels, rule: given },
      };
      expect(decideMissingPodEni(annotated, undefined, [], options)).toEqual({ action: 'none' });
    });
  });
});
