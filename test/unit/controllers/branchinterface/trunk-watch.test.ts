/**
 * Which TrunkInterface updates re-enqueue the node's branches and warm ENIs: the count of branches in use
 * changes with every branch on the node and must not re-enqueue all of them; what they read must.
 */
import { describe, expect, test } from '@jest/globals';
import type { TrunkInterface } from '../../../../operator/api/types.ts';
import { isTrunkChangeForBranches } from '../../../../operator/controllers/branchinterface/index.ts';

function trunk(status: Partial<NonNullable<TrunkInterface['status']>> = {}, deleting = false): TrunkInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-a', uid: 't-1', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'node-a', instanceId: 'i-1', instanceType: 'm5.large' },
    status: {
      state: 'Ready',
      eniId: 'eni-trunk',
      subnetId: 'subnet-1',
      branchCapacity: 9,
      branchesUsed: 3,
      securityGroups: ['sg-node'],
      ...status,
    },
  };
}

describe('isTrunkChangeForBranches', () => {
  test.each([
    ['only the branches in use changed', trunk(), trunk({ branchesUsed: 4 }), false],
    [
      'only a condition changed',
      trunk(),
      trunk({
        conditions: [{ type: 'Ready', status: 'True', reason: 'Attached', message: '', lastTransitionTime: 'x' }],
      }),
      false,
    ],
    ['the trunk is no longer Ready', trunk(), trunk({ state: 'Failed' }), true],
    ['the node default groups changed', trunk(), trunk({ securityGroups: ['sg-other'] }), true],
    [
      'pod subnets appeared',
      trunk(),
      trunk({ podSubnets: [{ subnetId: 'subnet-2', cidrBlock: '10.1.0.0/24' }] }),
      true,
    ],
    ['the object is being deleted', trunk(), trunk({}, true), true],
  ])('%s', (_name, before, after, expected) => {
    expect(isTrunkChangeForBranches(before, after)).toBe(expected);
  });
});
