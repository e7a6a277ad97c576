import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import type { BranchInterface, SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import { branchNameForPod, planPodBranch } from '../../../../operator/controllers/pod/decision.ts';
import type { PodBranchInput } from '../../../../operator/controllers/pod/decision.ts';
import { securityGroupsForPod } from '../../../../operator/controllers/pod/matching.ts';

function pod(
  overrides: {
    nodeName?: string | null;
    requests?: boolean;
    phase?: string;
    deleting?: boolean;
    hostNetwork?: boolean;
  } = {},
): LeanPod {
  return {
    metadata: {
      name: 'web-0',
      namespace: 'catalog',
      uid: 'uid-1',
      labels: { app: 'web' },
      ...(overrides.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      ...(overrides.nodeName === null ? {} : { nodeName: overrides.nodeName ?? 'node-a' }),
      hostNetwork: overrides.hostNetwork,
      containers: [
        {
          name: 'app',
          ...(overrides.requests === false
            ? {}
            : {
                resources: {
                  limits: { 'vpc.amazonaws.com/pod-eni': '1' },
                  requests: { 'vpc.amazonaws.com/pod-eni': '1' },
                },
              }),
        },
      ],
    },
    status: { phase: (overrides.phase ?? 'Pending') as 'Pending' },
  };
}

function policy(name: string, groupIds: string[], validity: 'valid' | 'invalid' | 'unvalidated'): SecurityGroupPolicy {
  const generation = 2;
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace: 'catalog', generation },
    spec: { podSelector: { matchLabels: { app: 'web' } }, securityGroups: { groupIds } },
    status:
      validity === 'unvalidated'
        ? {
            observedGeneration: 1,
            conditions: [{ type: 'Valid', status: 'True', reason: 'GroupsFound', message: '', lastTransitionTime: '' }],
          }
        : {
            observedGeneration: generation,
            conditions: [
              {
                type: 'Valid',
                status: validity === 'valid' ? 'True' : 'False',
                reason: validity === 'valid' ? 'GroupsFound' : 'GroupsNotFound',
                message:
                  validity === 'valid'
                    ? ''
                    : `SecurityGroupPolicy catalog/${name} names sg-missing, which does not exist`,
                lastTransitionTime: '',
              },
            ],
          },
  };
}

function branch(securityGroups: string[], matchedPolicies: string[]): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: 'web-0', namespace: 'catalog' },
    spec: { podName: 'web-0', podUid: 'uid-1', nodeName: 'node-a', securityGroups, matchedPolicies },
  };
}

function input(p: LeanPod, policies: SecurityGroupPolicy[], extra: Partial<PodBranchInput> = {}): PodBranchInput {
  return {
    pod: p,
    isNodeManaged: true,
    match: securityGroupsForPod(p, undefined, policies),
    policies,
    branch: undefined,
    ...extra,
  };
}

const rds = policy('rds', ['sg-rds', 'sg-a'], 'valid');

