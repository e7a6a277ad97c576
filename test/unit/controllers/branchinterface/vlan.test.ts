import { describe, expect, test } from '@jest/globals';
import { allocateVlan, chooseVlan } from '../../../../operator/controllers/branchinterface/vlan.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('chooseVlan', () => {
  test.each<[string, number[], number | undefined, number | undefined]>([
    ['nothing in use', [], undefined, 1],
    ['lowest gap', [1, 2, 4], undefined, 3],
    ['after a contiguous block', [1, 2, 3], undefined, 4],
    ['freed low id is reused first', [2, 3], undefined, 1],
    ['every id taken', range(1, 120), undefined, undefined],
    ['only 120 left', range(1, 119), undefined, 120],
    ['limit below the range end', [1, 2], 2, undefined],
    ['limit above 120 is capped', range(1, 120), 500, undefined],
    ['ids outside the range do not matter', [0, 121], undefined, 1],
  ])('%s', (_name, inUse, limit, expected) => {
    expect(chooseVlan(inUse, limit)).toBe(expected);
  });
});

describe('allocateVlan', () => {
  test.each<[string, number[], number, ReturnType<typeof allocateVlan>]>([
    ['free capacity', [1, 3], 9, { outcome: 'allocated', vlanId: 2 }],
    ['m5.large full (9 branches)', range(1, 9), 9, { outcome: 'at-capacity', holding: 9, capacity: 9 }],
    ['one below capacity', range(1, 8), 9, { outcome: 'allocated', vlanId: 9 }],
    ['zero capacity', [], 0, { outcome: 'at-capacity', holding: 0, capacity: 0 }],
    ['capacity beyond the VLAN range', range(1, 120), 200, { outcome: 'no-free-vlan', holding: 120 }],
  ])('%s', (_name, inUse, capacity, expected) => {
    expect(allocateVlan(new Set(inUse), capacity)).toEqual(expected);
  });
});
