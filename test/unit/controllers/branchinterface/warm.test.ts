/** The warm-branch decisions (operator/controllers/branchinterface/warm.ts), table-driven. */
import { describe, expect, test } from '@jest/globals';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../../../operator/api/types.ts';
import {
  chooseWarmBranch,
  decideHandover,
  eniIdsHeldByBranches,
  warmNetworkMismatch,
  warmVerdict,
} from '../../../../operator/controllers/branchinterface/index.ts';
import type {
  HandoverInput,
  NodeBranchNetwork,
  NodeState,
} from '../../../../operator/controllers/branchinterface/index.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

const trunk: TrunkInterface = {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'TrunkInterface',
  metadata: { name: 'node-a' },
  spec: { nodeName: 'node-a', instanceId: 'i-1', instanceType: 'm5.large' },
  status: { state: 'Ready', eniId: 'eni-trunk', subnetId: 'subnet-1', branchCapacity: 9 },
};

function branch(uid: string, status: BranchInterface['status'] = {}): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: `pod-${uid}`, namespace: 'ns', uid },
    spec: { podName: `pod-${uid}`, podUid: `p-${uid}`, nodeName: 'node-a', securityGroups: ['sg-a'] },
    status,
  };
}

/** Where node-a's new branch ENIs go: its own subnet, and a subnet tagged for pods in its zone; IPv4 only. */
const NETWORK: NodeBranchNetwork = { subnetIds: new Set(['subnet-1', 'subnet-tagged']), needsIpv6: false };

const associated = {
  eniId: 'eni-1',
  subnetId: 'subnet-1',
  vlanId: 3,
  trunkEniId: 'eni-trunk',
  associationId: 'trunk-assoc-1',
  macAddress: '02:00:00:00:00:01',
  appliedSecurityGroups: ['sg-a'],
};

function warm(eniId: string, options: Partial<WarmBranch['spec']> & { deleting?: boolean } = {}): WarmBranch {
  const { deleting, ...spec } = options;
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'WarmBranch',
    metadata: { name: eniId, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      nodeName: 'node-a',
      eniId,
      trunkEniId: 'eni-trunk',
      vlanId: 1,
      associationId: `assoc-${eniId}`,
      macAddress: '02:00:00:00:00:02',
      subnetId: 'subnet-1',
      securityGroups: ['sg-a'],
      warmSince: new Date(T0).toISOString(),
      previousPod: 'ns/old',
      previousBranchUid: 'b-old',
      ...spec,
    },
  };
}

function handover(overrides: Partial<HandoverInput>): ReturnType<typeof decideHandover> {
  return decideHandover({
    branch: branch('b-1', associated),
    cause: 'PodGone',
    trunk,
    node: 'schedulable',
    warmOnNode: [],
    isHeldByAnotherBranch: false,
    network: NETWORK,
    settings: { limitPerNode: 2, maxIdleMs: 60_000 },
    ...overrides,
  });
}

describe('decideHandover', () => {
  test.each([
    { name: 'pod gone, room in the pool', input: {}, expected: { outcome: 'park' } },
    {
      name: 'limit 0 (EKS behaviour)',
      input: { settings: { limitPerNode: 0, maxIdleMs: 1 } },
      expected: { outcome: 'delete', reason: 'reuse-off' },
    },
    {
      name: 'pod finished',
      input: { cause: 'PodFinished' as const },
      expected: { outcome: 'delete', reason: 'not-pod-gone' },
    },
    {
      name: 'node gone',
      input: { cause: 'NodeGone' as const },
      expected: { outcome: 'delete', reason: 'not-pod-gone' },
    },
    {
      name: 'never associated',
      input: { branch: branch('b-1', { eniId: 'eni-1', vlanId: 3 }) },
      expected: { outcome: 'delete', reason: 'no-eni' },
    },
    { name: 'trunk missing', input: { trunk: undefined }, expected: { outcome: 'delete', reason: 'trunk-not-usable' } },
    {
      name: 'trunk replaced since',
      input: { trunk: { ...trunk, status: { ...trunk.status, eniId: 'eni-trunk-2' } } },
      expected: { outcome: 'delete', reason: 'trunk-changed' },
    },
    {
      name: 'node cordoned',
      input: { node: 'unschedulable' as NodeState },
      expected: { outcome: 'delete', reason: 'node-not-schedulable' },
    },
    {
      name: 'in a subnet new ENIs no longer go to (ENIConfig edited)',
      input: { branch: branch('b-1', { ...associated, subnetId: 'subnet-before-edit' }) },
      expected: { outcome: 'delete', reason: 'network-changed' },
    },
    {
      name: 'IPv4 only, on a node whose new ENIs get IPv6',
      input: { network: { ...NETWORK, needsIpv6: true } },
      expected: { outcome: 'delete', reason: 'network-changed' },
    },
    {
      name: 'where new ENIs go is not known yet: parked, judged once it is',
      input: { branch: branch('b-1', { ...associated, subnetId: 'subnet-before-edit' }), network: undefined },
      expected: { outcome: 'park' },
    },
    {
      name: 'pool full',
      input: { warmOnNode: [warm('eni-8'), warm('eni-9')] },
      expected: { outcome: 'delete', reason: 'pool-full' },
    },
    {
      name: 'pool full only with records being deleted',
      input: { warmOnNode: [warm('eni-8', { deleting: true }), warm('eni-9', { deleting: true })] },
      expected: { outcome: 'park' },
    },
    {
      name: 'already parked by this branch (crash before it went)',
      input: { warmOnNode: [warm('eni-1', { previousBranchUid: 'b-1' })] },
      expected: { outcome: 'forget', reason: 'parked' },
    },
    {
      name: 'recorded warm by another branch',
      input: { warmOnNode: [warm('eni-1', { previousBranchUid: 'b-2' })] },
      expected: { outcome: 'forget', reason: 'held-by-another-branch' },
    },
    {
      name: 'held by another branch, even with reuse off',
      input: { isHeldByAnotherBranch: true, settings: { limitPerNode: 0, maxIdleMs: 1 } },
      expected: { outcome: 'forget', reason: 'held-by-another-branch' },
    },
  ])('$name', ({ input, expected }) => {
    expect(handover(input)).toEqual(expected);
  });
});

