import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupGrant } from '../../../../operator/api/types.ts';
import { judgeGroupsForNamespace } from '../../../../operator/controllers/securitygroupgrant/index.ts';
import type { GrantScope } from '../../../../operator/controllers/securitygroupgrant/index.ts';

const SUBJECT = { kind: 'SecurityGroupPolicy', namespace: 'payments', name: 'db' };

function grant(
  name: string,
  spec: SecurityGroupGrant['spec'],
  extra: { generation?: number; status?: SecurityGroupGrant['status']; deleting?: boolean } = {},
): SecurityGroupGrant {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'SecurityGroupGrant',
    metadata: {
      name,
      generation: extra.generation ?? 1,
      ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec,
    ...(extra.status ? { status: extra.status } : {}),
  };
}

const byName = grant('payments-db', {
  namespaces: { names: ['payments'] },
  securityGroups: { groupIds: ['sg-0000000a'] },
});
const byLabel = grant('tier-data', {
  namespaces: { selector: { matchLabels: { tier: 'data' } } },
  securityGroups: { groupIds: ['sg-0000000b'] },
});
const everywhere = grant('shared', { namespaces: { selector: {} }, securityGroups: { groupIds: ['sg-0000000c'] } });
const byTagResolved = grant(
  'team-tags',
  { namespaces: { names: ['payments'] }, securityGroups: { tags: [{ key: 'team', values: ['payments'] }] } },
  { generation: 2, status: { observedGeneration: 2, resolvedGroupIds: ['sg-0000000d'] } },
);
const byTagStale = grant(
  'team-tags',
  { namespaces: { names: ['payments'] }, securityGroups: { tags: [{ key: 'team' }] } },
  { generation: 3, status: { observedGeneration: 2, resolvedGroupIds: ['sg-0000000d'] } },
);
const otherNamespace = grant('orders-cache', {
  namespaces: { names: ['orders'] },
  securityGroups: { groupIds: ['sg-0000000e'] },
});

function scope(grants: SecurityGroupGrant[], labels?: Record<string, string>): GrantScope {
  return { grants, namespace: 'payments', namespaceLabels: labels };
}

describe('judgeGroupsForNamespace', () => {
  test.each<[string, string[], GrantScope, boolean, string]>([
    ['no grant at all: EKS behaviour', ['sg-0000000e'], scope([]), true, 'NoGrants'],
    [
      'only a grant being deleted counts as none',
      ['sg-0000000e'],
      scope([grant('x', byName.spec, { deleting: true })]),
      true,
      'NoGrants',
    ],
    ['granted by namespace name', ['sg-0000000a'], scope([byName]), true, 'Granted'],
    ['granted by namespace label', ['sg-0000000b'], scope([byLabel], { tier: 'data' }), true, 'Granted'],
    [
      'label selector, namespace without the label',
      ['sg-0000000b'],
      scope([byLabel], { tier: 'web' }),
      false,
      'GroupsNotGranted',
    ],
    ['selector {} covers every namespace, even one not cached', ['sg-0000000c'], scope([everywhere]), true, 'Granted'],
    ['granted by a resolved tag rule', ['sg-0000000d'], scope([byTagResolved]), true, 'Granted'],
    [
      'groups from two grants together',
      ['sg-0000000a', 'sg-0000000d'],
      scope([byName, byTagResolved]),
      true,
      'Granted',
    ],
    ['one group of two not granted', ['sg-0000000a', 'sg-0000000e'], scope([byName]), false, 'GroupsNotGranted'],
    ['a group granted only to another namespace', ['sg-0000000e'], scope([otherNamespace]), false, 'GroupsNotGranted'],
    ['tag rule resolved for an older generation', ['sg-0000000d'], scope([byTagStale]), false, 'GrantNotResolved'],
    ['tag rule never resolved', ['sg-0000000d'], scope([grant('t', byTagStale.spec)]), false, 'GrantNotResolved'],
    [
      'an unresolved grant does not block groups granted by id',
      ['sg-0000000a'],
      scope([byName, byTagStale]),
      true,
      'Granted',
    ],
  ])('%s', (_name, groups, given, allowed, reason) => {
    const verdict = judgeGroupsForNamespace(groups, given, SUBJECT);
    expect({ allowed: verdict.allowed, reason: verdict.reason }).toEqual({ allowed, reason });
  });

  test('the message names the group, the namespace and the grant that allows it elsewhere', () => {
    expect(judgeGroupsForNamespace(['sg-0000000e'], scope([byName, otherNamespace]), SUBJECT)).toEqual({
      allowed: false,
      reason: 'GroupsNotGranted',
      refused: ['sg-0000000e'],
      unresolvedGrants: [],
      message:
        'SecurityGroupPolicy payments/db names security group sg-0000000e, which no SecurityGroupGrant allows in ' +
        'namespace payments; SecurityGroupGrant orders-cache allows sg-0000000e but not in namespace payments: ask ' +
        'a cluster admin to add payments to its spec.namespaces.names (or label the namespace to match its ' +
        'spec.namespaces.selector), or remove it from the SecurityGroupPolicy',
    });
  });

  test('no grant mentions the group: it names the grants covering the namespace to extend', () => {
    const verdict = judgeGroupsForNamespace(['sg-0000000f'], scope([byName]), SUBJECT);
    expect(verdict.message).toBe(
      'SecurityGroupPolicy payments/db names security group sg-0000000f, which no SecurityGroupGrant allows in ' +
        'namespace payments; no grant allows sg-0000000f: ask a cluster admin to add it to ' +
        'spec.securityGroups.groupIds (or tag it to match a tag rule) of SecurityGroupGrant payments-db, which ' +
        'covers namespace payments, or remove it from the SecurityGroupPolicy',
    );
  });

  test('no grant covers the namespace: it asks for a new grant', () => {
    const verdict = judgeGroupsForNamespace(['sg-0000000f'], scope([otherNamespace]), SUBJECT);
    expect(verdict.message).toContain(
      'no grant allows sg-0000000f: ask a cluster admin to add a SecurityGroupGrant giving sg-0000000f to ' +
        'namespace payments (no grant covers the namespace yet)',
    );
  });

  test('an unresolved tag rule is named as the reason, never as "no grant allows it"', () => {
    const verdict = judgeGroupsForNamespace(['sg-0000000d'], scope([byTagStale]), SUBJECT);
    expect(verdict).toMatchObject({ allowed: false, reason: 'GrantNotResolved', unresolvedGrants: ['team-tags'] });
    expect(verdict.message).toMatch(
      /^SecurityGroupPolicy payments\/db names security group sg-0000000d, which no SecurityGroupGrant allows in namespace payments yet: the tag rules of SecurityGroupGrant team-tags, which covers the namespace, are not resolved in EC2 yet \(see its Resolved condition\)/,
    );
  });

  test('allowed groups report the grants allowing each', () => {
    expect(judgeGroupsForNamespace(['sg-0000000a', 'sg-0000000d'], scope([byName, byTagResolved]), SUBJECT)).toEqual({
      allowed: true,
      reason: 'Granted',
      grantedBy: { 'sg-0000000a': ['payments-db'], 'sg-0000000d': ['team-tags'] },
      message: 'SecurityGroupGrants allow sg-0000000a (payments-db), sg-0000000d (team-tags) in namespace payments',
    });
  });
});
