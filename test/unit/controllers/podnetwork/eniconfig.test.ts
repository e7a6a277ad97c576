import { describe, expect, test } from '@jest/globals';
import type { CNINode, ENIConfig } from '../../../../operator/api/types.ts';
import {
  eniConfigNameOf,
  nodePodNetwork,
  type CustomNetworking,
} from '../../../../operator/controllers/podnetwork/index.ts';

const ON: CustomNetworking = {
  mode: 'on',
  selection: { labelKey: 'topology.kubernetes.io/zone', annotationKey: 'k8s.amazonaws.com/eniConfig' },
};
const MARKED: CustomNetworking = { mode: 'marked-nodes' };
const OFF: CustomNetworking = { mode: 'off' };

const node = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({
  metadata: { name: 'node-a', labels, annotations },
});
const cniNode = (value: string | undefined): CNINode => ({
  apiVersion: 'vpcresources.k8s.aws/v1alpha1',
  kind: 'CNINode',
  metadata: { name: 'node-a' },
  spec: {
    features: [
      { name: 'SecurityGroupsForPods' },
      ...(value === undefined ? [] : [{ name: 'CustomNetworking', value }]),
    ],
  },
});
const ZONE = { 'topology.kubernetes.io/zone': 'us-west-2a' };

describe('eniConfigNameOf: the name the VPC CNI would use', () => {
  test.each<[string, ReturnType<typeof node>, CNINode | undefined, CustomNetworking, object]>([
    [
      'the CNINode feature wins over every label',
      node({ ...ZONE, 'vpc.amazonaws.com/eniConfig': 'eks' }),
      cniNode('from-cni'),
      ON,
      { kind: 'named', name: 'from-cni', source: 'cninode-feature' },
    ],
    [
      "then EKS's own label",
      node({ ...ZONE, 'vpc.amazonaws.com/eniConfig': 'eks' }),
      cniNode(undefined),
      ON,
      { kind: 'named', name: 'eks', source: 'eks-label' },
    ],
    [
      'then the external label',
      node({ ...ZONE, 'vpc.amazonaws.com/externalEniConfig': 'ext' }),
      undefined,
      ON,
      { kind: 'named', name: 'ext', source: 'external-label' },
    ],
    [
      'then the annotation',
      node(ZONE, { 'k8s.amazonaws.com/eniConfig': 'annotated' }),
      undefined,
      ON,
      { kind: 'named', name: 'annotated', source: 'annotation' },
    ],
    [
      'then the configured label (the zone)',
      node(ZONE),
      undefined,
      ON,
      { kind: 'named', name: 'us-west-2a', source: 'label' },
    ],
    ['else the ENIConfig named default', node(), undefined, ON, { kind: 'named', name: 'default', source: 'default' }],
    [
      'marked-nodes: only what the CNI marked counts',
      node(ZONE),
      cniNode('from-cni'),
      MARKED,
      { kind: 'named', name: 'from-cni', source: 'cninode-feature' },
    ],
    [
      'marked-nodes: an unmarked node keeps its subnet, labels or not',
      node(ZONE),
      cniNode(undefined),
      MARKED,
      { kind: 'none' },
    ],
    [
      'off: a marked node is ignored, and told so',
      node(),
      cniNode('from-cni'),
      OFF,
      { kind: 'ignored', name: 'from-cni' },
    ],
    ['off: an unmarked node is nothing to say', node(ZONE), undefined, OFF, { kind: 'none' }],
  ])('%s', (_name, n, cni, mode, expected) => {
    expect(eniConfigNameOf(n, cni, mode)).toMatchObject(expected);
  });
});

describe('nodePodNetwork', () => {
  const configs = new Map<string, ENIConfig>([
    [
      'us-west-2a',
      {
        apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
        kind: 'ENIConfig',
        metadata: { name: 'us-west-2a' },
        spec: { subnet: 'subnet-0a1a1a1a1a1a1a1a1', securityGroups: ['sg-b', 'sg-a', 'sg-a'] },
      },
    ],
    [
      'broken',
      {
        apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
        kind: 'ENIConfig',
        metadata: { name: 'broken' },
        spec: { subnet: 'my-subnet' },
      },
    ],
  ]);
  const eniConfigs = { get: (name: string) => configs.get(name) };

  test("the ENIConfig's subnet and its groups, sorted and de-duplicated", () => {
    expect(nodePodNetwork(node(ZONE), undefined, ON, eniConfigs)).toEqual({
      kind: 'eni-config',
      name: 'us-west-2a',
      subnetId: 'subnet-0a1a1a1a1a1a1a1a1',
      securityGroups: ['sg-a', 'sg-b'],
    });
  });

  test('a missing ENIConfig names the node, the ENIConfig, where the name came from, and the fix', () => {
    expect(nodePodNetwork(node({ 'topology.kubernetes.io/zone': 'us-west-2c' }), undefined, ON, eniConfigs)).toEqual({
      kind: 'problem',
      reason: 'ENIConfigNotFound',
      message:
        'node node-a uses ENIConfig us-west-2c (the ENIConfig label), which does not exist; create it ' +
        "(crd.k8s.amazonaws.com/v1alpha1, spec.subnet in the node's zone) or fix the node's ENIConfig name",
    });
  });

  test('an ENIConfig whose subnet is not a subnet id is invalid', () => {
    expect(nodePodNetwork(node(), cniNode('broken'), MARKED, eniConfigs)).toMatchObject({
      kind: 'problem',
      reason: 'ENIConfigInvalid',
    });
  });

  test('custom networking off with a marked node: the node subnet, with a warning to send', () => {
    expect(nodePodNetwork(node(), cniNode('us-west-2a'), OFF, eniConfigs)).toEqual({
      kind: 'node-subnet',
      warning: expect.stringContaining('set --custom-networking=auto or enabled'),
    });
  });
});
