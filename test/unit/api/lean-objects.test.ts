import { describe, expect, test } from '@jest/globals';
import { SECURITY_GROUPS_ANNOTATION } from '../../../operator/api/constants.ts';
import { nodeAnnotationsRead } from '../../../operator/controllers/podnetwork/settings.ts';
import {
  nodeInformerOptions,
  toLeanNamespace,
  toLeanNode,
  toLeanServiceAccount,
  type LeanNode,
} from '../../../operator/api/lean-objects.ts';
import type { KubeObject } from '../../../operator/framework/types.ts';

/** A Node as a kubelet writes it (the parts the projection must drop included). */
function kubeletNode(): LeanNode & Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'ip-10-0-0-1.ec2.internal',
      uid: 'uid-1',
      resourceVersion: '42',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'node.kubernetes.io/instance-type': 'm5.large', 'topology.kubernetes.io/zone': 'us-west-2a' },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      providerID: 'aws:///us-west-2a/i-0123456789abcdef0',
      podCIDR: '10.1.0.0/24',
      taints: [],
    } as LeanNode['spec'],
    status: {
      capacity: { cpu: '2', 'vpc.amazonaws.com/pod-eni': '9' },
      allocatable: { cpu: '1930m', 'vpc.amazonaws.com/pod-eni': '9' },
      conditions: [{ type: 'Ready', status: 'True' }],
      images: [{ names: ['pause:3.10'], sizeBytes: 300_000 }],
      nodeInfo: { kubeletVersion: 'v1.36.3' },
    } as LeanNode['status'],
  };
}

describe('lean projections', () => {
  test('a Node keeps identity, labels, providerID and the capacity fields; images, conditions, info go', () => {
    expect(toLeanNode(kubeletNode())).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'ip-10-0-0-1.ec2.internal',
        uid: 'uid-1',
        resourceVersion: '42',
        labels: { 'node.kubernetes.io/instance-type': 'm5.large', 'topology.kubernetes.io/zone': 'us-west-2a' },
      },
      spec: { providerID: 'aws:///us-west-2a/i-0123456789abcdef0' },
      status: {
        capacity: { cpu: '2', 'vpc.amazonaws.com/pod-eni': '9' },
        allocatable: { cpu: '1930m', 'vpc.amazonaws.com/pod-eni': '9' },
      },
    });
  });

  test('a cordoned Node keeps spec.unschedulable (a cordoned node parks no warm branch ENI)', () => {
    const node = kubeletNode();
    node.spec = { ...node.spec, unschedulable: true };
    expect(toLeanNode(node).spec).toEqual({ providerID: 'aws:///us-west-2a/i-0123456789abcdef0', unschedulable: true });
  });

  test('a Node keeps the annotations asked for (custom networking names the ENIConfig there), no others', () => {
    const node = kubeletNode();
    node.metadata.annotations = { ...node.metadata.annotations, 'k8s.amazonaws.com/eniConfig': 'us-west-2a' };
    expect(toLeanNode(node, ['k8s.amazonaws.com/eniConfig']).metadata.annotations).toEqual({
      'k8s.amazonaws.com/eniConfig': 'us-west-2a',
    });
    expect(toLeanNode(node).metadata.annotations).toBeUndefined();
  });

  test('the Node informer keeps the ENIConfig annotation only when custom networking names every node', () => {
    const on = {
      ipFamily: 'ipv4',
      isDualStack: false,
      customNetworking: { mode: 'on', selection: { labelKey: 'zone', annotationKey: 'example.com/eni' } },
    } as const;
    expect(nodeAnnotationsRead(on)).toEqual(['example.com/eni']);
    expect(nodeAnnotationsRead({ ...on, customNetworking: { mode: 'marked-nodes' } })).toEqual([]);
    // One options object per set of keys: the manager shares one informer only with one transform function.
    expect(nodeInformerOptions(['example.com/eni'])).toBe(nodeInformerOptions(['example.com/eni']));
    expect(nodeInformerOptions([])).toBe(nodeInformerOptions());
    const node = kubeletNode();
    node.metadata.annotations = { 'example.com/eni': 'custom' };
    expect(nodeInformerOptions(['example.com/eni']).transform?.(node).metadata.annotations).toEqual({
      'example.com/eni': 'custom',
    });
  });

  test('a deleting Node keeps its deletionTimestamp', () => {
    const node = kubeletNode();
    node.metadata.deletionTimestamp = '2026-01-01T00:01:00Z';
    expect(toLeanNode(node).metadata.deletionTimestamp).toBe('2026-01-01T00:01:00Z');
  });

  test('a Namespace keeps its labels, not its annotations', () => {
    const namespace: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        uid: 'uid-ns',
        resourceVersion: '7',
        labels: { team: 'payments' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}' },
      },
    };
    expect(toLeanNamespace({ ...namespace, spec: { finalizers: ['kubernetes'] } } as KubeObject)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', uid: 'uid-ns', resourceVersion: '7', labels: { team: 'payments' } },
    });
  });

  test.each([
    [
      'with the security-groups annotation',
      { [SECURITY_GROUPS_ANNOTATION]: 'sg-1', 'eks.amazonaws.com/role-arn': 'arn' },
    ],
    ['without it', { 'eks.amazonaws.com/role-arn': 'arn' }],
  ])('a ServiceAccount keeps its labels and the security-groups annotation only (%s)', (_name, annotations) => {
    const lean = toLeanServiceAccount({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations },
      secrets: [{ name: 'web-token' }],
    } as KubeObject);
    const groups = annotations[SECURITY_GROUPS_ANNOTATION as keyof typeof annotations];
    expect(lean).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web' },
        ...(groups === undefined ? {} : { annotations: { [SECURITY_GROUPS_ANNOTATION]: groups } }),
      },
    });
  });
});
