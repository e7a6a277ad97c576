import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import { toLeanPod } from '../../../../operator/api/pod.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import {
  REFERENCES_WAIT_MS,
  REVALIDATE_INVALID_MS,
  SecurityGroupLookup,
  SecurityGroupPolicyReconciler,
} from '../../../../operator/controllers/securitygrouppolicy/index.ts';
import { VpcNetworkDirectory } from '../../../../operator/controllers/vpcnetwork/index.ts';
import { policyValidity } from '../../../../operator/controllers/pod/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import type { KubeObject } from '../../../../operator/framework/index.ts';
import { silentLogger } from '../../../../operator/observability/logger.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';
import { DEFAULT_POD_NETWORK } from '../../../../operator/controllers/podnetwork/index.ts';

const LABEL = 'trunking.sgp-operator.io/has-policies';
let kube: FakeKube;
let ec2: EmulatedEc2;
let vpc: TestVpc;
let recorder: FakeRecorder;
let clock: FakeClock;
let reconciler: SecurityGroupPolicyReconciler;
let directory: VpcNetworkDirectory;

/** One refresh of the leader's directory that describes the VPC's groups, now. */
async function describeGroups(): Promise<void> {
  directory.requestSecurityGroups();
  await directory.refresh();
}

/** How many times the directory has described the VPC's groups. */
function groupDescribes(): number {
  return ec2.callsOf('describeVpcSecurityGroups').length;
}

function policy(name: string, groupIds: string[]): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace: 'payments', generation: 1 },
    spec: { podSelector: { matchLabels: { app: 'db' } }, securityGroups: { groupIds } },
  };
}

/** A group with a chosen id (and, unless given, its id as its name) in the cluster's VPC. */
function addGroup(id: string, name = id, tags: Record<string, string> = {}): void {
  ec2.control.addSecurityGroup({ vpcId: vpc.vpcId, id, name, tags });
}

function stored(name: string): SecurityGroupPolicy | undefined {
  return kube.stored<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `payments/${name}`);
}

beforeEach(() => {
  kube = new FakeKube();
  ec2 = new EmulatedEc2();
  vpc = ec2.seedVpc({ podGroups: 0 });
  recorder = new FakeRecorder();
  clock = new FakeClock();
  addGroup('sg-0000000a');
  directory = new VpcNetworkDirectory({
    ec2,
    vpcId: vpc.vpcId,
    tagKey: '',
    intervalMs: 60_000,
    onDemandMinIntervalMs: 0,
    clock,
    log: silentLogger,
  });
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
    cluster: { clusterName: 'test', vpcId: vpc.vpcId, podNetwork: DEFAULT_POD_NETWORK },
    groups: new SecurityGroupLookup(ec2, clock),
    policies: kube.reader<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy),
    pods: kube.reader<LeanPod>(Kinds.Pod, {}, toLeanPod),
    serviceAccounts: kube.reader<KubeObject>(Kinds.ServiceAccount),
    namespaces: kube.reader<KubeObject>(Kinds.Namespace),
    grants: kube.reader<SecurityGroupGrant>(Kinds.SecurityGroupGrant),
    securityGroups: directory,
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
    await reconciler.reconcile('payments/db', reconcileContext());
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
    const result = await reconciler.reconcile('payments/db', reconcileContext());
    await reconciler.reconcile('payments/db', reconcileContext());
    await reconciler.reconcile('payments/ok', reconcileContext());

    const valid = stored('db')?.status?.conditions?.find((c) => c.type === 'Valid');
    const message = `SecurityGroupPolicy payments/db names sg-0000dead, which does not exist in ${vpc.vpcId}; fix spec.securityGroups.groupIds or create the group`;
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
    addGroup('sg-0000dead');
    clock.advance(REVALIDATE_INVALID_MS);
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.reasons()).toEqual(['SecurityGroupPolicyInvalid', 'SecurityGroupPolicyValid']);
  });

  test('EC2 answers are reused: reconciles on pod churn do not call DescribeSecurityGroups again', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    for (let i = 0; i < 5; i++) await reconciler.reconcile('payments/db', reconcileContext());
    expect(ec2.callsOf('describeSecurityGroups')).toEqual([{ groupIds: ['sg-0000000a'], vpcId: undefined }]);
  });

  test('the namespace label goes with the last policy', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    await reconciler.reconcile('payments/db', reconcileContext());
    kube.remove(Kinds.SecurityGroupPolicy, 'payments/db');
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(kube.stored<KubeObject>(Kinds.Namespace, 'payments')?.metadata.labels).toEqual({});
  });

  test('a group no grant allows: Valid=False GroupsNotGranted, a SecurityGroupNotGranted Warning, no EC2 call', async () => {
    addGroup('sg-0000000b');
    kube.seed(Kinds.SecurityGroupGrant, grant('payments-db', { names: ['payments'] }, ['sg-0000000a']));
    kube.seed(Kinds.SecurityGroupGrant, grant('shared-cache', { names: ['orders'] }, ['sg-0000000b']));
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a', 'sg-0000000b']));
    const result = await reconciler.reconcile('payments/db', reconcileContext());

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
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.reasons()).toEqual(['SecurityGroupNotGranted', 'SecurityGroupPolicyValid']);
  });

  test('a grant covering the namespace by label allows the group; without grants every group is allowed', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('db', ['sg-0000000a']));
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');

    kube.seed(
      Kinds.SecurityGroupGrant,
      grant('tier-data', { selector: { matchLabels: { tier: 'data' } } }, ['sg-0000000a']),
    );
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db')?.status?.conditions?.find((c) => c.type === 'Valid')?.reason).toBe('GroupsNotGranted');

    kube.seed(Kinds.Namespace, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'payments', labels: { tier: 'data', [LABEL]: 'true' } },
    });
    await reconciler.reconcile('payments/db', reconcileContext());
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
    await reconciler.reconcile('payments/db', reconcileContext());
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
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.events).toEqual([]);
  });
});

