import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import { toLeanPod } from '../../../../operator/api/pod.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import {
  REVALIDATE_INVALID_MS,
  SecurityGroupLookup,
  SecurityGroupPolicyReconciler,
} from '../../../../operator/controllers/securitygrouppolicy/index.ts';
import { policyValidity } from '../../../../operator/controllers/pod/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import type { KubeObject } from '../../../../operator/framework/index.ts';
import { PodsFakeEc2 } from '../fakes/pods-ec2.ts';
import { PodsFakeKube, PodsFakeRecorder, podsReconcileContext } from '../fakes/pods-kube.ts';

const LABEL = 'trunking.sgp-operator.io/has-policies';
let kube: PodsFakeKube;
let ec2: PodsFakeEc2;
let recorder: PodsFakeRecorder;
let clock: FakeClock;
let reconciler: SecurityGroupPolicyReconciler;

function policy(name: string, groupIds: string[]): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace: 'payments', generation: 1 },
    spec: { podSelector: { matchLabels: { app: 'db' } }, securityGroups: { groupIds } },
  };
}

function stored(name: string): SecurityGroupPolicy | undefined {
  return kube.stored<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `payments/${name}`);
}

beforeEach(() => {
  kube = new PodsFakeKube();
  ec2 = new PodsFakeEc2();
  recorder = new PodsFakeRecorder();
  clock = new FakeClock();
  ec2.addGroup('sg-0000000a');
  kube.seed(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments' } });
  for (const [name, app] of [
    ['db-0', 'db'],
    ['db-1', 'db'],
    ['web-0', 'web'],
  ] as [string, string][]) {
    kube.seed(Kinds.Pod, {
      metadata: { name, namespace: 'payments', labels: { app } },
      spec: {},
      status: { phase: 'Running' },
    });
  }
  reconciler = new SecurityGroupPolicyReconciler({
    client: kube,
    recorder,
    clock,
    cluster: { clusterName: 'test', vpcId: 'vpc-1' },
    groups: new SecurityGroupLookup(ec2, clock),
    policies: kube.reader<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy),
    pods: kube.reader<LeanPod>(Kinds.Pod, {}, toLeanPod),
    serviceAccounts: kube.reader<KubeObject>(Kinds.ServiceAccount),
    namespaces: kube.reader<KubeObject>(Kinds.Namespace),
    grants: kube.reader<SecurityGroupGrant>(Kinds.SecurityGroupGrant),
  });
});

function grant(
  name: string,
  namespaces: SecurityGroupGrant['spec']['namespaces'],
  groupIds: string[],
): SecurityGroupGrant {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'SecurityGroupGrant',
    metadata: { name, generation: 1 },
    spec: { namespaces, securityGroups: { groupIds } },
  };
}