describe('warmNetworkMismatch', () => {
  test.each([
    { name: 'the node subnet', spec: {}, network: NETWORK, expected: undefined },
    { name: 'a subnet tagged for pods', spec: { subnetId: 'subnet-tagged' }, network: NETWORK, expected: undefined },
    {
      name: 'the subnet of an edited ENIConfig',
      spec: { subnetId: 'subnet-before-edit' },
      network: NETWORK,
      expected:
        "warm branch ENI eni-w is in subnet subnet-before-edit, where node node-a's new branch ENIs no longer go",
    },
    {
      name: 'no subnet recorded',
      spec: { subnetId: undefined },
      network: NETWORK,
      expected: "warm branch ENI eni-w is in subnet (not recorded), where node node-a's new branch ENIs no longer go",
    },
    {
      name: 'IPv4 only where new ENIs get IPv6',
      spec: {},
      network: { ...NETWORK, needsIpv6: true },
      expected: "warm branch ENI eni-w has no IPv6 address, and node node-a's new branch ENIs get one",
    },
    {
      name: 'an IPv6 address where new ENIs get none',
      spec: { ipv6Address: '2600:1f14::5' },
      network: NETWORK,
      expected: "warm branch ENI eni-w has an IPv6 address, and node node-a's new branch ENIs get none",
    },
    {
      name: 'an IPv6 address where new ENIs get one',
      spec: { ipv6Address: '2600:1f14::5' },
      network: { ...NETWORK, needsIpv6: true },
      expected: undefined,
    },
  ])('$name', ({ spec, network, expected }) => {
    expect(warmNetworkMismatch(warm('eni-w', spec).spec, network)).toBe(expected);
  });
});

