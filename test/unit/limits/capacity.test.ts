import { describe, expect, test } from '@jest/globals';
import {
  deviceIndexSpace,
  freeDeviceIndex,
  podEniCapacity,
  type InstanceTypeLimits,
} from '../../../operator/limits/index.ts';

function limits(overrides: Partial<InstanceTypeLimits>): InstanceTypeLimits {
  return {
    instanceType: 'test.large',
    maxEnis: 3,
    ipv4PerEni: 10,
    isTrunkingCompatible: true,
    branchEnis: 9,
    defaultNetworkCardIndex: 0,
    networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 3 }],
    source: 'table',
    ...overrides,
  };
}

describe('podEniCapacity', () => {
  test.each([
    ['trunking-compatible', limits({}), 9],
    ['not trunking-compatible', limits({ isTrunkingCompatible: false, branchEnis: 0 }), 0],
    ['not compatible even if a branch figure is present', limits({ isTrunkingCompatible: false, branchEnis: 5 }), 0],
  ])('%s → %d', (_name, input, expected) => {
    expect(podEniCapacity(input)).toBe(expected);
  });
});

const multiCard = limits({
  maxEnis: 16,
  networkCards: [
    { networkCardIndex: 0, maximumNetworkInterfaces: 8 },
    { networkCardIndex: 1, maximumNetworkInterfaces: 8 },
  ],
});

describe('deviceIndexSpace', () => {
  test.each([
    ['single card', limits({}), 3],
    ['multi-card: only the default card counts', multiCard, 8],
    ['default card missing from the list', limits({ networkCards: [] }), 3],
  ])('%s → %d', (_name, input, expected) => {
    expect(deviceIndexSpace(input)).toBe(expected);
  });
});

describe('freeDeviceIndex (highest free, like EKS)', () => {
  test.each([
    ['only the primary used', limits({}), [0], 2],
    ['CNI took 1', limits({}), [0, 1], 2],
    ['2 taken, 1 free', limits({}), [0, 2], 1],
    ['all slots taken', limits({}), [0, 1, 2], undefined],
    [
      'never the primary slot even if unused',
      limits({ maxEnis: 1, networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 1 }] }),
      [],
      undefined,
    ],
    ['multi-card: default card range only', multiCard, [0, 1], 7],
    ['indexes beyond the space are ignored', limits({}), [0, 5, 9], 2],
  ])('%s', (_name, input, used, expected) => {
    expect(freeDeviceIndex(input, used)).toBe(expected);
  });
});
