import { describe, expect, test } from '@jest/globals';
import { TAG } from '../../../../operator/api/constants.ts';
import type { BranchInterface, TrunkInterface } from '../../../../operator/api/types.ts';
import type { NetworkInterface } from '../../../../operator/aws/ec2-api.ts';
import { findLeakedEnis, type LeakSweepInput } from '../../../../operator/controllers/gc/leaks.ts';

function eni(
  id: string,
  status: NetworkInterface['status'],
  tags: Record<string, string>,
  type = 'branch',
): NetworkInterface {
  return {
    id,
    status,
    tags,
    interfaceType: type,
    subnetId: 'subnet-1',
    vpcId: 'vpc-1',
    availabilityZone: 'us-west-2a',
    description: '',
    macAddress: '02:00:00:00:00:01',
    privateIpAddress: '10.0.0.10',
    ipv6Address: '',
    securityGroupIds: ['sg-11111111'],
  };
}

const podTags = (uid: string, name = 'web') => ({
  [TAG.podUid]: uid,
  [TAG.podNamespace]: 'shop',
  [TAG.podName]: name,
  [TAG.trunkEniId]: 'eni-trunk',
  [TAG.instanceId]: 'i-1',
});

function branch(podUid: string, eniId?: string): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { podName: 'web', podUid, nodeName: 'node-1', securityGroups: [] },
    ...(eniId ? { status: { eniId } } : {}),
  };
}

function trunk(instanceId: string, eniId?: string): TrunkInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-1' },
    spec: { nodeName: 'node-1', instanceId, instanceType: 'm5.large' },
    ...(eniId ? { status: { eniId } } : {}),
  };
}

const base: LeakSweepInput = {
  enis: [],
  branches: [],
  trunks: [],
  warmEniIds: new Set(),
  previouslyAvailable: new Set(),
  cachesSynced: true,
};
const verdicts = (input: Partial<LeakSweepInput>) =>
  findLeakedEnis({ ...base, ...input }).candidates.map((c) => [c.eni.id, c.reason, c.associatedTrunkEniId ?? null]);

describe('findLeakedEnis', () => {
  test.each([
    {
      name: 'caches not synced: decides nothing, even for an obvious leak',
      input: { cachesSynced: false, enis: [eni('eni-a', 'in-use', podTags('gone'))] },
      expected: [],
    },
    {
      name: 'ENI claimed by its BranchInterface status is kept',
      input: { enis: [eni('eni-a', 'in-use', podTags('u1'))], branches: [branch('u1', 'eni-a')] },
      expected: [],
    },
    {
      name: 'warm ENI (a WarmBranch records it) whose tagged pod is gone is kept',
      input: { enis: [eni('eni-a', 'in-use', podTags('gone'))], warmEniIds: new Set(['eni-a']) },
      expected: [],
    },
    {
      name: "reused ENI: tagged for a gone pod, recorded by another pod's BranchInterface, is kept",
      input: { enis: [eni('eni-a', 'in-use', podTags('gone'))], branches: [branch('u2', 'eni-a')] },
      expected: [],
    },
    {
      name: 'creation in flight (owner exists, no eniId recorded yet) is kept',
      input: { enis: [eni('eni-a', 'available', podTags('u1'))], branches: [branch('u1')] },
      expected: [],
    },
    {
      name: 'associated branch whose pod has no BranchInterface: candidate, disassociate first',
      input: { enis: [eni('eni-a', 'in-use', podTags('gone'))] },
      expected: [['eni-a', 'owner-missing', 'eni-trunk']],
    },
    {
      name: 'available branch whose owner is missing: candidate at once (owner is confirmed live later)',
      input: { enis: [eni('eni-a', 'available', podTags('gone'))] },
      expected: [['eni-a', 'owner-missing', null]],
    },
    {
      name: 'duplicate for a live owner, first sighting: kept (two strikes)',
      input: { enis: [eni('eni-b', 'available', podTags('u1'))], branches: [branch('u1', 'eni-a')] },
      expected: [],
    },
    {
      name: 'duplicate for a live owner, available twice: superseded',
      input: {
        enis: [eni('eni-b', 'available', podTags('u1'))],
        branches: [branch('u1', 'eni-a')],
        previouslyAvailable: new Set(['eni-b']),
      },
      expected: [['eni-b', 'superseded', null]],
    },
    {
      name: 'unclaimed trunk ENI available once: kept (its attach may be in flight)',
      input: { enis: [eni('eni-t', 'available', { [TAG.instanceId]: 'i-1' }, 'trunk')], trunks: [trunk('i-1')] },
      expected: [],
    },
    {
      name: 'unclaimed trunk ENI available twice: orphan-trunk',
      input: {
        enis: [eni('eni-t', 'available', { [TAG.instanceId]: 'i-1' }, 'trunk')],
        trunks: [trunk('i-1')],
        previouslyAvailable: new Set(['eni-t']),
      },
      expected: [['eni-t', 'orphan-trunk', null]],
    },
    {
      name: 'trunk ENI claimed by a TrunkInterface is never a candidate',
      input: {
        enis: [eni('eni-t', 'available', { [TAG.instanceId]: 'i-1' }, 'trunk')],
        trunks: [trunk('i-1', 'eni-t')],
        previouslyAvailable: new Set(['eni-t']),
      },
      expected: [],
    },
    {
      name: 'attached unclaimed ENI without pod tags is left alone (in use by something)',
      input: { enis: [eni('eni-x', 'in-use', {})], previouslyAvailable: new Set(['eni-x']) },
      expected: [],
    },
  ])('$name', ({ input, expected }) => {
    expect(verdicts(input)).toEqual(expected);
  });

  test('remembers only unclaimed available ENIs for the next sweep', () => {
    const decision = findLeakedEnis({
      ...base,
      enis: [
        eni('eni-a', 'available', podTags('u1')),
        eni('eni-b', 'available', podTags('u2')),
        eni('eni-c', 'in-use', podTags('u3')),
      ],
      branches: [branch('u1', 'eni-a')],
    });
    expect([...decision.availableNow]).toEqual(['eni-b']);
  });

  test('names instances to verify: those of available ENIs that no TrunkInterface manages', () => {
    const decision = findLeakedEnis({
      ...base,
      enis: [
        eni('eni-a', 'available', { ...podTags('u1'), [TAG.instanceId]: 'i-gone' }),
        eni('eni-b', 'available', { ...podTags('u2'), [TAG.instanceId]: 'i-1' }),
      ],
      trunks: [trunk('i-1', 'eni-t')],
    });
    expect([...decision.instancesToVerify.keys()]).toEqual(['i-gone']);
  });
});
