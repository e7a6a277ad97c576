import { describe, expect, test } from '@jest/globals';
import type { LabelSelector } from '../../../../operator/framework/meta.ts';
import { labelSelectorProblems, matchesLabelSelector } from '../../../../operator/controllers/pod/label-selector.ts';

const labels = { app: 'web', tier: 'frontend', empty: '' };

describe('matchesLabelSelector', () => {
  test.each<[string, LabelSelector, Record<string, string> | undefined, boolean]>([
    ['empty selector matches everything', {}, labels, true],
    ['empty selector matches a pod with no labels', {}, undefined, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, labels, true],
    ['matchLabels different value', { matchLabels: { app: 'db' } }, labels, false],
    ['matchLabels all must hold', { matchLabels: { app: 'web', tier: 'backend' } }, labels, false],
    ['matchLabels on no labels', { matchLabels: { app: 'web' } }, undefined, false],
    ['matchLabels empty value equals empty label', { matchLabels: { empty: '' } }, labels, true],
    ['In hit', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, labels, true],
    ['In miss', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, labels, false],
    ['In on missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, false],
    ['NotIn hit', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, labels, false],
    ['NotIn miss', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, labels, true],
    [
      'NotIn on missing key matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      labels,
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels, true],
    ['Exists with empty value', { matchExpressions: [{ key: 'empty', operator: 'Exists' }] }, labels, true],
    ['Exists missing', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels, false],
    ['DoesNotExist missing', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels, false],
    [
      'matchLabels AND expressions',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] },
      labels,
      false,
    ],
    [
      'malformed In without values matches nothing',
      { matchExpressions: [{ key: 'app', operator: 'In' }] },
      labels,
      false,
    ],
    [
      'malformed Exists with values matches nothing',
      { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] },
      labels,
      false,
    ],
  ])('%s', (_name, selector, podLabels, expected) => {
    expect(matchesLabelSelector(selector, podLabels)).toBe(expected);
  });
});

describe('labelSelectorProblems', () => {
  test('a well-formed selector has none', () => {
    expect(labelSelectorProblems({ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] })).toEqual([]);
  });
  test('each malformed requirement is named', () => {
    expect(
      labelSelectorProblems({
        matchExpressions: [
          { key: 'a', operator: 'In', values: [] },
          { key: 'b', operator: 'DoesNotExist', values: ['x'] },
          { key: 'c', operator: 'Equals' as 'In', values: ['x'] },
          { key: '', operator: 'Exists' },
        ],
      }),
    ).toEqual([
      'matchExpressions[0] (key "a") uses In without values',
      'matchExpressions[1] (key "b") uses DoesNotExist with values; it takes none',
      'matchExpressions[2] (key "c") has operator "Equals"; use In, NotIn, Exists or DoesNotExist',
      'matchExpressions[3] has no key',
    ]);
  });
});
