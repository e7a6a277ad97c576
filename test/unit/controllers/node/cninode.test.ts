import { describe, expect, test } from '@jest/globals';
import type { CNINode } from '../../../../operator/api/types.ts';
import { cniNodeRepairPatch, desiredCniNode } from '../../../../operator/controllers/node/cninode.ts';
import type { NodeObject } from '../../../../operator/controllers/node/node-object.ts';

const node: NodeObject = {
  metadata: { name: 'n1', uid: 'node-uid', labels: { 'kubernetes.io/os': 'linux' } },
  spec: { providerID: 'aws:///us-west-2a/i-0123456789abcdef0' },
};

describe('desiredCniNode', () => {
  test('same name, controller owner reference, finalizer, OS label, cluster and instance tags', () => {
    expect(desiredCniNode(node, 'prod')).toEqual({
      apiVersion: 'vpcresources.k8s.aws/v1alpha1',
      kind: 'CNINode',
      metadata: {
        name: 'n1',
        labels: { 'kubernetes.io/os': 'linux' },
        finalizers: ['trunking.sgp-operator.io/resource-cleanup'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }],
      },
      spec: {
        tags: { 'cluster.k8s.amazonaws.com/name': 'prod', 'node.k8s.amazonaws.com/instance_id': 'i-0123456789abcdef0' },
      },
    });
  });
});

describe('cniNodeRepairPatch', () => {
  const desired = desiredCniNode(node, 'prod');
  const features = [{ name: 'SecurityGroupsForPods' }];
  test.each<[string, CNINode, object | undefined]>([
    [
      'complete: nothing to do (features are the CNI’s)',
      { ...desired, spec: { ...desired.spec, features } },
      undefined,
    ],
    [
      'finalizer removed by a user: put back, keeping others',
      { ...desired, metadata: { ...desired.metadata, finalizers: ['other/x'] } },
      { metadata: { finalizers: ['other/x', 'trunking.sgp-operator.io/resource-cleanup'] } },
    ],
    [
      'tags and label missing',
      { ...desired, metadata: { ...desired.metadata, labels: {} }, spec: { features } },
      {
        metadata: { labels: { 'kubernetes.io/os': 'linux' } },
        spec: {
          tags: {
            'cluster.k8s.amazonaws.com/name': 'prod',
            'node.k8s.amazonaws.com/instance_id': 'i-0123456789abcdef0',
          },
        },
      },
    ],
  ])('%s', (_name, existing, expected) => {
    expect(cniNodeRepairPatch(existing, desired)).toEqual(expected);
  });
});
