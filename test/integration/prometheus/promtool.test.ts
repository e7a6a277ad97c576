/**
 * The alerts of config/prometheus/rules.yaml under `promtool` (Debian's prometheus package; `make test`
 * installs it through hack/ensure-prometheus.sh): the PrometheusRule's groups pass `promtool check rules`,
 * and the unit tests of test/prometheus/rules.test.yaml pass `promtool test rules`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse, stringify } from 'yaml';

const RULES = new URL('../../../config/prometheus/rules.yaml', import.meta.url);
const RULE_TESTS = new URL('../../prometheus/rules.test.yaml', import.meta.url);
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// In CI a missing promtool is a broken setup, not a reason to skip.
const runOrSkip = hasPromtool || process.env.CI === 'true' ? test : test.skip;
const SKIP_NOTE = hasPromtool ? '' : ' (skipped: promtool missing; run hack/ensure-prometheus.sh)';

/** The PrometheusRule's spec as a plain Prometheus rule file, next to a copy of the rule tests. */
function ruleFiles(): { dir: string; rules: string; tests: string } {
  const rule = parse(readFileSync(RULES, 'utf8')) as { kind: string; spec: { groups: unknown[] } };
  expect(rule.kind).toBe('PrometheusRule');
  const dir = mkdtempSync(join(tmpdir(), 'sgp-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
  copyFileSync(RULE_TESTS, join(dir, 'rules.test.yaml'));
  return { dir, rules: join(dir, 'rules.yaml'), tests: join(dir, 'rules.test.yaml') };
}

describe('config/prometheus/rules.yaml', () => {
  runOrSkip(`passes promtool check rules${SKIP_NOTE}`, () => {
    const check = spawnSync('promtool', ['check', 'rules', ruleFiles().rules], { encoding: 'utf8' });
    expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({
      status: 0,
      output: expect.stringMatching(/SUCCESS: \d+ rules found/),
    });
  });

  runOrSkip(`passes its promtool unit tests (test/prometheus/rules.test.yaml)${SKIP_NOTE}`, () => {
    const files = ruleFiles();
    const run = spawnSync('promtool', ['test', 'rules', files.tests], { encoding: 'utf8', cwd: files.dir });
    expect({ status: run.status, output: (run.stdout + run.stderr).trim() }).toEqual({
      status: 0,
      output: expect.stringMatching(/SUCCESS$/),
    });
  });
});
