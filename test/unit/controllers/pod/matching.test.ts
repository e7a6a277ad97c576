import { describe, expect, test } from '@jest/globals';
import type { LabelSelector, SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import {
  NO_MATCH_MESSAGE,
  policyGroupIds,
  policySkipReason,
  securityGroupsForPod,
} from '../../../../operator/controllers/pod/matching.ts';

function policy(
  name: string,
  groupIds: string[],
  selectors: { pod?: LabelSelector; sa?: LabelSelector },
  extra: { namespace?: string; deleting?: boolean } = {},
): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: {
      name,
      namespace: extra.namespace ?? 'catalog',
      ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      ...(selectors.pod ? { podSelector: selectors.pod } : {}),
      ...(selectors.sa ? { serviceAccountSelector: selectors.sa } : {}),
      securityGroups: { groupIds },
    },
  };
}

const servicePod = { metadata: { namespace: 'catalog', labels: { 'app.kubernetes.io/component': 'service' } } };
const bareUnlabelled = { metadata: { namespace: 'catalog' } };
const dbSa = { metadata: { labels: { role: 'db' } } };
const byComponent = { matchLabels: { 'app.kubernetes.io/component': 'service' } };

interface Row {
  name: string;
  pod: { metadata: { namespace?: string; labels?: Record<string, string> } };
  sa: { metadata: { labels?: Record<string, string> } } | undefined;
  policies: SecurityGroupPolicy[];
  groupIds: string[];
  matched: string[];
  reason: string;
}

