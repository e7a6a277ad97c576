import { describe, expect, test } from '@jest/globals';
import {
  branchEniTags,
  branchEnisOfTrunkFilter,
  clientToken,
  trunkEniTags,
  trunkEnisFilter,
} from '../../../operator/aws/tags.ts';

const node = { clusterName: 'prod-1', instanceId: 'i-0123456789abcdef0', nodeName: 'ip-10-0-1-23.ec2.internal' };

describe('ENI tags (EKS keys plus ours)', () => {
  test('trunk ENI', () => {
    expect(trunkEniTags(node)).toEqual({
      'eks:eni:owner': 'sgp-operator',
      'kubernetes.io/cluster/prod-1': 'owned',
      'cluster.k8s.amazonaws.com/name': 'prod-1',
      'node.k8s.amazonaws.com/instance_id': 'i-0123456789abcdef0',
      'trunking.sgp-operator.io/node-name': 'ip-10-0-1-23.ec2.internal',
    });
  });

  test('branch ENI carries trunk, VLAN and pod', () => {
    expect(
      branchEniTags({
        ...node,
        trunkEniId: 'eni-trunk',
        vlanId: 7,
        podNamespace: 'payments',
        podName: 'db-0',
        podUid: 'uid-1',
      }),
    ).toEqual({
      'eks:eni:owner': 'sgp-operator',
      'kubernetes.io/cluster/prod-1': 'owned',
      'cluster.k8s.amazonaws.com/name': 'prod-1',
      'node.k8s.amazonaws.com/instance_id': 'i-0123456789abcdef0',
      'trunking.sgp-operator.io/node-name': 'ip-10-0-1-23.ec2.internal',
      'vpcresources.k8s.aws/trunk-eni-id': 'eni-trunk',
      'vpcresources.k8s.aws/vlan-id': '7',
      'trunking.sgp-operator.io/pod-namespace': 'payments',
      'trunking.sgp-operator.io/pod-name': 'db-0',
      'trunking.sgp-operator.io/pod-uid': 'uid-1',
    });
  });

  test('filters select by owner and cluster plus the narrowing key', () => {
    expect(trunkEnisFilter('prod-1', 'i-1')).toEqual({
      interfaceType: ['trunk'],
      tags: {
        'eks:eni:owner': ['sgp-operator'],
        'cluster.k8s.amazonaws.com/name': ['prod-1'],
        'node.k8s.amazonaws.com/instance_id': ['i-1'],
      },
    });
    expect(branchEnisOfTrunkFilter('prod-1', 'eni-t').tags).toEqual({
      'eks:eni:owner': ['sgp-operator'],
      'cluster.k8s.amazonaws.com/name': ['prod-1'],
      'vpcresources.k8s.aws/trunk-eni-id': ['eni-t'],
    });
  });
});

describe('clientToken', () => {
  test('is deterministic for the same purpose, uid and parts', () => {
    expect(clientToken('create-branch', 'uid-1', 'eni-t', 3)).toBe(clientToken('create-branch', 'uid-1', 'eni-t', 3));
  });

  test.each([
    ['another purpose', clientToken('associate', 'uid-1', 'eni-t', 3)],
    ['another uid', clientToken('create-branch', 'uid-2', 'eni-t', 3)],
    ['another part', clientToken('create-branch', 'uid-1', 'eni-t', 4)],
    ['parts not concatenated ambiguously', clientToken('create-branch', 'uid-1', 'eni-t3')],
  ])('differs for %s', (_name, other) => {
    expect(other).not.toBe(clientToken('create-branch', 'uid-1', 'eni-t', 3));
  });

  test('is at most 64 printable ASCII characters even for long inputs', () => {
    const token = clientToken('a-very-long-purpose-name-that-goes-on', 'u'.repeat(500), 'é', 'x'.repeat(300));
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toMatch(/^[\x21-\x7e]+$/);
  });

  test('refuses an empty owner uid (it would collide across owners)', () => {
    expect(() => clientToken('create-branch', '')).toThrow(/uid is empty/);
  });
});