describe('SecurityGroupPolicyReconciler', () => {
  test('a valid policy: conditions, resolved groups, matched pods, namespace label', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    await reconciler.reconcile('payments/db', podsReconcileContext());
    const p = stored('db');
    expect(p?.status).toMatchObject({ observedGeneration: 1, resolvedGroupIds: ['sg-0000000a'], matchedPods: 2 });
    expect(p?.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Valid', 'True', 'GroupsFound'],
      ['Ready', 'True', 'Active'],
    ]);
    expect(p && policyValidity(p)).toBe('valid');
    expect(kube.stored<KubeObject>(Kinds.Namespace, 'payments')?.metadata.labels).toEqual({ [LABEL]: 'true' });
    expect(recorder.events).toEqual([]);
  });

  test('a missing group: Valid=False with the reason, one Warning, re-checked later; other policies unaffected', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000dead']));
    kube.seed(Kinds.SecurityGroupPolicy, policy('ok', ['sg-0000000a']));
    const result = await reconciler.reconcile('payments/db', podsReconcileContext());
    await reconciler.reconcile('payments/db', podsReconcileContext());
    await reconciler.reconcile('payments/ok', podsReconcileContext());

    const valid = stored('db')?.status?.conditions?.find((c) => c.type === 'Valid');
    const message =
      'SecurityGroupPolicy payments/db names sg-0000dead, which does not exist in vpc-1; fix spec.securityGroups.groupIds or create the group';
    expect(valid).toMatchObject({ status: 'False', reason: 'GroupsNotFound', message });
    expect(result).toEqual({ requeueAfterMs: REVALIDATE_INVALID_MS });
    expect(recorder.events).toEqual([
      expect.objectContaining({
        kind: 'SecurityGroupPolicy',
        type: 'Warning',
        reason: 'SecurityGroupPolicyInvalid',
        message,
      }),
    ]);
    expect(stored('ok')?.status?.conditions?.find((c) => c.type === 'Valid')?.status).toBe('True');

    // The user creates the group; the periodic re-check finds it.
    ec2.addGroup('sg-0000dead');
    clock.advance(REVALIDATE_INVALID_MS);
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.reasons()).toEqual(['SecurityGroupPolicyInvalid', 'SecurityGroupPolicyValid']);
  });

  test('EC2 answers are reused: reconciles on pod churn do not call DescribeSecurityGroups again', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    for (let i = 0; i < 5; i++) await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(ec2.callsOf('describeSecurityGroups')).toEqual([{ groupIds: ['sg-0000000a'], vpcId: undefined }]);
  });

  test('the namespace label goes with the last policy', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    await reconciler.reconcile('payments/db', podsReconcileContext());
    kube.remove(Kinds.SecurityGroupPolicy, 'payments/db');
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(kube.stored<KubeObject>(Kinds.Namespace, 'payments')?.metadata.labels).toEqual({});
  });

  test('a group no grant allows: Valid=False GroupsNotGranted, a SecurityGroupNotGranted Warning, no EC2 call', async () => {
    ec2.addGroup('sg-0000000b');
    kube.seed(Kinds.SecurityGroupGrant, grant('payments-db', { names: ['payments'] }, ['sg-0000000a']));
    kube.seed(Kinds.SecurityGroupGrant, grant('shared-cache', { names: ['orders'] }, ['sg-0000000b']));
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a', 'sg-0000000b']));
    const result = await reconciler.reconcile('payments/db', podsReconcileContext());

    const message =
      'SecurityGroupPolicy payments/db names security group sg-0000000b, which no SecurityGroupGrant allows in ' +
      'namespace payments; SecurityGroupGrant shared-cache allows sg-0000000b but not in namespace payments: ask a ' +
      'cluster admin to add payments to its spec.namespaces.names (or label the namespace to match its ' +
      'spec.namespaces.selector), or remove it from the SecurityGroupPolicy';
    expect(stored('db')?.status?.conditions?.find((c) => c.type === 'Valid')).toMatchObject({
      status: 'False',
      reason: 'GroupsNotGranted',
      message,
    });
    expect(result).toEqual({});
    expect(recorder.events).toEqual([
      expect.objectContaining({
        kind: 'SecurityGroupPolicy',
        type: 'Warning',
        reason: 'SecurityGroupNotGranted',
        message,
      }),
    ]);
    expect(ec2.callsOf('describeSecurityGroups')).toEqual([]);

    // The admin widens the grant: the next reconcile (a grant change re-queues it) finds the policy valid.
    kube.seed(Kinds.SecurityGroupGrant, grant('shared-cache', { names: ['orders', 'payments'] }, ['sg-0000000b']));
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.reasons()).toEqual(['SecurityGroupNotGranted', 'SecurityGroupPolicyValid']);
  });

  test('a grant covering the namespace by label allows the group; without grants every group is allowed', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');

    kube.seed(
      Kinds.SecurityGroupGrant,
      grant('tier-data', { selector: { matchLabels: { tier: 'data' } } }, ['sg-0000000a']),
    );
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db')?.status?.conditions?.find((c) => c.type === 'Valid')?.reason).toBe('GroupsNotGranted');

    kube.seed(Kinds.Namespace, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'payments', labels: { tier: 'data', [LABEL]: 'true' } },
    });
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
  });

  test("a covering grant's tags not resolved yet: Valid=Unknown GrantNotResolved, no event; resolved, Valid=True", async () => {
    const tagGrant: SecurityGroupGrant = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'SecurityGroupGrant',
      metadata: { name: 'team-tags', generation: 1 },
      spec: { namespaces: { names: ['payments'] }, securityGroups: { tags: [{ key: 'team' }] } },
    };
    kube.seed(Kinds.SecurityGroupGrant, tagGrant);
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db')?.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Valid', 'Unknown', 'GrantNotResolved'],
      ['Ready', 'False', 'GrantNotResolved'],
    ]);
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('unvalidated');
    expect(recorder.events).toEqual([]);

    kube.seed(Kinds.SecurityGroupGrant, {
      ...tagGrant,
      status: { observedGeneration: 1, resolvedGroupIds: ['sg-0000000a'] },
    });
    await reconciler.reconcile('payments/db', podsReconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.events).toEqual([]);
  });
});