const rows: Row[] = [
  { name: 'no policies', pod: servicePod, sa: dbSa, policies: [], groupIds: [], matched: [], reason: 'NoPolicies' },
  {
    name: 'pod selector matches',
    pod: servicePod,
    sa: undefined,
    policies: [policy('rds', ['sg-rds'], { pod: byComponent })],
    groupIds: ['sg-rds'],
    matched: ['rds'],
    reason: 'PoliciesMatched',
  },
  {
    name: 'pod selector does not match',
    pod: servicePod,
    sa: undefined,
    policies: [policy('rds', ['sg-rds'], { pod: { matchLabels: { app: 'other' } } })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicyMatched',
  },
  {
    name: 'policy in another namespace is ignored',
    pod: servicePod,
    sa: undefined,
    policies: [policy('rds', ['sg-rds'], { pod: {} }, { namespace: 'orders' })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicies',
  },
  {
    name: 'empty pod selector matches a pod with no labels',
    pod: bareUnlabelled,
    sa: undefined,
    policies: [policy('all', ['sg-all'], { pod: {} })],
    groupIds: ['sg-all'],
    matched: ['all'],
    reason: 'PoliciesMatched',
  },
  {
    name: 'service account selector alone',
    pod: bareUnlabelled,
    sa: dbSa,
    policies: [policy('sa', ['sg-sa'], { sa: { matchLabels: { role: 'db' } } })],
    groupIds: ['sg-sa'],
    matched: ['sa'],
    reason: 'PoliciesMatched',
  },
  {
    name: 'service account selector against the pod labels does not match',
    pod: { metadata: { namespace: 'catalog', labels: { role: 'db' } } },
    sa: { metadata: {} },
    policies: [policy('sa', ['sg-sa'], { sa: { matchLabels: { role: 'db' } } })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicyMatched',
  },
  {
    name: 'missing service account: narrow selector does not match',
    pod: servicePod,
    sa: undefined,
    policies: [policy('sa', ['sg-sa'], { sa: { matchLabels: { role: 'db' } } })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicyMatched',
  },
  {
    name: 'missing service account: empty selector matches',
    pod: servicePod,
    sa: undefined,
    policies: [policy('sa', ['sg-sa'], { sa: {} })],
    groupIds: ['sg-sa'],
    matched: ['sa'],
    reason: 'PoliciesMatched',
  },
  {
    name: 'both selectors set: both must match (pod side fails)',
    pod: bareUnlabelled,
    sa: dbSa,
    policies: [policy('both', ['sg-b'], { pod: byComponent, sa: { matchLabels: { role: 'db' } } })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicyMatched',
  },
  {
    name: 'both selectors set: both must match (service account side fails)',
    pod: servicePod,
    sa: { metadata: { labels: { role: 'web' } } },
    policies: [policy('both', ['sg-b'], { pod: byComponent, sa: { matchLabels: { role: 'db' } } })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicyMatched',
  },
  {
    name: 'both selectors set and both match',
    pod: servicePod,
    sa: dbSa,
    policies: [policy('both', ['sg-b'], { pod: byComponent, sa: { matchLabels: { role: 'db' } } })],
    groupIds: ['sg-b'],
    matched: ['both'],
    reason: 'PoliciesMatched',
  },
  {
    name: 'overlapping policies are unioned, de-duplicated, in policy (name) order',
    pod: servicePod,
    sa: dbSa,
    policies: [
      policy('zeta', ['sg-3', 'sg-1'], { pod: {} }),
      policy('alpha', ['sg-2', 'sg-1'], { sa: { matchLabels: { role: 'db' } } }),
    ],
    groupIds: ['sg-2', 'sg-1', 'sg-3'],
    matched: ['alpha', 'zeta'],
    reason: 'PoliciesMatched',
  },
  {
    name: 'policy with neither selector is skipped',
    pod: servicePod,
    sa: dbSa,
    policies: [policy('none', ['sg-x'], {})],
    groupIds: [],
    matched: [],
    reason: 'NoPolicies',
  },
  {
    name: 'policy with no group ids is skipped',
    pod: servicePod,
    sa: dbSa,
    policies: [policy('empty', [], { pod: {} })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicies',
  },
  {
    name: 'policy being deleted is skipped',
    pod: servicePod,
    sa: dbSa,
    policies: [policy('gone', ['sg-x'], { pod: {} }, { deleting: true })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicies',
  },
  {
    name: 'policy with a malformed selector is skipped',
    pod: servicePod,
    sa: dbSa,
    policies: [policy('bad', ['sg-x'], { pod: { matchExpressions: [{ key: 'a', operator: 'In' }] } })],
    groupIds: [],
    matched: [],
    reason: 'NoPolicies',
  },
];

describe('securityGroupsForPod', () => {
  test.each(rows)('$name', ({ pod, sa, policies, groupIds, matched, reason }) => {
    const result = securityGroupsForPod(pod, sa, policies);
    expect({ groupIds: result.groupIds, matched: result.matchedPolicies, reason: result.reason }).toEqual({
      groupIds,
      matched,
      reason,
    });
  });

  test('messages use EKS wording', () => {
    const matched = securityGroupsForPod(servicePod, undefined, [policy('a', ['sg-1', 'sg-2'], { pod: {} })]);
    expect(matched.message).toBe('Pod will get the following Security Groups [sg-1 sg-2]');
    expect(securityGroupsForPod(servicePod, undefined, []).message).toBe(NO_MATCH_MESSAGE);
    expect(NO_MATCH_MESSAGE).toBe(
      "Pod will get the instance security group as the pod didn't match any Security Group from SecurityGroupPolicy",
    );
  });

  test('does not reorder the caller’s array', () => {
    const policies = [policy('b', ['sg-b'], { pod: {} }), policy('a', ['sg-a'], { pod: {} })];
    securityGroupsForPod(servicePod, undefined, policies);
    expect(policies.map((p) => p.metadata.name)).toEqual(['b', 'a']);
  });
});

describe('policySkipReason', () => {
  test.each<[string, SecurityGroupPolicy, string | undefined]>([
    ['usable', policy('p', ['sg-1'], { pod: {} }), undefined],
    ['no selector', policy('p', ['sg-1'], {}), 'NoSelector'],
    ['no groups', policy('p', [], { sa: {} }), 'NoGroups'],
    ['deleting', policy('p', ['sg-1'], { pod: {} }, { deleting: true }), 'Deleting'],
    [
      'malformed selector',
      policy('p', ['sg-1'], { sa: { matchExpressions: [{ key: 'k', operator: 'NotIn' }] } }),
      'InvalidSelector',
    ],
  ])('%s', (_name, p, expected) => {
    expect(policySkipReason(p)).toBe(expected);
  });
});

describe('groups by name or tag selector (our extension)', () => {
  function namedPolicy(generation: number, statusGeneration: number | undefined): SecurityGroupPolicy {
    return {
      ...policy('db', ['sg-0000000a'], { pod: byComponent }),
      metadata: { name: 'db', namespace: 'catalog', generation },
      spec: {
        podSelector: byComponent,
        securityGroups: { groupIds: ['sg-0000000a'], groupNames: ['payments-db'] },
      },
      ...(statusGeneration === undefined
        ? {}
        : {
            status: {
              observedGeneration: statusGeneration,
              resolvedReferences: [{ name: 'payments-db', groupId: 'sg-0000000b', groupName: 'payments-db' }],
            },
          }),
    };
  }

  test.each([
    ['resolved for the current generation: ids then resolved names', namedPolicy(2, 2), ['sg-0000000a', 'sg-0000000b']],
    ['resolved for an older generation: ids only', namedPolicy(2, 1), ['sg-0000000a']],
    ['not resolved yet: ids only', namedPolicy(1, undefined), ['sg-0000000a']],
  ])('policyGroupIds, %s', (_name, subject, expected) => {
    expect(policyGroupIds(subject)).toEqual(expected);
  });

  test('a policy naming groups only by name still selects the pod before its names are resolved', () => {
    const byNameOnly: SecurityGroupPolicy = {
      ...namedPolicy(1, undefined),
      spec: { podSelector: byComponent, securityGroups: { groupNames: ['payments-db'] } },
    };
    expect(policySkipReason(byNameOnly)).toBeUndefined();
    expect(securityGroupsForPod(servicePod, undefined, [byNameOnly])).toMatchObject({
      groupIds: [],
      matchedPolicies: ['db'],
      reason: 'PoliciesMatched',
    });
  });

  test('a policy with neither ids, names nor selectors selects nothing', () => {
    const empty: SecurityGroupPolicy = {
      ...namedPolicy(1, undefined),
      spec: { podSelector: byComponent, securityGroups: { groupNames: [], groupSelectors: [] } },
    };
    expect(policySkipReason(empty)).toBe('NoGroups');
  });
});
