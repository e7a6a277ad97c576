/**
 * `kubectl sgp why`'s pure explanation: for each situation a pod can be in, the verdict and the single next
 * step (the thing the user acts on), computed with the operator's own decisions.
 */
import { describe, expect, test } from '@jest/globals';
import type { PodFacts } from '../../../kubectl-sgp/explain/pod.ts';
import { explainPod } from '../../../kubectl-sgp/explain/pod.ts';
import { atCapacity, branch, cniNode, facts, NODE, NS, pod, policy, quotaExceeded, trunk } from './fixtures.ts';

const withoutAnnotation = () => pod();
const event = (reason: string, message: string, lastSeen = '2026-01-01T00:01:00Z') => ({
  type: 'Warning',
  reason,
  message,
  count: 1,
  lastSeen,
});

describe('explainPod: verdict and next step', () => {
  test.each<[string, Partial<PodFacts>, string, string | undefined]>([
    ['a matched pod with its branch ENI', {}, 'ok', undefined],
    ['a finished pod', { pod: { ...pod(), status: { phase: 'Succeeded' } } }, 'not-applicable', undefined],
    ['a host-network pod', { pod: pod({ hostNetwork: true }) }, 'not-applicable', undefined],
    [
      'an unscheduled pod',
      { pod: pod({ nodeName: undefined }), branch: undefined },
      'waiting',
      'wait for the scheduler',
    ],
    [
      'a pod no policy selects, without the request',
      { pod: pod({ podEni: false, labels: { app: 'web' } }), branch: undefined },
      'not-selected',
      "if it should have SecurityGroupPolicy db's groups: podSelector matchLabels app=api: the pod has app=web",
    ],
    [
      'a namespace without policies',
      { pod: pod({ podEni: false }), policies: [], branch: undefined },
      'not-selected',
      `if it should have its own groups, create a SecurityGroupPolicy in namespace ${NS} that selects it`,
    ],
    [
      'a selected pod without the pod-eni request',
      { pod: pod({ podEni: false }), branch: undefined },
      'problem',
      'delete the pod so its controller recreates it',
    ],
    [
      'a node that never opted in',
      { trunk: undefined, cniNode: cniNode(false), branch: undefined, pod: withoutAnnotation() },
      'problem',
      `opt node ${NODE} in: run the VPC CNI with ENABLE_POD_ENI=true`,
    ],
    [
      'an eligible node without its TrunkInterface yet',
      { trunk: undefined, branch: undefined, pod: withoutAnnotation() },
      'waiting',
      `wait for sgp-operator to create TrunkInterface ${NODE}`,
    ],
    [
      'a trunk that failed',
      {
        trunk: trunk('Failed', 'UnauthorizedOperation: trunking is not enabled for this account'),
        branch: undefined,
        pod: withoutAnnotation(),
      },
      'problem',
      'UnauthorizedOperation: trunking is not enabled for this account',
    ],
    [
      'an invalid policy',
      {
        policies: [policy('db', ['sg-0000dead'], { matchLabels: { app: 'api' } }, 'invalid')],
        branch: undefined,
        pod: withoutAnnotation(),
      },
      'problem',
      'Pod matches invalid SecurityGroupPolicy db; its branch ENI is not created until the policy is fixed',
    ],
    [
      'a policy not validated yet',
      {
        policies: [policy('db', ['sg-0000000a'], { matchLabels: { app: 'api' } }, 'unvalidated')],
        branch: undefined,
        pod: withoutAnnotation(),
      },
      'waiting',
      'waiting for SecurityGroupPolicy db to be validated',
    ],
    [
      'no BranchInterface yet',
      { branch: undefined, pod: withoutAnnotation() },
      'waiting',
      'wait a few seconds for its BranchInterface',
    ],
    [
      'a node at its branch limit',
      {
        branch: branch('Pending', ['sg-0000000a'], { conditions: [atCapacity] }),
        nodeBranches: Array.from({ length: 9 }, (_, i) =>
          branch(i < 2 ? 'CoolingDown' : 'Ready', [], { vlanId: i + 1, name: `p${i}` }),
        ),
        pod: withoutAnnotation(),
      },
      'waiting',
      'a branch is freed when a pod on the node goes and its cooldown passes',
    ],
    [
      'a branch stuck on a failed create',
      {
        branch: branch('Creating', ['sg-0000000a'], { vlanId: 1 }),
        events: [
          event('BranchAllocationFailed', 'failed to allocate branch ENI to pod: InsufficientFreeAddressesInSubnet'),
        ],
        pod: withoutAnnotation(),
      },
      'problem',
      'failed to allocate branch ENI to pod: InsufficientFreeAddressesInSubnet',
    ],
    ['a Ready branch, the annotation not written yet', { pod: withoutAnnotation() }, 'waiting', 'wait a moment'],
    [
      'groups over the per-ENI quota',
      { branch: branch('Ready', ['sg-0000000a'], { conditions: [quotaExceeded] }) },
      'problem',
      'the per-ENI quota is 5',
    ],
    [
      'an ENI EC2 no longer knows',
      { ec2: { eniId: 'eni-0000000000000000a', securityGroupIds: undefined } },
      'problem',
      'the ENI was deleted outside sgp-operator',
    ],
    [
      'groups changed in EC2 behind the operator',
      { ec2: { eniId: 'eni-0000000000000000a', securityGroupIds: ['sg-0000000z'] } },
      'problem',
      'aws ec2 modify-network-interface-attribute --network-interface-id eni-0000000000000000a --groups sg-0000000a',
    ],
  ])('%s', (_name, overrides, verdict, nextStep) => {
    const explanation = explainPod(facts(overrides));
    expect(explanation.verdict).toBe(verdict);
    if (nextStep === undefined) expect(explanation.nextStep).toBeUndefined();
    else expect(explanation.nextStep).toContain(nextStep);
  });

  test('the capacity summary counts what holds a VLAN, cooling down included', () => {
    const x = explainPod(
      facts({
        branch: branch('Pending', ['sg-0000000a'], { conditions: [atCapacity] }),
        nodeBranches: Array.from({ length: 9 }, (_, i) =>
          branch(i < 2 ? 'CoolingDown' : 'Ready', [], { vlanId: i + 1, name: `p${i}` }),
        ),
        pod: withoutAnnotation(),
      }),
    );
    expect(x.summary).toBe(
      `pod ${NS}/api-0 waits for a branch ENI: node ${NODE} holds 9 of 9 branch ENIs (7 in use, 2 cooling down)`,
    );
    expect(x.node?.usage).toEqual({ capacity: 9, holding: 9, inUse: 7, coolingDown: 2, waiting: 0, free: 0 });
  });

  test('every policy is listed with why it selects the pod or not, pod side and ServiceAccount side', () => {
    const bySa = policy('ledger', ['sg-0000000c'], undefined);
    bySa.spec = {
      serviceAccountSelector: { matchLabels: { team: 'ledger' } },
      securityGroups: { groupIds: ['sg-0000000c'] },
    };
    const x = explainPod(
      facts({
        policies: [policy('db', ['sg-0000000a'], { matchLabels: { app: 'api' } }), bySa],
        serviceAccount: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'default', labels: { team: 'payments' } },
        },
      }),
    );
    expect(x.policies.map(({ name, selects, why }) => ({ name, selects, why }))).toEqual([
      { name: 'db', selects: true, why: ["podSelector {app=api} matches the pod's labels"] },
      {
        name: 'ledger',
        selects: false,
        why: ['serviceAccountSelector matchLabels team=ledger: ServiceAccount default has team=payments'],
      },
    ]);
    expect(x.groups).toEqual({ securityGroups: ['sg-0000000a'], sources: ['db'] });
  });

  test('annotation groups: judged with the operator’s rule; the refused ones are the next step', () => {
    const annotated = facts().pod;
    annotated.metadata.annotations = {
      ...annotated.metadata.annotations,
      'vpc.amazonaws.com/security-groups': 'sg-0000000b,sg-0000000c',
    };
    const x = explainPod(
      facts({
        pod: annotated,
        policies: [],
        namespaceLabels: { 'trunking.sgp-operator.io/allow-security-group-annotations': 'true' },
        annotationRule: { isEnabled: true, allowList: ['sg-0000000b'] },
        branch: branch('Ready', ['sg-0000000b']),
      }),
    );
    expect(x.annotations).toEqual([
      expect.objectContaining({
        carrier: `Pod ${NS}/api-0`,
        allowed: ['sg-0000000b'],
        refusals: [expect.objectContaining({ reason: 'GroupNotAllowed', refused: ['sg-0000000c'] })],
      }),
    ]);
    expect(x.groups).toEqual({ securityGroups: ['sg-0000000b'], sources: ['annotation:Pod'] });
    expect(x.verdict).toBe('problem');
    expect(x.nextStep).toContain(
      "security group sg-0000000c in annotation vpc.amazonaws.com/security-groups of Pod payments/api-0 is not in the operator's allow-list",
    );
  });

  test('an annotation with the operator’s settings unknown is judged as off, and says so', () => {
    const annotated = facts().pod;
    annotated.metadata.annotations = {
      ...annotated.metadata.annotations,
      'vpc.amazonaws.com/security-groups': 'sg-0000000b',
    };
    const x = explainPod(facts({ pod: annotated, annotationRule: undefined }));
    expect(x.annotations[0]?.refusals[0]?.reason).toBe('FeatureDisabled');
    expect(x.notes).toEqual([
      "the operator's --enable-security-group-annotations setting could not be read; judged as off (the default)",
    ]);
  });

  test('the newest events first, at most eight', () => {
    const events = Array.from({ length: 10 }, (_, i) => event('Reason', `event ${i}`, `2026-01-01T00:0${i}:00Z`));
    expect(explainPod(facts({ events })).events.map((e) => e.message)).toEqual(
      [9, 8, 7, 6, 5, 4, 3, 2].map((i) => `event ${i}`),
    );
  });
});
