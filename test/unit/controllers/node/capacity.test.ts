import { describe, expect, test } from '@jest/globals';
import { podEniCapacityPatch } from '../../../../operator/controllers/node/capacity.ts';
import type { NodeObject } from '../../../../operator/controllers/node/node-object.ts';

const R = 'vpc.amazonaws.com/pod-eni';
function node(capacity?: string, allocatable?: string): NodeObject {
  return {
    metadata: { name: 'n1' },
    status: {
      capacity: { cpu: '2', ...(capacity !== undefined ? { [R]: capacity } : {}) },
      allocatable: { cpu: '2', ...(allocatable !== undefined ? { [R]: allocatable } : {}) },
    },
  };
}

describe('podEniCapacityPatch', () => {
  test.each([
    ['fresh node: both fields', node(), 9, { capacity: { [R]: '9' }, allocatable: { [R]: '9' } }],
    ['kubelet has not copied it yet: allocatable only', node('9'), 9, { allocatable: { [R]: '9' } }],
    ['already advertised: nothing', node('9', '9'), 9, undefined],
    [
      'kubelet reset both: repaired',
      node(undefined, undefined),
      9,
      { capacity: { [R]: '9' }, allocatable: { [R]: '9' } },
    ],
    ['wrong value: corrected', node('3', '3'), 9, { capacity: { [R]: '9' }, allocatable: { [R]: '9' } }],
    [
      'unmanaged, advertised: withdrawn',
      node('9', '9'),
      undefined,
      { capacity: { [R]: null }, allocatable: { [R]: null } },
    ],
    ['unmanaged, never advertised: nothing', node(), undefined, undefined],
    ['no status at all', { metadata: { name: 'n1' } }, 9, { capacity: { [R]: '9' }, allocatable: { [R]: '9' } }],
  ] as const)('%s', (_name, n, branchEnis, expected) => {
    expect(podEniCapacityPatch(n as NodeObject, branchEnis)).toEqual(expected);
  });
});
