import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import type { SecurityGroup } from '../../../../operator/aws/index.ts';
import {
  movedReferences,
  referenceProblems,
  resolvedReferencesOf,
  resolveGroupReferences,
} from '../../../../operator/controllers/securitygrouppolicy/index.ts';

function policy(groups: SecurityGroupPolicy['spec']['securityGroups']): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: 'db', namespace: 'payments' },
    spec: { podSelector: {}, securityGroups: groups },
  };
}

const group = (id: string, name: string, tags: Record<string, string> = {}): SecurityGroup => ({
  id,
  name,
  vpcId: 'vpc-1',
  tags,
});

const vpcGroups = [
  group('sg-0000000a', 'Payments-DB', { team: 'payments', role: 'db' }),
  group('sg-0000000b', 'payments-cache', { team: 'payments', role: 'cache', Name: 'cache' }),
  group('sg-0000000c', 'orders-cache', { team: 'orders', role: 'cache', Name: 'cache' }),
];

describe('resolveGroupReferences', () => {
  test.each<[string, SecurityGroupPolicy['spec']['securityGroups'], [string, string | string[]][]]>([
    [
      'a name, regardless of case (EC2 names are unique per VPC regardless of case)',
      { groupNames: ['payments-db'] },
      [['resolved', 'sg-0000000a']],
    ],
    ['an unknown name', { groupNames: ['audit'] }, [['not-found', []]]],
    [
      'a selector with every tag matching one group',
      { groupSelectors: [{ tags: { team: 'payments', role: 'cache' } }] },
      [['resolved', 'sg-0000000b']],
    ],
    [
      'a selector matching two groups',
      { groupSelectors: [{ tags: { Name: 'cache' } }] },
      [['ambiguous', ['sg-0000000b', 'sg-0000000c']]],
    ],
    [
      'a selector whose value differs (exact match, no wildcards)',
      { groupSelectors: [{ tags: { team: 'pay*' } }] },
      [['not-found', []]],
    ],
    [
      'names first, then selectors, in spec order',
      { groupSelectors: [{ tags: { role: 'db' } }], groupNames: ['orders-cache'] },
      [
        ['resolved', 'sg-0000000c'],
        ['resolved', 'sg-0000000a'],
      ],
    ],
    ['ids only: nothing to resolve', { groupIds: ['sg-0000000a'] }, []],
  ])('%s', (_name, groups, expected) => {
    const resolutions = resolveGroupReferences(policy(groups), vpcGroups);
    expect(
      resolutions.map((resolution) => [
        resolution.outcome,
        resolution.outcome === 'resolved'
          ? resolution.group.id
          : resolution.outcome === 'ambiguous'
            ? resolution.candidates.map((candidate) => candidate.id)
            : [],
      ]),
    ).toEqual(expected);
  });
});

describe('referenceProblems', () => {
  test('none when every reference denotes exactly one group', () => {
    const subject = policy({ groupNames: ['payments-db'] });
    expect(referenceProblems(subject, resolveGroupReferences(subject, vpcGroups), 'vpc-1')).toBeUndefined();
  });

  test('missing names and an ambiguous selector in one message; not found wins the reason', () => {
    const subject = policy({ groupNames: ['audit', 'ledger'], groupSelectors: [{ tags: { Name: 'cache' } }] });
    expect(referenceProblems(subject, resolveGroupReferences(subject, vpcGroups), 'vpc-1')).toEqual({
      reason: 'GroupReferenceNotFound',
      message:
        'SecurityGroupPolicy payments/db names security groups by name "audit", name "ledger", which no group in ' +
        'vpc-1 matches; create the group, fix spec.securityGroups.groupNames or groupSelectors, or name it by id in ' +
        'groupIds; it also names a security group by tags {Name=cache}, which 2 groups in vpc-1 match: sg-0000000b ' +
        '(payments-cache), sg-0000000c (orders-cache); a name or selector must denote exactly one group, so add a ' +
        'tag that tells them apart or name the group by id in groupIds',
    });
  });
});

describe('movedReferences', () => {
  test('names what now denotes another group; new and unchanged references are not moves', () => {
    const subject = policy({
      groupNames: ['payments-db'],
      groupSelectors: [{ tags: { role: 'cache', team: 'payments' } }],
    });
    const before = resolvedReferencesOf(resolveGroupReferences(subject, vpcGroups));
    const recreated = [group('sg-0000000d', 'payments-db'), ...vpcGroups.slice(1)];
    const after = resolvedReferencesOf(resolveGroupReferences(subject, recreated));
    expect(movedReferences(before, after)).toEqual([
      'name "payments-db" now denotes sg-0000000d (payments-db; was sg-0000000a)',
    ]);
    expect(movedReferences(undefined, after)).toEqual([]);
    expect(movedReferences(after, after)).toEqual([]);
  });
});
