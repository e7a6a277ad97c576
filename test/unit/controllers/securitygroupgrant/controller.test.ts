import { beforeEach, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { SecurityGroupGrant } from '../../../../operator/api/types.ts';
import {
  GRANT_REFRESH_MS,
  SecurityGroupGrantReconciler,
  judgeGroupsForNamespace,
} from '../../../../operator/controllers/securitygroupgrant/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import { EmulatedEc2 } from '../../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';

let kube: FakeKube;
let ec2: EmulatedEc2;
let vpcId: string;
let recorder: FakeRecorder;
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
  kube = new FakeKube();
  ec2 = new EmulatedEc2();
  recorder = new FakeRecorder();
  clock = new FakeClock();
  const subnets = (cidrBlock: string) => [{ cidrBlock, availabilityZone: 'us-west-2a' }];
  const seeded = ec2.control.seed({
    vpcs: [
      {
        cidrBlocks: ['10.0.0.0/16'],
        subnets: subnets('10.0.0.0/24'),
        securityGroups: [
          { id: 'sg-0000000a', name: 'payments', tags: { team: 'payments' } },
          { id: 'sg-0000000b', name: 'orders', tags: { team: 'orders' } },
          // `prod*` as a wildcard would match this one; escaped, it matches only a literal `prod*`.
          { id: 'sg-0000000e', name: 'staging', tags: { env: 'prod-1' } },
        ],
      },
      // Another VPC's group with the same tag is never the cluster's.
      {
        cidrBlocks: ['10.1.0.0/16'],
        subnets: subnets('10.1.0.0/24'),
        securityGroups: [{ id: 'sg-0000000c', name: 'payments', tags: { team: 'payments' } }],
      },
    ],
  });
  vpcId = seeded.vpcIds[0] ?? '';
  reconciler = new SecurityGroupGrantReconciler({
    client: kube,
    recorder,
    clock,
    ec2,
    vpcId,
    grants: kube.reader<SecurityGroupGrant>(Kinds.SecurityGroupGrant),
  });
});

describe('SecurityGroupGrantReconciler', () => {
  test("tag rules resolve to the cluster VPC's groups carrying the tag; one describe per rule", async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team', values: ['payments'] }]));
    const result = await reconciler.reconcile('team-tags', reconcileContext());
    expect(stored()?.status).toMatchObject({ observedGeneration: 1, resolvedGroupIds: ['sg-0000000a'] });
    expect(conditions()).toEqual([
      ['Resolved', 'True', 'TagsResolved'],
      ['Ready', 'True', 'Active'],
    ]);
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toEqual([{ vpcId, key: 'team', values: ['payments'] }]);
    expect(result).toEqual({ requeueAfterMs: GRANT_REFRESH_MS });
  });

  test('a key-only rule matches any value; wildcard characters in values are escaped (exact match)', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team' }, { key: 'env', values: ['prod*'] }]));
    await reconciler.reconcile('team-tags', reconcileContext());
    expect(stored()?.status?.resolvedGroupIds).toEqual(['sg-0000000a', 'sg-0000000b']); // not sg-0000000e
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toEqual([
      { vpcId, key: 'team', values: undefined },
      { vpcId, key: 'env', values: ['prod\\*'] },
    ]);
  });

  test('a re-queue before the refresh is due calls EC2 no more; after it, a newly tagged group is picked up', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team', values: ['payments'] }]));
    await reconciler.reconcile('team-tags', reconcileContext());
    await reconciler.reconcile('team-tags', reconcileContext());
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toHaveLength(1);

    ec2.control.addSecurityGroup({ vpcId, id: 'sg-0000000d', name: 'payments-2', tags: { team: 'payments' } });
    clock.advance(GRANT_REFRESH_MS);
    await reconciler.reconcile('team-tags', reconcileContext());
    expect(ec2.callsOf('describeSecurityGroupsByTag')).toHaveLength(2);
    expect(stored()?.status?.resolvedGroupIds).toEqual(['sg-0000000a', 'sg-0000000d']);
  });

  test('a failed first resolution: Resolved=False, a Warning, the error rethrown; the judgement names the grant', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([{ key: 'team', values: ['payments'] }]));
    // EC2 throttles the describe: the SDK's RequestLimitExceeded, classified as the operator sees it.
    ec2.control.setFaults([{ action: 'DescribeSecurityGroups', code: 'RequestLimitExceeded' }]);
    await expect(reconciler.reconcile('team-tags', reconcileContext())).rejects.toThrow(
      'EC2 DescribeSecurityGroups failed: RequestLimitExceeded',
    );
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

    await reconciler.reconcile('team-tags', reconcileContext());
    expect(stored()?.status?.resolvedGroupIds).toEqual(['sg-0000000a']);
    expect(conditions()).toEqual([
      ['Resolved', 'True', 'TagsResolved'],
      ['Ready', 'True', 'Active'],
    ]);
  });

  test('a grant without tag rules is Resolved at once, without calling EC2', async () => {
    kube.seed(Kinds.SecurityGroupGrant, grant([], ['sg-0000000a']));
    expect(await reconciler.reconcile('team-tags', reconcileContext())).toEqual({});
    expect(conditions()).toEqual([
      ['Resolved', 'True', 'NoTagRules'],
      ['Ready', 'True', 'Active'],
    ]);
    expect(ec2.calls).toEqual([]);
  });
});
