import { beforeEach, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { SecurityGroupGrant } from '../../../../operator/api/types.ts';
import { Ec2ThrottledError } from '../../../../operator/aws/index.ts';
import {
  GRANT_REFRESH_MS,
  SecurityGroupGrantReconciler,
  judgeGroupsForNamespace,
} from '../../../../operator/controllers/securitygroupgrant/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import { PodsFakeEc2 } from '../fakes/pods-ec2.ts';
import { PodsFakeKube, PodsFakeRecorder, podsReconcileContext } from '../fakes/pods-kube.ts';

let kube: PodsFakeKube;
let ec2: PodsFakeEc2;
let recorder: PodsFakeRecorder;
let clock: FakeClock;
let reconciler: SecurityGroupGrantReconciler;

function grant(tags: { key: string; values?: string[] }[], groupIds: string[] = []): SecurityGroupGrant {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'SecurityGroupGrant',
    metadata: { name: 'team-tags', generation: 1 },
    spec: { namespaces: { names: ['payments'] }, securityGroups: { groupIds, tags } },
  };
}

const stored = () => kube.stored<SecurityGroupGrant>(Kinds.SecurityGroupGrant, 'team-tags');
const conditions = () => stored()?.status?.conditions?.map((c) => [c.type, c.status, c.reason]);

beforeEach(() => {
  kube = new PodsFakeKube();
  ec2 = new PodsFakeEc2();
  recorder = new PodsFakeRecorder();
  clock = new FakeClock();
  ec2.addGroup('sg-0000000a', 'vpc-1', { team: 'payments' });
  ec2.addGroup('sg-0000000b', 'vpc-1', { team: 'orders' });
  ec2.addGroup('sg-0000000c', 'vpc-other', { team: 'payments' });
  reconciler = new SecurityGroupGrantReconciler({
    client: kube,
    recorder,
    clock,
    ec2,
    vpcId: 'vpc-1',
    grants: kube.reader<SecurityGroupGrant>(Kinds.SecurityGroupGrant),
  });
});

describe('SecurityGroupGrantReconciler', () => {
  test("tag rules resolve to the cluster VPC's groups carrying the tag; one describe per rule", async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team', values: ['payments'] }]));
    const result = await reconciler.reconcile('team-tags', podsReconcileContext());
    expect(stored()?.status).toMatchObject({ observedGeneration: 1, resolvedGroupIds: ['sg-0000000a'] });
    expect(conditions()).toEqual([
      ['Resolved', 'True', 'TagsResolved'],
      ['Ready', 'True', 'Active'],
    ]);
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toEqual([{ vpcId: 'vpc-1', key: 'team', values: ['payments'] }]);
    expect(result).toEqual({ requeueAfterMs: GRANT_REFRESH_MS });
  });

  test('a key-only rule matches any value; wildcard characters in values are escaped (exact match)', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team' }, { key: 'env', values: ['prod*'] }]));
    await reconciler.reconcile('team-tags', podsReconcileContext());
    expect(stored()?.status?.resolvedGroupIds).toEqual(['sg-0000000a', 'sg-0000000b']);
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toEqual([
      { vpcId: 'vpc-1', key: 'team', values: undefined },
      { vpcId: 'vpc-1', key: 'env', values: ['prod\\*'] },
    ]);
  });

  test('a re-queue before the refresh is due calls EC2 no more; after it, a newly tagged group is picked up', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team', values: ['payments'] }]));
    await reconciler.reconcile('team-tags', podsReconcileContext());
    await reconciler.reconcile('team-tags', podsReconcileContext());
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toHaveLength(1);

    ec2.addGroup('sg-0000000d', 'vpc-1', { team: 'payments' });
    clock.advance(GRANT_REFRESH_MS);
    await reconciler.reconcile('team-tags', podsReconcileContext());
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toHaveLength(2);
    expect(stored()?.status?.resolvedGroupIds).toEqual(['sg-0000000a', 'sg-0000000d']);
  });

  test('a failed first resolution: Resolved=False, a Warning, the error rethrown; the judgement names the grant', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team', values: ['payments'] }]));
    ec2.failNext(
      'describeSecurityGroupsByTag',
      new Ec2ThrottledError('Request limit exceeded.', {
        code: 'RequestLimitExceeded',
        action: 'DescribeSecurityGroups',
      }),
    );
    await expect(reconciler.reconcile('team-tags', podsReconcileContext())).rejects.toThrow('Request limit exceeded.');
    expect(conditions()).toEqual([
      ['Resolved', 'False', 'DescribeFailed'],
      ['Ready', 'False', 'TagsNotResolved'],
    ]);
    expect(recorder.reasons()).toEqual(['SecurityGroupGrantResolveFailed']);
    const verdict = judgeGroupsForNamespace(
      ['sg-0000000a'],
      { grants: [stored() as SecurityGroupGrant], namespace: 'payments', namespaceLabels: {} },
      { kind: 'SecurityGroupPolicy', namespace: 'payments', name: 'db' },
    );
    expect(verdict).toMatchObject({ allowed: false, reason: 'GrantNotResolved', unresolvedGrants: ['team-tags'] });

    await reconciler.reconcile('team-tags', podsReconcileContext());
    expect(stored()?.status?.resolvedGroupIds).toEqual(['sg-0000000a']);
    expect(conditions()).toEqual([
      ['Resolved', 'True', 'TagsResolved'],
      ['Ready', 'True', 'Active'],
    ]);
  });

  test('a grant without tag rules is Resolved at once, without calling EC2', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([], ['sg-0000000a']));
    expect(await reconciler.reconcile('team-tags', podsReconcileContext())).toEqual({});
    expect(conditions()).toEqual([
      ['Resolved', 'True', 'NoTagRules'],
      ['Ready', 'True', 'Active'],
    ]);
    expect(ec2.calls).toEqual([]);
  });
});
