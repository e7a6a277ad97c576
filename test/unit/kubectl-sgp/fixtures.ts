/** Objects for the kubectl sgp explanation tests: a pod on a managed node, policies, branches. */
import type { LeanPod } from '../../../operator/api/pod.ts';
import type {
  BranchInterface,
  BranchPhase,
  CNINode,
  Condition,
  SecurityGroupPolicy,
  TrunkInterface,
  TrunkState,
} from '../../../operator/api/types.ts';
import type { NodeObject } from '../../../operator/controllers/node/index.ts';
import { generatedLimits, toInstanceTypeLimits } from '../../../operator/limits/index.ts';
import type { PodFacts } from '../../../kubectl-sgp/explain/pod.ts';

export const NS = 'payments';
export const NODE = 'ip-10-0-0-4';
export const UID = '3f1e6a52-0c1d-4f3b-9a57-2b8f6a1c9d40';

const condition = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

export function pod(
  overrides: Partial<LeanPod['spec']> & { labels?: Record<string, string>; podEni?: boolean } = {},
): LeanPod {
  const { labels = { app: 'api' }, podEni = true, ...spec } = overrides;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'api-0', namespace: NS, uid: UID, labels },
    spec: {
      nodeName: NODE,
      containers: [
        {
          name: 'app',
          ...(podEni
            ? {
                resources: {
                  limits: { 'vpc.amazonaws.com/pod-eni': '1' },
                  requests: { 'vpc.amazonaws.com/pod-eni': '1' },
                },
              }
            : {}),
        },
      ],
      ...spec,
    },
    status: { phase: 'Running' },
  };
}

export function policy(
  name: string,
  groupIds: string[],
  selector: SecurityGroupPolicy['spec']['podSelector'],
  validity: 'valid' | 'invalid' | 'unvalidated' = 'valid',
): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace: NS, generation: 1 },
    spec: { podSelector: selector, securityGroups: { groupIds } },
    ...(validity === 'unvalidated'
      ? {}
      : {
          status: {
            observedGeneration: 1,
            conditions: [
              validity === 'valid'
                ? condition('Valid', 'True', 'GroupsFound')
                : condition(
                    'Valid',
                    'False',
                    'GroupsNotFound',
                    `SecurityGroupPolicy ${NS}/${name} names ${groupIds[0]}, which does not exist in vpc-1`,
                  ),
            ],
          },
        }),
  };
}

export function branch(
  phase: BranchPhase,
  groups: string[],
  extra: { vlanId?: number; conditions?: Condition[]; applied?: string[]; name?: string; nodeName?: string } = {},
): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: extra.name ?? 'api-0', namespace: NS },
    spec: {
      podName: extra.name ?? 'api-0',
      podUid: UID,
      nodeName: extra.nodeName ?? NODE,
      securityGroups: groups,
      matchedPolicies: ['db'],
    },
    status: {
      phase,
      ...(extra.vlanId !== undefined || phase === 'Ready' ? { vlanId: extra.vlanId ?? 1 } : {}),
      ...(phase === 'Ready'
        ? { eniId: 'eni-0000000000000000a', privateIp: '10.0.0.9', subnetId: 'subnet-1', subnetCidr: '10.0.0.0/24' }
        : {}),
      ...(extra.applied
        ? { appliedSecurityGroups: extra.applied }
        : phase === 'Ready'
          ? { appliedSecurityGroups: groups }
          : {}),
      conditions: extra.conditions ?? [],
    },
  };
}

export const atCapacity = condition('Ready', 'False', 'NodeAtCapacity', 'node holds 9 of 9');
export const quotaExceeded = condition(
  'SecurityGroupsApplied',
  'False',
  'SecurityGroupQuotaExceeded',
  'the pod’s policies name 6 groups; the per-ENI quota is 5',
);

export function node(labels: Record<string, string> = {}): NodeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE, labels: { 'node.kubernetes.io/instance-type': 'm5.large', ...labels } },
    spec: { providerID: 'aws:///us-west-2a/i-0123456789abcdef0' },
  };
}

export function cniNode(optedIn: boolean): CNINode {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1alpha1',
    kind: 'CNINode',
    metadata: { name: NODE },
    spec: { features: optedIn ? [{ name: 'SecurityGroupsForPods' }] : [] },
  };
}

export function trunk(state: TrunkState, message?: string): TrunkInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: NODE },
    spec: { nodeName: NODE, instanceId: 'i-0123456789abcdef0', instanceType: 'm5.large' },
    status: {
      state,
      branchCapacity: 9,
      securityGroups: ['sg-0000000n'],
      ...(state === 'Ready' ? { eniId: 'eni-0000000000000000t' } : {}),
      conditions: message ? [condition('Ready', 'False', 'CreateFailed', message)] : [],
    },
  };
}

export const m5large = toInstanceTypeLimits(
  'm5.large',
  generatedLimits().instanceTypes['m5.large'] ?? (undefined as never),
);

/** A pod on a managed node with one valid policy selecting it, annotated, its branch Ready. */
export function facts(overrides: Partial<PodFacts> = {}): PodFacts {
  const ready = branch('Ready', ['sg-0000000a']);
  const annotated = pod();
  annotated.metadata.annotations = { 'vpc.amazonaws.com/pod-eni': '[{"eniId":"eni-0000000000000000a"}]' };
  return {
    pod: annotated,
    serviceAccount: undefined,
    namespaceLabels: {},
    policies: [policy('db', ['sg-0000000a'], { matchLabels: { app: 'api' } })],
    grants: [],
    branch: ready,
    node: node(),
    cniNode: cniNode(true),
    trunk: trunk('Ready'),
    limits: m5large,
    nodeBranches: [ready],
    events: [],
    annotationRule: { isEnabled: false, allowList: [] },
    ...overrides,
  };
}