describe('planPodBranch', () => {
  test.each<[string, PodBranchInput, string, string]>([
    ['unscheduled pod', input(pod({ nodeName: null }), [rds]), 'none', 'NotScheduled'],
    ['host-network pod', input(pod({ hostNetwork: true }), [rds]), 'none', 'HostNetwork'],
    ['terminating pod', input(pod({ deleting: true }), [rds]), 'none', 'Terminating'],
    ['succeeded pod', input(pod({ phase: 'Succeeded' }), [rds]), 'none', 'Finished'],
    ['failed pod', input(pod({ phase: 'Failed' }), [rds]), 'none', 'Finished'],
    [
      'matching pod without the pod-eni request is untouched',
      input(pod({ requests: false }), [rds]),
      'none',
      'NotRequested',
    ],
    ['non-matching pod without the request is untouched', input(pod({ requests: false }), []), 'none', 'NotRequested'],
    ['node without a trunk', input(pod(), [rds], { isNodeManaged: false }), 'wait', 'NodeNotManaged'],
    [
      'matched policy not yet validated',
      input(pod(), [policy('new', ['sg-1'], 'unvalidated')]),
      'wait',
      'PolicyNotValidated',
    ],
    ['matched policy invalid', input(pod(), [rds, policy('bad', ['sg-missing'], 'invalid')]), 'hold', 'PolicyInvalid'],
    [
      'matched policy no grant allows: no branch',
      input(pod(), [rds], { ungranted: [{ policy: 'rds', reason: 'GroupsNotGranted', message: 'not granted' }] }),
      'hold',
      'GroupsNotGranted',
    ],
    [
      'grant tightened on a running pod: its branch is held, not updated',
      input(pod(), [rds], {
        branch: branch(['sg-a', 'sg-rds'], ['rds']),
        ungranted: [{ policy: 'rds', reason: 'GroupsNotGranted', message: 'not granted' }],
      }),
      'hold',
      'GroupsNotGranted',
    ],
    [
      "a covering grant's tags not resolved yet: the pod waits (silently)",
      input(pod(), [rds], { ungranted: [{ policy: 'rds', reason: 'GrantNotResolved', message: 'not resolved' }] }),
      'wait',
      'GrantNotResolved',
    ],
    ['new branch', input(pod(), [rds]), 'create', 'NewBranch'],
    ['requests pod-eni, matches nothing: branch with node groups', input(pod(), []), 'create', 'NewBranch'],
    ['in sync', input(pod(), [rds], { branch: branch(['sg-a', 'sg-rds'], ['rds']) }), 'none', 'InSync'],
    ['policy edited', input(pod(), [rds], { branch: branch(['sg-old'], ['rds']) }), 'update', 'GroupsChanged'],
    ['stops matching everything', input(pod(), [], { branch: branch(['sg-a'], ['rds']) }), 'update', 'GroupsChanged'],
    [
      'another policy with the same groups',
      input(pod(), [rds, policy('rds2', ['sg-a'], 'valid')], { branch: branch(['sg-a', 'sg-rds'], ['rds']) }),
      'update',
      'PoliciesChanged',
    ],
  ])('%s', (_name, given, action, reason) => {
    const plan = planPodBranch(given);
    expect({ action: plan.action, reason: plan.reason }).toEqual({ action, reason });
  });

  test('a new branch carries the sorted union and a Normal SecurityGroupRequested event', () => {
    expect(planPodBranch(input(pod(), [rds]))).toEqual({
      action: 'create',
      reason: 'NewBranch',
      securityGroups: ['sg-a', 'sg-rds'],
      matchedPolicies: ['rds'],
      event: {
        type: 'Normal',
        reason: 'SecurityGroupRequested',
        message: 'Pod will get the following Security Groups [sg-rds sg-a]',
      },
    });
  });

  test('requesting pod-eni without a match warns in EKS wording and asks for the node groups', () => {
    const plan = planPodBranch(input(pod(), []));
    expect(plan).toMatchObject({ action: 'create', securityGroups: [], matchedPolicies: [] });
    expect(plan.action === 'create' && plan.event).toEqual({
      type: 'Warning',
      reason: 'SecurityGroupRequested',
      message:
        "Pod will get the instance security group as the pod didn't match any Security Group from SecurityGroupPolicy",
    });
  });

  test('an invalid policy holds the pod with a Warning that names it and its problem', () => {
    const plan = planPodBranch(
      input(pod(), [rds, policy('bad', ['sg-missing'], 'invalid')], { branch: branch(['sg-a', 'sg-rds'], ['rds']) }),
    );
    expect(plan).toEqual({
      action: 'hold',
      reason: 'PolicyInvalid',
      message:
        'Pod matches invalid SecurityGroupPolicy bad; its branch ENI keeps its current security groups until the policy is fixed: ' +
        'SecurityGroupPolicy catalog/bad names sg-missing, which does not exist',
      event: expect.objectContaining({ type: 'Warning', reason: 'SecurityGroupPolicyInvalid' }),
    });
  });

  test('an invalid policy the pod does not match changes nothing', () => {
    const other = policy('other', ['sg-missing'], 'invalid');
    other.spec.podSelector = { matchLabels: { app: 'not-web' } };
    expect(planPodBranch(input(pod(), [rds, other])).action).toBe('create');
  });
});

describe('branchNameForPod', () => {
  const occupant = (podUid: string): BranchInterface => ({
    ...branch([], []),
    spec: { ...branch([], []).spec, podUid },
  });
  test.each<[string, string, BranchInterface | undefined, string]>([
    ['free name', 'web-0', undefined, 'web-0'],
    ['own branch', 'web-0', occupant('abcdef12-3456'), 'web-0'],
    ['predecessor cooling down', 'web-0', occupant('old-uid'), 'web-0-abcdef12'],
  ])('%s', (_name, podName, occ, expected) => {
    expect(branchNameForPod(podName, 'abcdef12-3456', occ)).toBe(expected);
  });
  test('a maximal name stays within 253 characters', () => {
    expect(branchNameForPod('a'.repeat(253), 'abcdef12-3456', occupant('old'))).toHaveLength(253);
  });

  test('a grant tightened while the pod runs: it keeps its ENI and groups, and the Warning says why', () => {
    const plan = planPodBranch(
      input(pod(), [rds], {
        branch: branch(['sg-a', 'sg-rds'], ['rds']),
        ungranted: [
          {
            policy: 'rds',
            reason: 'GroupsNotGranted',
            message: 'SecurityGroupPolicy catalog/rds names security group sg-rds, …',
          },
        ],
      }),
    );
    const message =
      'Pod matches SecurityGroupPolicy rds, which SecurityGroupGrants do not allow; its branch ENI keeps its ' +
      'current security groups until they do: SecurityGroupPolicy catalog/rds names security group sg-rds, …';
    expect(plan).toEqual({
      action: 'hold',
      reason: 'GroupsNotGranted',
      message,
      event: { type: 'Warning', reason: 'SecurityGroupPolicyInvalid', message },
    });
  });
});
