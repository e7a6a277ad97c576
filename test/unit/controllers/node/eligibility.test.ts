import { describe, expect, test } from '@jest/globals';
import type { CNINode } from '../../../../operator/api/types.ts';
import type { InstanceTypeLimits } from '../../../../operator/limits/index.ts';
import { nodeEligibility, type Eligibility } from '../../../../operator/controllers/node/eligibility.ts';
import type { NodeObject } from '../../../../operator/controllers/node/node-object.ts';

const M5_LARGE: InstanceTypeLimits = {
  instanceType: 'm5.large',
  maxEnis: 3,
  ipv4PerEni: 10,
  isTrunkingCompatible: true,
  branchEnis: 9,
  defaultNetworkCardIndex: 0,
  networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 3 }],
  source: 'table',
};
const T3_MEDIUM: InstanceTypeLimits = {
  ...M5_LARGE,
  instanceType: 't3.medium',
  isTrunkingCompatible: false,
  branchEnis: 0,
};

const EC2 = 'aws:///us-west-2a/i-0123456789abcdef0';

function node(labels: Record<string, string>, providerID: string | null = EC2): NodeObject {
  return {
    metadata: { name: 'n1', uid: 'u1', labels: { 'node.kubernetes.io/instance-type': 'm5.large', ...labels } },
    spec: providerID === null ? {} : { providerID },
  };
}
const sgpFeature: CNINode = {
  apiVersion: 'vpcresources.k8s.aws/v1alpha1',
  kind: 'CNINode',
  metadata: { name: 'n1' },
  spec: { features: [{ name: 'SecurityGroupsForPods' }] },
};
const customNetworkingOnly: CNINode = {
  ...sgpFeature,
  spec: { features: [{ name: 'CustomNetworking', value: 'cfg' }] },
};
const legacy = { 'vpc.amazonaws.com/has-trunk-attached': 'false' };

type Row = [string, NodeObject, CNINode | undefined, InstanceTypeLimits | undefined, string, string | undefined];
// name, node, cninode, limits, expected verdict (managed:<optIn> or cause), expected event reason
const rows: Row[] = [
  ['CNINode feature on m5.large', node({}), sgpFeature, M5_LARGE, 'managed:cninode-feature', undefined],
  ['legacy label "false" (any value opts in)', node(legacy), undefined, M5_LARGE, 'managed:legacy-label', undefined],
  [
    'legacy label "true"',
    node({ 'vpc.amazonaws.com/has-trunk-attached': 'true' }),
    undefined,
    M5_LARGE,
    'managed:legacy-label',
    undefined,
  ],
  ['no opt-in at all', node({}), undefined, M5_LARGE, 'not-opted-in', undefined],
  ['CNINode with another feature only', node({}), customNetworkingOnly, M5_LARGE, 'not-opted-in', undefined],
  [
    't3 opted in',
    node({ 'node.kubernetes.io/instance-type': 't3.medium' }),
    sgpFeature,
    T3_MEDIUM,
    'not-trunking-compatible',
    'Unsupported',
  ],
  [
    't3 not opted in: quiet',
    node({ 'node.kubernetes.io/instance-type': 't3.medium' }),
    undefined,
    T3_MEDIUM,
    'not-opted-in',
    undefined,
  ],
  [
    'unknown type opted in',
    node({ 'node.kubernetes.io/instance-type': 'x9.huge' }),
    sgpFeature,
    undefined,
    'unknown-instance-type',
    'Unsupported',
  ],
  [
    'no instance-type label',
    { metadata: { name: 'n1', labels: legacy }, spec: { providerID: EC2 } },
    undefined,
    undefined,
    'no-instance-type',
    'Unsupported',
  ],
  [
    'EKS Auto Mode even when opted in',
    node({ 'eks.amazonaws.com/compute-type': 'auto' }),
    sgpFeature,
    M5_LARGE,
    'auto-mode',
    'NodeSkipped',
  ],
  [
    'a CNINode managed by EKS Auto Mode, even with the feature',
    node({}),
    { ...sgpFeature, spec: { ...sgpFeature.spec, managedBy: 'eks-auto-mode' } },
    M5_LARGE,
    'auto-mode',
    'NodeSkipped',
  ],
  [
    'a CNINode managed by the resource controller (us) is ours',
    node({}),
    { ...sgpFeature, spec: { ...sgpFeature.spec, managedBy: 'vpc-resource-controller' } },
    M5_LARGE,
    'managed:cninode-feature',
    undefined,
  ],
  [
    'Fargate by label',
    node({ 'eks.amazonaws.com/compute-type': 'fargate' }, 'aws:///us-west-2a/abc/fargate-ip-10-0-0-1'),
    sgpFeature,
    M5_LARGE,
    'fargate',
    'NodeSkipped',
  ],
  [
    'Fargate by providerID only',
    node({}, 'aws:///us-west-2a/abc/fargate-ip-10-0-0-1'),
    undefined,
    M5_LARGE,
    'fargate',
    'NodeSkipped',
  ],
  [
    'kind node (non-EC2 providerID)',
    node(legacy, 'kind://docker/kind/kind-worker'),
    undefined,
    M5_LARGE,
    'not-ec2',
    'NodeSkipped',
  ],
  ['no providerID yet', node(legacy, null), undefined, M5_LARGE, 'not-ec2', 'NodeSkipped'],
];

function verdict(result: Eligibility): string {
  return result.managed ? `managed:${result.optIn}` : result.cause;
}

describe('nodeEligibility', () => {
  test.each(rows)('%s', (_name, n, cni, limits, expected, eventReason) => {
    const result = nodeEligibility({ node: n, cniNode: cni, limits });
    expect(verdict(result)).toBe(expected);
    expect(result.managed ? undefined : result.event?.reason).toBe(eventReason);
  });

  test('a managed node carries the instance id from spec.providerID and the limits', () => {
    expect(nodeEligibility({ node: node({}), cniNode: sgpFeature, limits: M5_LARGE })).toEqual({
      managed: true,
      optIn: 'cninode-feature',
      instanceId: 'i-0123456789abcdef0',
      instanceType: 'm5.large',
      limits: M5_LARGE,
    });
  });

  test('the unknown-type message names the type, the node and the fix', () => {
    const result = nodeEligibility({
      node: node({ 'node.kubernetes.io/instance-type': 'x9.huge' }),
      cniNode: sgpFeature,
      limits: undefined,
    });
    expect(result.managed ? '' : result.event?.message).toMatch(
      /^instance type x9\.huge of node n1 is not in the limits table and has no override in .*; add it there or /,
    );
  });

  test('the t3 message says trunking is not supported, as a Warning', () => {
    const result = nodeEligibility({
      node: node({ 'node.kubernetes.io/instance-type': 't3.medium' }),
      cniNode: sgpFeature,
      limits: T3_MEDIUM,
    });
    expect(result.managed ? undefined : result.event).toEqual({
      type: 'Warning',
      reason: 'Unsupported',
      message: expect.stringContaining('instance type t3.medium of node n1 does not support ENI trunking'),
    });
  });
});
