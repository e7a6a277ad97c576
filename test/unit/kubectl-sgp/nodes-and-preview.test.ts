/** `kubectl sgp nodes` and `kubectl sgp preview`: the pure parts, over the operator's own decisions. */
import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../../operator/api/types.ts';
import { explainNode } from '../../../kubectl-sgp/explain/nodes.ts';
import { previewPolicy, type PreviewFacts } from '../../../kubectl-sgp/explain/preview.ts';
import { branch, cniNode, m5large, node, NODE, NS, pod, policy, trunk } from './fixtures.ts';

describe('explainNode', () => {
  test.each([
    {
      name: 'opted in, trunk Ready: usage by VLAN holders, cooling down included',
      facts: {
        node: node(),
        cniNode: cniNode(true),
        trunk: trunk('Ready'),
        limits: m5large,
        branches: [
          branch('Ready', [], { vlanId: 1, name: 'a' }),
          branch('CoolingDown', [], { vlanId: 2, name: 'b' }),
          branch('Pending', [], { name: 'c' }),
        ],
      },
      expected: {
        eligible: true,
        reason: 'opted in by its CNINode (SecurityGroupsForPods)',
        trunk: { state: 'Ready', eniId: 'eni-0000000000000000t' },
        usage: { capacity: 9, holding: 2, inUse: 1, coolingDown: 1, waiting: 1, free: 7 },
      },
    },
    {
      name: 'never opted in',
      facts: { node: node(), cniNode: cniNode(false), trunk: undefined, limits: m5large, branches: [] },
      expected: {
        eligible: false,
        reason: `node ${NODE} has neither the CNINode feature SecurityGroupsForPods nor the label vpc.amazonaws.com/has-trunk-attached`,
      },
    },
    {
      name: 'an instance type without trunking',
      facts: {
        node: node({ 'node.kubernetes.io/instance-type': 't2.micro' }),
        cniNode: cniNode(true),
        trunk: undefined,
        limits: { ...m5large, instanceType: 't2.micro', isTrunkingCompatible: false, branchEnis: 0 },
        branches: [],
      },
      expected: { eligible: false, instanceType: 't2.micro' },
    },
    {
      name: 'a trunk that failed, with its condition',
      facts: {
        node: node(),
        cniNode: cniNode(true),
        trunk: trunk('Failed', 'no free device index'),
        limits: m5large,
        branches: [],
      },
      expected: { eligible: true, trunk: { state: 'Failed', message: 'no free device index' } },
    },
  ])('$name', ({ facts, expected }) => {
    expect(explainNode(facts)).toMatchObject(expected);
  });

  test('a type the table lacks but the operator manages (override ConfigMap) is eligible from its trunk', () => {
    const row = explainNode({
      node: node({ 'node.kubernetes.io/instance-type': 'm9x.large' }),
      cniNode: cniNode(true),
      trunk: { ...trunk('Ready'), spec: { nodeName: NODE, instanceId: 'i-1', instanceType: 'm9x.large' } },
      limits: undefined,
      branches: [],
    });
    expect(row).toMatchObject({ eligible: true, usage: { capacity: 9, free: 9 } });
  });
});