describe('chooseWarmBranch', () => {
  const base = {
    claimedEniIds: new Set<string>(),
    retiringEniIds: new Set<string>(),
    trunkEniId: 'eni-trunk',
    network: NETWORK,
  };
  const older = warm('eni-old', { securityGroups: ['sg-b'], warmSince: new Date(T0).toISOString() });
  const sameA = warm('eni-a1', { warmSince: new Date(T0 + 1_000).toISOString() });
  const sameNewer = warm('eni-a2', { warmSince: new Date(T0 + 2_000).toISOString() });
  test.each([
    { name: 'empty pool', pool: [], groups: ['sg-a'], expected: 'none' },
    { name: 'same groups, newest first', pool: [older, sameA, sameNewer], groups: ['sg-a'], expected: 'eni-a2' },
    { name: 'other groups: the oldest', pool: [sameA, older], groups: ['sg-c'], expected: 'eni-old' },
    {
      name: 'unknown groups never count as the same, even for an empty set',
      pool: [warm('eni-u', { securityGroups: [] })],
      groups: [],
      expected: 'eni-u (other-groups)',
    },
    { name: 'being deleted', pool: [warm('eni-d', { deleting: true })], groups: ['sg-a'], expected: 'none' },
    {
      name: 'on a replaced trunk',
      pool: [warm('eni-t', { trunkEniId: 'eni-old-trunk' })],
      groups: ['sg-a'],
      expected: 'none',
    },
    {
      name: 'in a subnet new ENIs no longer go to (ENIConfig edited), even with the same groups',
      pool: [warm('eni-s', { subnetId: 'subnet-before-edit' })],
      groups: ['sg-a'],
      expected: 'none',
    },
    {
      name: 'the one where new ENIs go, though an older one elsewhere has the groups',
      pool: [older, warm('eni-s', { subnetId: 'subnet-before-edit', warmSince: new Date(T0 + 5_000).toISOString() })],
      groups: ['sg-a'],
      expected: 'eni-old (other-groups)',
    },
  ])('$name', ({ pool, groups, expected }) => {
    const choice = chooseWarmBranch({ ...base, warmOnNode: pool, securityGroups: groups });
    const shown =
      choice.outcome === 'none'
        ? 'none'
        : choice.outcome === 'other-groups' && expected.endsWith('(other-groups)')
          ? `${choice.warm.spec.eniId} (other-groups)`
          : choice.warm.spec.eniId;
    expect(shown).toBe(expected);
  });

  test('claimed and retiring ENIs are never chosen', () => {
    const choice = chooseWarmBranch({
      ...base,
      warmOnNode: [sameA, sameNewer],
      claimedEniIds: new Set(['eni-a2']),
      retiringEniIds: new Set(['eni-a1']),
      securityGroups: ['sg-a'],
    });
    expect(choice).toEqual({ outcome: 'none' });
  });

  test('an ENI recorded by a branch other than the one that parked it is held', () => {
    const held = eniIdsHeldByBranches(
      [branch('b-old', { eniId: 'eni-a1' }), branch('b-new', { eniId: 'eni-a2' }), branch('b-x')],
      [sameA, sameNewer],
    );
    expect([...held]).toEqual(['eni-a2']);
  });
});

describe('warmVerdict', () => {
  const settings = { limitPerNode: 2, maxIdleMs: 60_000 };
  const a = warm('eni-a', { warmSince: new Date(T0).toISOString() });
  const b = warm('eni-b', { warmSince: new Date(T0 + 1_000).toISOString() });
  const c = warm('eni-c', { warmSince: new Date(T0 + 2_000).toISOString() });
  test.each([
    { name: 'young, within the limit', w: a, pool: [a], node: 'schedulable', nowMs: T0 + 59_999, expected: 'keep 1' },
    {
      name: 'one millisecond idle too long',
      w: a,
      pool: [a],
      node: 'schedulable',
      nowMs: T0 + 60_000,
      expected: 'idle',
    },
    {
      name: 'the oldest beyond the limit',
      w: a,
      pool: [a, b, c],
      node: 'schedulable',
      nowMs: T0 + 2_000,
      expected: 'over-limit',
    },
    {
      name: 'the newest within the limit',
      w: c,
      pool: [a, b, c],
      node: 'schedulable',
      nowMs: T0 + 2_000,
      expected: 'keep 60000',
    },
    { name: 'node cordoned', w: a, pool: [a], node: 'unschedulable', nowMs: T0, expected: 'node-draining' },
    { name: 'node gone', w: a, pool: [a], node: 'gone', nowMs: T0, expected: 'node-gone' },
  ])('$name', ({ w, pool, node, nowMs, expected }) => {
    const verdict = warmVerdict({
      warm: w,
      poolOnNode: pool,
      node: node as NodeState,
      trunk,
      network: NETWORK,
      nowMs,
      settings,
    });
    expect(verdict.outcome === 'keep' ? `keep ${verdict.recheckAfterMs}` : verdict.reason).toBe(expected);
  });

  test('no longer where new ENIs go: released at once; while that is not known yet: kept', () => {
    const edited = warm('eni-e', { subnetId: 'subnet-before-edit', warmSince: new Date(T0).toISOString() });
    const input = { warm: edited, poolOnNode: [edited], node: 'schedulable' as const, trunk, nowMs: T0, settings };
    expect(warmVerdict({ ...input, network: NETWORK })).toEqual({
      outcome: 'release',
      reason: 'network-changed',
      message:
        "warm branch ENI eni-e is in subnet subnet-before-edit, where node node-a's new branch ENIs no longer go",
    });
    expect(warmVerdict({ ...input, network: undefined })).toEqual({ outcome: 'keep', recheckAfterMs: 60_000 });
  });

  test('limit 0 releases every warm ENI', () => {
    const verdict = warmVerdict({
      warm: c,
      poolOnNode: [c],
      node: 'schedulable',
      trunk,
      network: NETWORK,
      nowMs: T0 + 2_000,
      settings: { limitPerNode: 0, maxIdleMs: 60_000 },
    });
    expect(verdict).toMatchObject({ outcome: 'release', reason: 'over-limit' });
  });
});
