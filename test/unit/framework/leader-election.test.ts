import { expect, test } from '@jest/globals';
import { decideLease, microTime } from '../../../operator/framework/leader-election.ts';
import type { Lease } from '../../../operator/framework/leader-election.ts';

const lease = (holder: string | undefined): Lease => ({
  metadata: { name: 'sgp-operator', namespace: 'kube-system', resourceVersion: '7' },
  spec: { ...(holder !== undefined ? { holderIdentity: holder } : {}), leaseDurationSeconds: 15 },
});
const DURATION = 15_000;

test.each([
  ['no Lease yet: create it', undefined, 0, 0, { action: 'create' }],
  ['we hold it: renew', lease('me'), 100_000, 0, { action: 'take', transition: false }],
  ['released (empty holder): take it', lease(''), 1, 0, { action: 'take', transition: true }],
  ['never held (no holder field): take it', lease(undefined), 1, 0, { action: 'take', transition: true }],
  ['held by another, seen 14.999 s ago: wait', lease('other'), 14_999, 0, { action: 'wait', holder: 'other' }],
  [
    'held by another, unchanged for the lease duration: take over',
    lease('other'),
    15_000,
    0,
    { action: 'take', transition: true },
  ],
] as const)('%s', (_name, current, nowMs, observedAtMs, expected) => {
  expect(decideLease(current, 'me', nowMs, observedAtMs, DURATION)).toEqual(expected);
});

test('MicroTime carries exactly six fractional digits, as the apiserver parses it', () => {
  expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
});