describe('SecurityGroupPolicyReconciler: groups by name and tag selector', () => {
  function named(name: string, groups: SecurityGroupPolicy['spec']['securityGroups']): SecurityGroupPolicy {
    return { ...policy(name, []), spec: { podSelector: { matchLabels: { app: 'db' } }, securityGroups: groups } };
  }
  const valid = (name: string) => stored(name)?.status?.conditions?.find((c) => c.type === 'Valid');

  test('waits, without touching status, for a describe started after it saw the policy; then resolves it', async () => {
    addGroup('sg-0000000b', 'Payments-DB');
    await describeGroups(); // older than the policy: a group created since would be missing from it
    addGroup('sg-0000000c', 'cache', { role: 'cache' });
    clock.advance(1);
    kube.seed(
      Kinds.SecurityGroupPolicy,
      named('db', {
        groupIds: ['sg-0000000a'],
        groupNames: ['payments-db'],
        groupSelectors: [{ tags: { role: 'cache' } }],
      }),
    );
    expect(await reconciler.reconcile('payments/db', reconcileContext())).toEqual({
      requeueAfterMs: REFERENCES_WAIT_MS,
    });
    expect(stored('db')?.status).toBeUndefined();

    // The reconcile asked for a describe: the next refresh makes one though no policy is registered as wanting them.
    clock.advance(1);
    const before = groupDescribes();
    await directory.refresh();
    expect(groupDescribes()).toBe(before + 1);
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db')?.status).toMatchObject({
      resolvedGroupIds: ['sg-0000000a', 'sg-0000000b', 'sg-0000000c'],
      resolvedReferences: [
        { name: 'payments-db', groupId: 'sg-0000000b', groupName: 'Payments-DB' },
        { tags: { role: 'cache' }, groupId: 'sg-0000000c', groupName: 'cache' },
      ],
    });
    expect(valid('db')).toMatchObject({
      status: 'True',
      message:
        `security groups sg-0000000a, sg-0000000b, sg-0000000c exist in ${vpc.vpcId} (name "payments-db" is ` +
        'sg-0000000b, tags {role=cache} is sg-0000000c)',
    });
    expect(recorder.events).toEqual([]);
    // Only the id went to DescribeSecurityGroups; names were resolved from the directory.
    expect(ec2.callsOf('describeSecurityGroups')).toEqual([{ groupIds: ['sg-0000000a'], vpcId: undefined }]);
  });

  test('a name no group has: Valid=False GroupReferenceNotFound and a SecurityGroupReferenceUnresolved Warning', async () => {
    addGroup('sg-0000000b', 'payments-db');
    kube.seed(Kinds.SecurityGroupPolicy, named('db', { groupNames: ['payments-db', 'audit'] }));
    await describeGroups();
    const result = await reconciler.reconcile('payments/db', reconcileContext());
    const message =
      `SecurityGroupPolicy payments/db names security groups by name "audit", which no group in ${vpc.vpcId} ` +
      'matches; create the group, fix spec.securityGroups.groupNames or groupSelectors, or name it by id in groupIds';
    expect(valid('db')).toMatchObject({ status: 'False', reason: 'GroupReferenceNotFound', message });
    expect(stored('db')?.status?.resolvedReferences).toEqual([
      { name: 'payments-db', groupId: 'sg-0000000b', groupName: 'payments-db' },
    ]);
    expect(recorder.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'SecurityGroupReferenceUnresolved', message }),
    ]);
    expect(result).toEqual({ requeueAfterMs: REVALIDATE_INVALID_MS });

    // The user creates the group: the next describe resolves it.
    await ec2.createSecurityGroup(vpc, 'audit');
    clock.advance(1);
    await describeGroups();
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db') && policyValidity(stored('db') as SecurityGroupPolicy)).toBe('valid');
    expect(recorder.reasons()).toEqual(['SecurityGroupReferenceUnresolved', 'SecurityGroupPolicyValid']);
  });

  test('a selector matching two groups is refused, naming both; groups of other VPCs never count', async () => {
    addGroup('sg-0000000b', 'db-blue', { Name: 'db' });
    addGroup('sg-0000000c', 'db-green', { Name: 'db' });
    ec2.control.seed({
      vpcs: [
        {
          cidrBlocks: ['10.1.0.0/16'],
          subnets: [],
          securityGroups: [{ id: 'sg-0000000e', name: 'db-other-vpc', tags: { Name: 'db' } }],
        },
      ],
    });
    kube.seed(Kinds.SecurityGroupPolicy, named('db', { groupSelectors: [{ tags: { Name: 'db' } }] }));
    await describeGroups();
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(valid('db')).toMatchObject({
      status: 'False',
      reason: 'GroupReferenceAmbiguous',
      message:
        `SecurityGroupPolicy payments/db names a security group by tags {Name=db}, which 2 groups in ${vpc.vpcId} ` +
        'match: sg-0000000b (db-blue), sg-0000000c (db-green); a name or selector must denote exactly one group, so ' +
        'add a tag that tells them apart or name the group by id in groupIds',
    });
  });

  test('a tag moved to another group is followed, with a Normal event naming both ids', async () => {
    addGroup('sg-0000000b', 'cache-old', { role: 'cache' });
    addGroup('sg-0000000c', 'cache-new');
    kube.seed(Kinds.SecurityGroupPolicy, named('db', { groupSelectors: [{ tags: { role: 'cache' } }] }));
    await describeGroups();
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db')?.status?.resolvedGroupIds).toEqual(['sg-0000000b']);

    await ec2.prepare.deleteTags(['sg-0000000b'], ['role']);
    await ec2.prepare.createTags(['sg-0000000c'], { role: 'cache' });
    clock.advance(1);
    await describeGroups();
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(stored('db')?.status?.resolvedGroupIds).toEqual(['sg-0000000c']);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'SecurityGroupReferenceChanged',
        message:
          'tags {role=cache} now denotes sg-0000000c (cache-new; was sg-0000000b); pods this policy selects get the ' +
          'new group, running ones in place (ModifyNetworkInterfaceAttribute, no restart)',
      }),
    ]);
  });

  test('grants judge the groups names resolved to', async () => {
    addGroup('sg-0000000b', 'payments-db');
    kube.seed(Kinds.SecurityGroupGrant, grant('payments', { names: ['payments'] }, ['sg-0000000a']));
    kube.seed(Kinds.SecurityGroupPolicy, named('db', { groupNames: ['payments-db'] }));
    await describeGroups();
    await reconciler.reconcile('payments/db', reconcileContext());
    expect(valid('db')).toMatchObject({ status: 'False', reason: 'GroupsNotGranted' });
    expect(valid('db')?.message).toContain('names security group sg-0000000b, which no SecurityGroupGrant allows');
  });
});
