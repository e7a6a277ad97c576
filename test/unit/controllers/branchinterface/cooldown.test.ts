import { describe, expect, test } from '@jest/globals';
import {
  formatDuration,
  parseCooldownSetting,
  releasable,
} from '../../../../operator/controllers/branchinterface/cooldown.ts';

const requested = Date.UTC(2026, 0, 1, 12, 0, 0);
const branch = { status: { releaseRequestedAt: new Date(requested).toISOString() } };

describe('releasable', () => {
  test.each<[string, { status?: { releaseRequestedAt?: string } }, number, ReturnType<typeof releasable>]>([
    ['release not requested', { status: {} }, requested + 999_999, { releasable: false, remainingMs: 60_000 }],
    ['just requested', branch, requested, { releasable: false, remainingMs: 60_000 }],
    ['1 ms before the cooldown ends', branch, requested + 59_999, { releasable: false, remainingMs: 1 }],
    ['exactly at the end', branch, requested + 60_000, { releasable: true, remainingMs: 0 }],
    ['1 ms after', branch, requested + 60_001, { releasable: true, remainingMs: 0 }],
    ['clock behind the request', branch, requested - 5_000, { releasable: false, remainingMs: 65_000 }],
    [
      'unparseable timestamp',
      { status: { releaseRequestedAt: 'yesterday' } },
      requested,
      { releasable: true, remainingMs: 0 },
    ],
  ])('%s', (_name, b, now, expected) => {
    expect(releasable(b, now, 60_000)).toEqual(expected);
  });
});

describe('parseCooldownSetting', () => {
  test.each<[string, string | undefined, ReturnType<typeof parseCooldownSetting>]>([
    ['key absent keeps the current value', undefined, { outcome: 'keep' }],
    ['90 seconds', '90', { outcome: 'set', cooldownMs: 90_000 }],
    ['whitespace', ' 45 ', { outcome: 'set', cooldownMs: 45_000 }],
    ['exactly the minimum', '30', { outcome: 'set', cooldownMs: 30_000 }],
    [
      'below the minimum is raised',
      '10',
      {
        outcome: 'set',
        cooldownMs: 30_000,
        warning:
          'branch-eni-cooldown 10s is below the minimum of 30s; using 30s (a shorter cooldown risks reusing an IP peers still cache)',
      },
    ],
    [
      'not a number',
      '1m',
      { outcome: 'keep', warning: 'branch-eni-cooldown "1m" is not a number of seconds; keeping the current cooldown' },
    ],
    [
      'empty',
      '',
      { outcome: 'keep', warning: 'branch-eni-cooldown "" is not a number of seconds; keeping the current cooldown' },
    ],
    [
      'negative',
      '-5',
      { outcome: 'keep', warning: 'branch-eni-cooldown "-5" is not a number of seconds; keeping the current cooldown' },
    ],
  ])('%s', (_name, raw, expected) => {
    expect(parseCooldownSetting(raw, 30_000)).toEqual(expected);
  });

  test('a test-only lower minimum lets short cooldowns through', () => {
    expect(parseCooldownSetting('1', 500)).toEqual({ outcome: 'set', cooldownMs: 1_000 });
  });
});

describe('formatDuration', () => {
  test.each([
    [30_000, '30s'],
    [60_000, '1m0s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
