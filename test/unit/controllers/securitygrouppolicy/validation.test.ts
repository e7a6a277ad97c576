import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import {
  namespaceLabelPatch,
  validatePolicyGroups,
  validatePolicySpec,
} from '../../../../operator/controllers/securitygrouppolicy/index.ts';

function policy(spec: Partial<SecurityGroupPolicy['spec']>, groupIds = ['sg-0000000a']): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: 'db', namespace: 'payments' },
    spec: { ...spec, securityGroups: { groupIds } },
  };
}

const group = (id: string, vpcId = 'vpc-1') => ({ id, vpcId, name: id });

describe('validatePolicySpec', () => {
  test.each<[string, SecurityGroupPolicy, string | undefined]>([
    ['pod selector', policy({ podSelector: {} }), undefined],
    ['service account selector', policy({ serviceAccountSelector: { matchLabels: { a: 'b' } } }), undefined],
    ['no selector', policy({}), 'NoSelector'],
    ['no groups', policy({ podSelector: {} }, []), 'NoGroups'],
    [
      'malformed selector',
      policy({ podSelector: { matchExpressions: [{ key: 'k', operator: 'In' }] } }),
      'InvalidSelector',
    ],
  ])('%s', (_name, p, reason) => {
    expect(validatePolicySpec(p)?.reason).toBe(reason);
  });

  test('messages name the policy and the fix', () => {
    expect(validatePolicySpec(policy({}))?.message).toBe(
      'SecurityGroupPolicy payments/db has neither spec.podSelector nor spec.serviceAccountSelector, so it selects no pods ' +
        '(EKS skips such policies); add a selector (podSelector: {} selects every pod in the namespace)',
    );
  });
});

describe('validatePolicyGroups', () => {
  test.each<[string, string[], ReturnType<typeof group>[], ReturnType<typeof validatePolicyGroups>]>([
    [
      'all groups in the VPC',
      ['sg-0000000b', 'sg-0000000a', 'sg-0000000a'],
      [group('sg-0000000a'), group('sg-0000000b')],
      {
        valid: true,
        reason: 'GroupsFound',
        message: 'security groups sg-0000000a, sg-0000000b exist in vpc-1',
        resolvedGroupIds: ['sg-0000000a', 'sg-0000000b'],
      },
    ],
    [
      'a missing group',
      ['sg-0000000a', 'sg-0000dead'],
      [group('sg-0000000a')],
      {
        valid: false,
        reason: 'GroupsNotFound',
        message:
          'SecurityGroupPolicy payments/db names sg-0000dead, which does not exist in vpc-1; fix spec.securityGroups.groupIds or create the group',
        resolvedGroupIds: ['sg-0000000a'],
      },
    ],
    [
      'two missing groups',
      ['sg-0000dea1', 'sg-0000dea2'],
      [],
      {
        valid: false,
        reason: 'GroupsNotFound',
        message:
          'SecurityGroupPolicy payments/db names sg-0000dea1, sg-0000dea2, which do not exist in vpc-1; fix spec.securityGroups.groupIds or create the group',
        resolvedGroupIds: [],
      },
    ],
    [
      'a group in another VPC',
      ['sg-0000000e'],
      [group('sg-0000000e', 'vpc-other')],
      {
        valid: false,
        reason: 'GroupsInOtherVpc',
        message:
          "SecurityGroupPolicy payments/db names sg-0000000e (in vpc-other), which belongs to another VPC than the cluster's vpc-1; fix spec.securityGroups.groupIds or create the group",
        resolvedGroupIds: [],
      },
    ],
  ])('%s', (_name, ids, found, expected) => {
    const groups = found.map((group) => ({ ...group, tags: {} }));
    expect(validatePolicyGroups(policy({ podSelector: {} }, ids), groups, 'vpc-1')).toEqual(expected);
  });
});

describe('namespaceLabelPatch', () => {
  const label = 'trunking.sgp-operator.io/has-policies';
  test.each<[string, Record<string, string> | undefined, boolean, unknown]>([
    ['first policy', undefined, true, { metadata: { labels: { [label]: 'true' } } }],
    ['already labelled', { [label]: 'true' }, true, undefined],
    ['last policy gone', { [label]: 'true', other: 'x' }, false, { metadata: { labels: { [label]: null } } }],
    ['never had policies', { other: 'x' }, false, undefined],
  ])('%s', (_name, labels, hasPolicies, expected) => {
    expect(namespaceLabelPatch(labels, hasPolicies)).toEqual(expected);
  });
});
