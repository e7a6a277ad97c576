/**
 * The README documents every option and every metric; these tests fail when code and README drift apart.
 * The options table is generated (`configurationTable()`), so the fix for a failure is to paste its output
 * between the README's options markers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { configurationTable } from '../../../operator/option-help.ts';
import { isStandardRuntimeMetric, registry } from '../../../operator/observability/metrics.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  test('the configuration table is the one generated from the option definitions', () => {
    const match = /<!-- options:begin[^>]*-->\n([\s\S]*?)<!-- options:end -->/.exec(readme);
    expect(match?.[1]).toBe(configurationTable());
  });

  test('every metric the operator registers is documented in the metrics table, and nothing else', () => {
    const registered = registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter((name) => !isStandardRuntimeMetric(name))
      .sort();
    const documented = [...readme.matchAll(/^\| `(sgp_[a-z0-9_]+)` \| (?:counter|gauge|histogram|summary) \|/gm)]
      .map((row) => row[1] ?? '')
      .sort();
    expect(documented).toEqual(registered);
  });
});
