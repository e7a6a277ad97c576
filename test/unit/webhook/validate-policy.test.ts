import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../../operator/api/types.ts';
import {
  decidePolicyAdmission,
  type AdmissionOperation,
  type AdmissionRequest,
  type PolicyAdmissionInputs,
} from '../../../operator/webhook/index.ts';

function sgp(groupIds: string[], podLabel = 'db'): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: 'db', namespace: 'payments' },
    spec: { podSelector: { matchLabels: { app: podLabel } }, securityGroups: { groupIds } },
  };
}

function request(
  operation: AdmissionOperation,
  object: SecurityGroupPolicy,
  oldObject?: SecurityGroupPolicy,
): AdmissionRequest<SecurityGroupPolicy> {
  return { uid: 'req-1', operation, namespace: 'payments', userInfo: { username: 'dev' }, object, oldObject };
}

const grant: SecurityGroupGrant = {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'SecurityGroupGrant',
  metadata: { name: 'payments-db', generation: 1 },
  spec: { namespaces: { names: ['payments'] }, securityGroups: { groupIds: ['sg-0000000a'] } },
};
const inputs = (grants: SecurityGroupGrant[], isGrantsSynced = true): PolicyAdmissionInputs => ({
  grants,
  isGrantsSynced,
  namespaceLabels: {},
});

describe('decidePolicyAdmission', () => {
  test.each<[string, AdmissionRequest<SecurityGroupPolicy>, PolicyAdmissionInputs, string, string]>([
    ['no grant: allowed, as on EKS', request('CREATE', sgp(['sg-0000000f'])), inputs([]), 'allow', 'no-grants'],
    ['granted group', request('CREATE', sgp(['sg-0000000a'])), inputs([grant]), 'allow', 'granted'],
    ['group not granted', request('CREATE', sgp(['sg-0000000f'])), inputs([grant]), 'deny', 'group-not-granted'],
    [
      'UPDATE adding a group not granted',
      request('UPDATE', sgp(['sg-0000000a', 'sg-0000000f']), sgp(['sg-0000000a'])),
      inputs([grant]),
      'deny',
      'group-not-granted',
    ],
    [
      'UPDATE leaving the groups alone (a tightened grant) is allowed: the controller reports it',
      request('UPDATE', sgp(['sg-0000000f'], 'web'), sgp(['sg-0000000f'])),
      inputs([grant]),
      'allow',
      'groups-unchanged',
    ],
    ['DELETE', request('DELETE', sgp(['sg-0000000f'])), inputs([grant]), 'allow', 'not-a-write'],
    [
      'grants not read yet: allowed with a warning (the controller re-checks)',
      request('CREATE', sgp(['sg-0000000f'])),
      inputs([grant], false),
      'allow',
      'grants-not-synced',
    ],
  ])('%s', (_name, given, scope, kind, reason) => {
    const verdict = decidePolicyAdmission(given, scope);
    expect({ kind: verdict.kind, reason: verdict.reason }).toEqual({ kind, reason });
  });

  test('the refusal is a 403 naming the group, the namespace and the grant to extend', () => {
    expect(decidePolicyAdmission(request('CREATE', sgp(['sg-0000000f'])), inputs([grant]))).toEqual({
      kind: 'deny',
      code: 403,
      reason: 'group-not-granted',
      message:
        'SecurityGroupPolicy payments/db names security group sg-0000000f, which no SecurityGroupGrant allows in ' +
        'namespace payments; no grant allows sg-0000000f: ask a cluster admin to add it to ' +
        'spec.securityGroups.groupIds (or tag it to match a tag rule) of SecurityGroupGrant payments-db, which ' +
        'covers namespace payments, or remove it from the SecurityGroupPolicy',
    });
  });
});
