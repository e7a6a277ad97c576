import { expect, test } from '@jest/globals';
import { setCondition } from '../../../operator/framework/conditions.ts';
import type { Condition } from '../../../operator/framework/meta.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const ready = (status: Condition['status'], reason: string, at = T0): Condition => ({
  type: 'Ready',
  status,
  reason,
  message: `${reason} message`,
  lastTransitionTime: at,
});

test.each([
  ['new type is appended with now', [], ready('True', 'Ok', 'x'), [ready('True', 'Ok', T1)]],
  ['same status keeps the transition time', [ready('True', 'Ok')], ready('True', 'Ok', 'x'), [ready('True', 'Ok')]],
  [
    'same status, new reason and message: time kept, text updated',
    [ready('False', 'A')],
    ready('False', 'B', 'x'),
    [ready('False', 'B')],
  ],
  ['status change moves the time', [ready('False', 'A')], ready('True', 'Ok', 'x'), [ready('True', 'Ok', T1)]],
])('%s', (_name, before, next, expected) => {
  const { lastTransitionTime: _ignored, ...input } = next;
  expect(setCondition(before, input, T1)).toEqual(expected);
});

test('other conditions keep their place and the input is not modified', () => {
  const synced: Condition = { type: 'Synced', status: 'True', reason: 'S', message: '', lastTransitionTime: T0 };
  const before = [ready('False', 'A'), synced];
  const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'Ok', message: 'Ok message' }, T1);
  expect(after).toEqual([ready('True', 'Ok', T1), synced]);
  expect(before).toEqual([ready('False', 'A'), synced]);
});
