/**
 * Property tests: hostile Pods (forged or odd annotations, no containers, giant label sets, odd resource
 * quantities) thrown at the pod's branch plan and at the admission decisions. The plan never asks for a
 * group that is not a valid sg- id or that no validated policy declared; the webhooks always give a
 * verdict, deny with a message naming the pod and the fix, and never patch a pod into asking for more
 * than one branch ENI.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { POD_ENI_ANNOTATION, POD_ENI_RESOURCE } from '../../../operator/api/constants.ts';
import type { LeanPod } from '../../../operator/api/pod.ts';
import type { SecurityGroupPolicy } from '../../../operator/api/types.ts';
import { planPodBranch } from '../../../operator/controllers/pod/decision.ts';
import { securityGroupsForPod } from '../../../operator/controllers/pod/matching.ts';
import { SECURITY_GROUP_ANNOTATIONS_OFF } from '../../../operator/controllers/pod/annotation-groups.ts';
import type { AdmissionPod, AdmissionRequest } from '../../../operator/webhook/admission.ts';
import { decidePodMutation, matchPodPolicies } from '../../../operator/webhook/mutate.ts';
import { decidePodValidation, EKS_CONTROLLER_USERNAMES } from '../../../operator/webhook/validate.ts';
import { FUZZ_PARAMETERS, hugeLabels, labels, policy, SG_ID } from './arbitraries.ts';

const OPERATOR_USER = 'system:serviceaccount:kube-system:sgp-operator';

const annotationValue = fc.oneof(
  fc.constantFrom(
    '',
    '[]',
    '{}',
    'null',
    '[{"eniId":"eni-0123456789abcdef0","vlanId":1}]',
    '[{"eniId":"eni-x","vlanId":9999}]',
    'not json',
    '\u0000',
  ),
  fc.string({ maxLength: 80 }),
);
const quantity = fc.constantFrom('1', '0', '2', '-1', '1k', 'abc', '', '0.5', '1e9');
const container = fc.record(
  {
    name: fc.constantFrom('app', ''),
    resources: fc.record(
      {
        limits: fc.dictionary(fc.constantFrom(POD_ENI_RESOURCE, 'cpu', 'memory'), quantity),
        requests: fc.dictionary(fc.constantFrom(POD_ENI_RESOURCE, 'cpu'), quantity),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name'] },
);
const admissionPod: fc.Arbitrary<AdmissionPod> = fc.record(
  {
    metadata: fc.record(
      {
        name: fc.constantFrom('web-0', '', 'x'.repeat(253)),
        namespace: fc.constantFrom('catalog', 'default', ''),
        labels: fc.oneof({ weight: 9, arbitrary: labels() }, { weight: 1, arbitrary: hugeLabels }),
        annotations: fc.dictionary(
          fc.constantFrom(POD_ENI_ANNOTATION, 'other/x', 'vpc.amazonaws.com/x'),
          annotationValue,
        ),
        generateName: fc.constantFrom('web-', ''),
      },
      { requiredKeys: [] },
    ),
    spec: fc.record(
      {
        hostNetwork: fc.boolean(),
        serviceAccountName: fc.constantFrom('default', '', 'db'),
        containers: fc.array(container, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['metadata'] },
);
const username = fc.constantFrom(
  OPERATOR_USER,
  ...EKS_CONTROLLER_USERNAMES,
  'kubernetes-admin',
  '',
  'system:anonymous',
);
const request = fc.record(
  {
    uid: fc.uuid(),
    operation: fc.constantFrom('CREATE' as const, 'UPDATE' as const, 'DELETE' as const, 'CONNECT' as const),
    namespace: fc.constantFrom('catalog', 'default'),
    userInfo: fc.record({ username }, { requiredKeys: [] }),
    object: fc.option(admissionPod, { nil: undefined }),
    oldObject: fc.option(admissionPod, { nil: undefined }),
  },
  { requiredKeys: ['uid', 'operation', 'userInfo'] },
) as fc.Arbitrary<AdmissionRequest>;
const serviceAccount = fc.option(
  fc.record({ metadata: fc.record({ name: fc.constant('default'), labels: labels() }) }),
  {
    nil: undefined,
  },
);

/** Marks a policy validated (Valid=True for its generation), invalid, or leaves it unvalidated. */
const withVerdict = (p: SecurityGroupPolicy): fc.Arbitrary<SecurityGroupPolicy> =>
  fc.constantFrom('True', 'False', 'none').map((status) =>
    status === 'none'
      ? p
      : {
          ...p,
          status: {
            observedGeneration: p.metadata.generation,
            conditions: [
              {
                type: 'Valid',
                status: status as 'True' | 'False',
                reason: status === 'True' ? 'GroupsFound' : 'GroupsNotFound',
                message: `SecurityGroupPolicy ${p.metadata.namespace}/${p.metadata.name} names sg-x, which does not exist`,
                lastTransitionTime: '2026-01-01T00:00:00Z',
              },
            ],
          },
        },
  );

