/**
 * The dashboard and the alerts name only metrics the operator registers (a renamed metric fails here, before a
 * user's panel goes blank), and every alert has a severity and a runbook section in docs/alerts.md, linked as
 * docs/alerts.md#<alert> (the part kustomize replaces with RUNBOOK_URL; test/integration/prometheus/promtool.test.ts).
 * test/integration/prometheus/prometheus.test.ts checks the same files against a real Prometheus.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { registry } from '../../../operator/observability/metrics.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface AlertRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(read('config/prometheus/rules.yaml')) as { spec: { groups: { rules: AlertRule[] }[] } }).spec.groups.flatMap(
  (group) => group.rules,
);
const dashboard = JSON.parse(read('config/grafana/sgp-operator-dashboard.json')) as {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query?: { query: string } | string }[] };
};

/** Names every series selector uses (`name{…}`), histograms by their family name. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*\{/g)]
    .map((match) => match[1] ?? '')
    .map((name) => name.replace(/_(bucket|sum|count)$/, ''));
}

const exported = new Set(registry.getMetricsAsArray().map((metric) => metric.name));

describe('config/grafana/sgp-operator-dashboard.json', () => {
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

  test('every query names only metrics /metrics exports', () => {
    const unknown = queries.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(queries.length).toBeGreaterThan(30);
    expect(unknown).toEqual([]);
  });

  test('every query is scoped to the chosen namespace, and its variables are defined', () => {
    const variables = new Set(dashboard.templating.list.map((variable) => variable.name));
    expect(queries.filter(({ expr }) => !expr.includes('namespace=~"$namespace"'))).toEqual([]);
    const used = new Set(queries.flatMap(({ expr }) => [...expr.matchAll(/\$(\w+)/g)].map((match) => match[1] ?? '')));
    expect([...used].filter((name) => !name.startsWith('__') && !variables.has(name))).toEqual([]);
  });
});

describe('config/prometheus/rules.yaml', () => {
  test('every alert names only metrics /metrics exports', () => {
    expect(rules.flatMap((rule) => metricNames(rule.expr).filter((name) => !exported.has(name)))).toEqual([]);
  });

  test('every alert has a severity, a summary, a description and a runbook section in docs/alerts.md', () => {
    const alertsDoc = read('docs/alerts.md');
    const anchors = new Set([...alertsDoc.matchAll(/^### (\w+)$/gm)].map((match) => (match[1] ?? '').toLowerCase()));
    const problems = rules.flatMap((rule) => {
      const [document, anchor = ''] = rule.annotations?.runbook_url?.split('#') ?? [];
      return [
        ['critical', 'warning', 'info'].includes(rule.labels?.severity ?? '') ? [] : [`${rule.alert}: severity`],
        rule.annotations?.summary && rule.annotations.description ? [] : [`${rule.alert}: summary/description`],
        document === 'docs/alerts.md' && anchor === rule.alert.toLowerCase() && anchors.has(anchor)
          ? []
          : [`${rule.alert}: runbook ${rule.annotations?.runbook_url}`],
      ].flat();
    });
    expect(problems).toEqual([]);
  });
});
