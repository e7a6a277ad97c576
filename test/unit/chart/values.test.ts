/**
 * One source of defaults: the chart has a value for every operator option, and each value's default is the
 * option's own (operator/options/definitions.ts). A new flag without a chart value, a changed default, or a
 * stale value for a removed flag fails here; `make chart-values` regenerates the block.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

import {
  CHART_DERIVED_OPTIONS,
  VALUES_PATH,
  chartDefault,
  chartFlagDefinitions,
  withCurrentBlock,
} from '../../../hack/chart/flag-values.ts';
import { OPTION_DEFINITIONS } from '../../../operator/options/definitions.ts';

const text = readFileSync(VALUES_PATH, 'utf8');
const values = parse(text) as { flags: Record<string, unknown> } & Record<string, unknown>;

describe('charts/sgp-operator/values.yaml', () => {
  test('every option is a chart flag value or set by the chart from the install, never both or neither', () => {
    const missing = OPTION_DEFINITIONS.filter(
      (definition) => !(definition.flag in values.flags) && !(definition.flag in CHART_DERIVED_OPTIONS),
    ).map((definition) => definition.flag);
    const both = Object.keys(values.flags).filter((flag) => flag in CHART_DERIVED_OPTIONS);
    expect({ missing, both }).toEqual({ missing: [], both: [] });
  });

  test('each flag value defaults to the option’s own default ("" where the option has none)', () => {
    const expected = Object.fromEntries(
      chartFlagDefinitions().map((definition) => [definition.flag, chartDefault(definition)]),
    );
    expect(values.flags).toEqual(expected);
  });

  test('derived options name only things that exist: the options, and the top-level values they come from', () => {
    const flags = new Set(OPTION_DEFINITIONS.map((definition) => definition.flag));
    expect(Object.keys(CHART_DERIVED_OPTIONS).filter((flag) => !flags.has(flag))).toEqual([]);
    for (const key of ['clusterName', 'region', 'vpcId']) {
      expect(values).toHaveProperty([key], '');
    }
  });

  test('the generated block (with the help text as comments) is current: run make chart-values', () => {
    expect(text).toBe(withCurrentBlock(text));
  });
});