describe('admission decisions under hostile pods', () => {
  test('validation: always a verdict; forged pod-eni annotations are denied with a message naming the pod', () => {
    fc.assert(
      fc.property(request, (req) => {
        const verdict = decidePodValidation(req, [OPERATOR_USER, ...EKS_CONTROLLER_USERNAMES]);
        const user = req.userInfo.username ?? '';
        const trusted = user === OPERATOR_USER || EKS_CONTROLLER_USERNAMES.includes(user);
        if (verdict.kind === 'deny') {
          expect(trusted).toBe(false);
          expect(verdict.code).toBe(403);
          expect(verdict.message).toContain(POD_ENI_ANNOTATION);
          expect(verdict.message).toMatch(/remove the annotation|leave the annotation/);
        } else {
          expect(verdict.kind).toBe('allow');
        }
        const before = req.oldObject?.metadata.annotations?.[POD_ENI_ANNOTATION];
        const after = req.object?.metadata.annotations?.[POD_ENI_ANNOTATION];
        const touched =
          req.operation === 'CREATE' ? after !== undefined : req.operation === 'UPDATE' && before !== after;
        expect(verdict.kind === 'deny').toBe(touched && !trusted);
      }),
      FUZZ_PARAMETERS,
    );
  });

  test('mutation: a patch only for a matched pod, and it makes containers[0] ask for exactly one pod ENI', () => {
    fc.assert(
      fc.property(request, serviceAccount, fc.array(policy, { maxLength: 5 }), (req, sa, policies) => {
        const inNamespace = policies.filter((p) => p.metadata.namespace === (req.object?.metadata.namespace ?? ''));
        const verdict = decidePodMutation(req, {
          policies: inNamespace,
          serviceAccount: sa,
          matcher: matchPodPolicies,
          annotations: { namespaceLabels: undefined, rule: SECURITY_GROUP_ANNOTATIONS_OFF },
        });
        if (verdict.kind === 'deny') {
          expect(verdict.message).toContain('ServiceAccount');
          expect(verdict.message).toMatch(/retry/);
          return;
        }
        if (verdict.kind !== 'patch') return;
        const pod = req.object as AdmissionPod;
        expect(req.operation).toBe('CREATE');
        expect(pod.spec?.hostNetwork).not.toBe(true);
        expect(securityGroupsForPod(pod, sa, inNamespace).groupIds.length).toBeGreaterThan(0);
        expect(verdict.patch.length).toBeGreaterThan(0);
        for (const op of verdict.patch) expect(op.path.startsWith('/spec/containers/0/resources')).toBe(true);
        // Applying the patch yields exactly one pod ENI in both limits and requests.
        const resources = structuredClone(pod.spec?.containers?.[0]?.resources ?? {}) as Record<
          string,
          Record<string, string>
        >;
        for (const op of verdict.patch) {
          const parts = op.path.replace('/spec/containers/0/resources', '').split('/').filter(Boolean);
          const unescaped = parts.map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
          if (unescaped.length === 0) Object.assign(resources, op.value as object);
          else if (unescaped.length === 1) resources[unescaped[0] as string] = op.value as Record<string, string>;
          else
            (resources[unescaped[0] as string] as Record<string, string>)[unescaped[1] as string] = op.value as string;
        }
        expect(resources.limits?.[POD_ENI_RESOURCE]).toBe('1');
        expect(resources.requests?.[POD_ENI_RESOURCE]).toBe('1');
      }),
      FUZZ_PARAMETERS,
    );
  });
});

describe('the pod branch plan under hostile pods and policies', () => {
  const leanPod: fc.Arbitrary<LeanPod> = admissionPod.chain((p) =>
    fc
      .record({
        nodeName: fc.option(fc.constantFrom('node-a', ''), { nil: undefined }),
        phase: fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', undefined),
        deleting: fc.boolean(),
      })
      .map(({ nodeName, phase, deleting }) => ({
        metadata: {
          ...p.metadata,
          name: p.metadata.name ?? 'web-0',
          uid: 'uid-1',
          ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
        },
        spec: { ...p.spec, ...(nodeName === undefined ? {} : { nodeName }) },
        ...(phase === undefined ? {} : { status: { phase } }),
      })),
  );

  test('never throws; creates or updates only with valid, declared, validated groups; holds name the policy', () => {
    fc.assert(
      fc.property(
        leanPod,
        fc.boolean(),
        fc.array(policy.chain(withVerdict), { maxLength: 5 }),
        (pod, managed, policies) => {
          const match = securityGroupsForPod(pod, undefined, policies);
          const plan = planPodBranch({ pod, isNodeManaged: managed, match, policies, branch: undefined });
          if (plan.action === 'create' || plan.action === 'update') {
            expect(pod.spec?.nodeName).toBeTruthy();
            expect(managed).toBe(true);
            expect(new Set(plan.securityGroups).size).toBe(plan.securityGroups.length);
            expect([...plan.securityGroups].sort()).toEqual(plan.securityGroups);
            for (const id of plan.securityGroups) expect(id).toMatch(SG_ID);
            for (const name of plan.matchedPolicies) {
              const matched = policies.filter((p) => p.metadata.name === name);
              expect(matched.some((p) => p.status?.conditions?.[0]?.status === 'True')).toBe(true);
            }
          } else if (plan.action === 'hold') {
            expect(plan.event.type).toBe('Warning');
            expect(plan.message).toContain('until the policy is fixed');
          } else if (plan.action === 'wait') {
            expect(plan.message.length).toBeGreaterThan(20);
          }
        },
      ),
      FUZZ_PARAMETERS,
    );
  });
});
