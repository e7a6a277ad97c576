/**
 * The alerts as `kubectl apply -k` ships them (config/prometheus rendered by `kubectl kustomize`) under
 * `promtool` (Debian's prometheus package; `make test` installs it through hack/ensure-prometheus.sh): the
 * PrometheusRule's groups pass `promtool check rules`, and the unit tests of test/prometheus/rules.test.yaml
 * pass `promtool test rules`. RUNBOOK_URL of config/prometheus/runbooks.env must reach every alert's link.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments, stringify } from 'yaml';

const CONFIG = new URL('../../../config/prometheus/', import.meta.url).pathname;
const RULE_TESTS = new URL('../../prometheus/rules.test.yaml', import.meta.url);
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// In CI a missing promtool is a broken setup, not a reason to skip.
const runOrSkip = hasPromtool || process.env.CI === 'true' ? test : test.skip;
const SKIP_NOTE = hasPromtool ? '' : ' (skipped: promtool missing; run hack/ensure-prometheus.sh)';

interface Rendered {
  kind: string;
  spec: { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] };
}

/** `kubectl kustomize DIR`, as `kubectl apply -k` renders it. */
function render(dir: string): Rendered[] {
  const build = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  expect({ status: build.status, stderr: build.stderr }).toEqual({ status: 0, stderr: '' });
  return parseAllDocuments(build.stdout).map((document) => document.toJS() as Rendered);
}

function prometheusRule(objects: Rendered[]): Rendered {
  const rules = objects.filter((object) => object.kind === 'PrometheusRule');
  expect(rules).toHaveLength(1);
  return rules[0] as Rendered;
}

/** The shipped PrometheusRule's spec as a plain Prometheus rule file, next to a copy of the rule tests. */
function ruleFiles(): { dir: string; rules: string; tests: string } {
  const rule = prometheusRule(render(CONFIG));
  const dir = mkdtempSync(join(tmpdir(), 'sgp-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
  copyFileSync(RULE_TESTS, join(dir, 'rules.test.yaml'));
  return { dir, rules: join(dir, 'rules.yaml'), tests: join(dir, 'rules.test.yaml') };
}

describe('config/prometheus', () => {
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

  test('RUNBOOK_URL of runbooks.env becomes the address of every alert runbook, and is not deployed itself', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'sgp-prometheus-')), 'prometheus');
    cpSync(CONFIG, copy, { recursive: true });
    const base = 'https://git.example.com/platform/sgp-operator/blob/v9.9.9/docs/alerts.md';
    const env = readFileSync(join(copy, 'runbooks.env'), 'utf8');
    expect(env).toMatch(/^RUNBOOK_URL=docs\/alerts\.md$/m);
    writeFileSync(join(copy, 'runbooks.env'), env.replace(/^RUNBOOK_URL=.*$/m, `RUNBOOK_URL=${base}`));

    const objects = render(copy);
    const alerts = prometheusRule(objects).spec.groups.flatMap((group) => group.rules);
    expect(alerts.length).toBeGreaterThan(10);
    expect(alerts.map((alert) => [alert.alert, alert.annotations.runbook_url])).toEqual(
      alerts.map((alert) => [alert.alert, `${base}#${alert.alert.toLowerCase()}`]),
    );
    expect(objects.map((object) => object.kind).sort()).toEqual(['PrometheusRule', 'Service', 'ServiceMonitor']);
  });
});