describe('previewPolicy', () => {
  const live = [policy('db', ['sg-0000000a'], { matchLabels: { app: 'api' } })];
  const base = (proposed: SecurityGroupPolicy, extra: Partial<PreviewFacts> = {}): PreviewFacts => ({
    proposed,
    live,
    pods: [
      pod({ labels: { app: 'api' } }),
      {
        ...pod({ labels: { app: 'worker' } }),
        metadata: { name: 'worker-0', namespace: NS, labels: { app: 'worker' } },
      },
      {
        ...pod({ labels: { app: 'worker' }, podEni: false }),
        metadata: { name: 'legacy-0', namespace: NS, labels: { app: 'worker' } },
      },
      {
        ...pod({ labels: { app: 'worker' } }),
        metadata: { name: 'done-0', namespace: NS, labels: { app: 'worker' } },
        status: { phase: 'Succeeded' },
      },
    ],
    serviceAccounts: new Map(),
    namespaceLabels: {},
    grants: [],
    annotationRule: undefined,
    ...extra,
  });

  test('an edit that adds a group, and a new policy selecting pods with and without the pod-eni request', () => {
    const edit = previewPolicy(base(policy('db', ['sg-0000000a', 'sg-0000000b'], { matchLabels: { app: 'api' } })));
    expect(edit).toMatchObject({ action: 'update', problems: [], untouched: 2 });
    expect(edit.pods).toEqual([
      {
        pod: 'api-0',
        node: NODE,
        change: 'groups',
        before: { sources: ['db'], securityGroups: ['sg-0000000a'] },
        after: { sources: ['db'], securityGroups: ['sg-0000000a', 'sg-0000000b'] },
        effect: 'groups changed in place on its branch ENI (no restart)',
      },
    ]);
    const created = previewPolicy(base(policy('workers', ['sg-0000000c'], { matchLabels: { app: 'worker' } })));
    expect(created.pods.map(({ pod: name, change, effect }) => [name, change, effect])).toEqual([
      [
        'legacy-0',
        'selected',
        'none until recreated: it does not request vpc.amazonaws.com/pod-eni, so it keeps the node’s groups',
      ],
      ['worker-0', 'selected', 'groups changed in place on its branch ENI (no restart)'],
    ]);
  });

  test('a selector narrowed so the policy stops selecting a pod', () => {
    const narrowed = previewPolicy(base(policy('db', ['sg-0000000a'], { matchLabels: { app: 'api', tier: 'gold' } })));
    expect(narrowed.pods).toEqual([
      expect.objectContaining({ pod: 'api-0', change: 'unselected', after: { sources: [], securityGroups: [] } }),
    ]);
  });

  test('problems the operator would report: a group the grants refuse, a malformed selector', () => {
    const grant: SecurityGroupGrant = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'SecurityGroupGrant',
      metadata: { name: 'payments', generation: 1 },
      spec: { namespaces: { names: [NS] }, securityGroups: { groupIds: ['sg-0000000a'] } },
    };
    const refused = previewPolicy(
      base(policy('db', ['sg-0000000a', 'sg-0000000e'], { matchLabels: { app: 'api' } }), { grants: [grant] }),
    );
    expect(refused.problems).toEqual([
      expect.stringContaining('names security group sg-0000000e, which no SecurityGroupGrant allows'),
    ]);
    expect(refused.pods[0]?.effect).toBe(
      'held: the operator would refuse the policy (see problems); a running pod keeps its groups',
    );
    const malformed = previewPolicy(
      base(policy('db', ['sg-0000000a'], { matchExpressions: [{ key: 'app', operator: 'In' }] })),
    );
    expect(malformed.problems).toEqual([expect.stringContaining('has a malformed selector')]);
  });

  test('names: from EC2 when described, from the live namesake when it names the same, else left to the operator', () => {
    const byName = (names: string[]): SecurityGroupPolicy => ({
      ...policy('db', [], { matchLabels: { app: 'api' } }),
      spec: { podSelector: { matchLabels: { app: 'api' } }, securityGroups: { groupNames: names } },
    });
    const groups = [{ id: 'sg-0000000d', name: 'payments-db', vpcId: 'vpc-1', tags: {} }];
    const fromEc2 = previewPolicy(base(byName(['payments-db']), { vpc: { id: 'vpc-1', groups } }));
    expect(fromEc2.references).toEqual([{ reference: 'name "payments-db"', groupId: 'sg-0000000d', from: 'ec2' }]);
    expect(fromEc2.pods[0]?.after.securityGroups).toEqual(['sg-0000000d']);

    const missing = previewPolicy(base(byName(['audit']), { vpc: { id: 'vpc-1', groups } }));
    expect(missing.problems).toEqual([
      expect.stringContaining('names security groups by name "audit", which no group in vpc-1 matches'),
    ]);

    const liveByName: SecurityGroupPolicy = {
      ...byName(['payments-db']),
      status: {
        observedGeneration: 1,
        resolvedReferences: [{ name: 'payments-db', groupId: 'sg-0000000d', groupName: 'payments-db' }],
      },
    };
    const fromLive = previewPolicy(base(byName(['payments-db', 'audit']), { live: [liveByName] }));
    expect(fromLive.references).toEqual([
      { reference: 'name "payments-db"', groupId: 'sg-0000000d', from: 'live-status' },
      { reference: 'name "audit"', from: 'unresolved' },
    ]);
    expect(fromLive.pods[0]?.after.securityGroups).toEqual(['<name "audit">', 'sg-0000000d']);
  });
});
