/**
 * The pieces `kubectl sgp` reads the operator through: which selector requirement failed (the same function
 * the matching uses), and the annotation settings parsed from the operator's flags and environment.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { LabelSelector } from '../../../operator/api/types.ts';
import {
  describeSelectorMismatch,
  labelSelectorProblems,
  matchesLabelSelector,
  selectorMismatches,
} from '../../../operator/controllers/pod/index.ts';
import { securityGroupAnnotationRuleOf } from '../../../operator/options.ts';
import { age, formatOutput, table } from '../../../kubectl-sgp/render.ts';
import { FUZZ_PARAMETERS, labels, selector } from '../fuzz/arbitraries.ts';

describe('selectorMismatches', () => {
  test.each<[string, LabelSelector, Record<string, string>, string[]]>([
    ['every label matches', { matchLabels: { app: 'db' } }, { app: 'db' }, []],
    ['a wrong value', { matchLabels: { app: 'db' } }, { app: 'web' }, ['matchLabels app=db: the pod has app=web']],
    ['a missing label', { matchLabels: { tier: 'gold' } }, {}, ['matchLabels tier=gold: the pod has no label tier']],
    [
      'In and DoesNotExist',
      {
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['gold', 'silver'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      },
      { tier: 'bronze', canary: 'true' },
      [
        'matchExpressions[0] tier In [gold, silver]: the pod has tier=bronze',
        'matchExpressions[1] canary DoesNotExist: the pod has canary=true',
      ],
    ],
    ['the empty selector matches everything', {}, { any: 'thing' }, []],
  ])('%s', (_name, sel, podLabels, expected) => {
    expect(selectorMismatches(sel, podLabels).map((m) => describeSelectorMismatch(m, 'the pod'))).toEqual(expected);
  });

  test('a well-formed selector matches exactly when it reports no mismatch', () => {
    fc.assert(
      fc.property(selector, labels(), (sel, podLabels) => {
        if (labelSelectorProblems(sel).length > 0) return;
        expect(matchesLabelSelector(sel, podLabels)).toBe(selectorMismatches(sel, podLabels).length === 0);
      }),
      FUZZ_PARAMETERS,
    );
  });
});

describe('securityGroupAnnotationRuleOf', () => {
  test.each([
    { name: 'defaults: off', argv: [], env: {}, expected: { isEnabled: false, allowList: [] } },
    {
      name: 'a flag and the allow-list from the environment',
      argv: ['--leader-elect', '--enable-security-group-annotations'],
      env: { SGP_SECURITY_GROUP_ANNOTATION_ALLOW_LIST: 'sg-0000000a, sg-0000000b,sg-0000000a' },
      expected: { isEnabled: true, allowList: ['sg-0000000a', 'sg-0000000b'] },
    },
    {
      name: 'the flag beats its variable',
      argv: ['--enable-security-group-annotations=false'],
      env: { SGP_ENABLE_SECURITY_GROUP_ANNOTATIONS: 'true' },
      expected: { isEnabled: false, allowList: [] },
    },
    {
      name: 'a bad value is a problem, other flags are not',
      argv: ['--enable-security-group-annotations=maybe', '--no-such-flag'],
      env: {},
      expected: {
        problems: [
          { flag: 'enable-security-group-annotations', message: '"maybe" is not a boolean; use true or false' },
        ],
      },
    },
  ])('$name', ({ argv, env, expected }) => {
    expect(securityGroupAnnotationRuleOf(argv, env)).toEqual(expected);
  });
});

describe('output', () => {
  test('tables pad every column but the last; JSON and YAML carry the same object', () => {
    expect(
      table(
        ['A', 'LONG'],
        [
          ['xx', 'y'],
          ['', 'zz'],
        ],
      ),
    ).toBe('A    LONG\nxx   y\n     zz\n');
    expect(JSON.parse(formatOutput({ a: [1] }, 'json', () => ''))).toEqual({ a: [1] });
    expect(formatOutput({ a: [1] }, 'yaml', () => '')).toBe('a:\n  - 1\n');
  });

  test.each([
    ['2026-01-01T00:00:30Z', '30s'],
    ['2025-12-31T23:50:00Z', '11m'],
    ['2025-12-31T20:00:00Z', '4h'],
    ['2025-12-28T00:00:00Z', '4d'],
    ['not a time', '?'],
  ])('age of %s', (iso, expected) => {
    expect(age(iso, Date.parse('2026-01-01T00:01:00Z'))).toBe(expected);
  });
});
