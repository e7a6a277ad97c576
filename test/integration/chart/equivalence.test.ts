/**
 * The chart and config/default install the same operator: for the same settings, `helm template` and
 * `kubectl kustomize` render the same objects, field for field, in each supported shape (operator-issued
 * certificate, cert-manager, the Prometheus ServiceMonitor and alerts with their runbook links, the Grafana
 * dashboard). What legitimately differs is normalised, and only that:
 *
 * - labels that name the tool or release: helm.sh/chart, app.kubernetes.io/instance, app.kubernetes.io/version
 *   and app.kubernetes.io/managed-by (Helm vs kustomize); CRDs carry no labels from Helm at all (it does not
 *   template crds/), so theirs are compared without labels;
 * - the Namespace, which only kustomize creates (Helm installs into an existing one or --create-namespace);
 * - how settings reach the operator: kustomize passes some flags and a generated ConfigMap of SGP_* variables,
 *   the chart passes flags. Both containers are compared by the options the operator's own parser produces
 *   from their args and environment, instead of by the args, env and envFrom lists;
 * - metadata.namespace on cluster-scoped objects, which kustomize's namespace transformer sets on the
 *   ValidatingAdmissionPolicy and its binding and the apiserver ignores.
 * Needs helm (hack/helm/build.sh) and kubectl; no apiserver.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import type { V1Container, V1EnvVar, V1EnvFromSource } from '@kubernetes/client-node';

import { parseOptions } from '../../../operator/options/options.ts';
import { REPO, helm, helmTemplate, kustomizeDefault, type KustomizeOption, type Manifest } from './render.ts';

const NAMESPACE = 'sgp-system';
const TOOL_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
];
const CLUSTER_SCOPED = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

/** config/manager/params.env: the cluster settings both renderings get. */
const params = Object.fromEntries(
  readFileSync(join(REPO, 'config/manager/params.env'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const CHART_CLUSTER_VALUES = {
  clusterName: params.SGP_CLUSTER_NAME,
  region: params.SGP_REGION,
  vpcId: params.SGP_VPC_ID,
};

type Container = V1Container & { env?: V1EnvVar[]; envFrom?: V1EnvFromSource[] };
type Deployment = Manifest & { spec: { template: { spec: { containers: Container[] } } } };

/** The options the operator would run with, from a container's args, env and ConfigMap envFrom. */
function effectiveOptions(container: Container, configMaps: Map<string, Record<string, string>>) {
  const env: Record<string, string> = { POD_NAMESPACE: NAMESPACE };
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name ?? '';
    const data = configMaps.get(name);
    if (!data) throw new Error(`envFrom names ConfigMap ${name}, which is not rendered`);
    Object.assign(env, data);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  const result = parseOptions(container.args ?? [], env);
  if (result.kind !== 'options') throw new Error(`unexpected ${result.kind}`);
  return result.options;
}

/** kind/namespace/name → the object with what legitimately differs normalised (see the file comment). */
function normalise(objects: Manifest[]): Map<string, unknown> {
  const configMaps = new Map(
    objects
      .filter((object) => object.kind === 'ConfigMap')
      .map((object) => [object.metadata.name ?? '', (object.data ?? {}) as Record<string, string>]),
  );
  const consumed = new Set<string>();
  const result = new Map<string, unknown>();
  for (const original of objects) {
    if (original.kind === 'Namespace') continue;
    const object = structuredClone(original);
    const metadata = object.metadata;
    if (CLUSTER_SCOPED.has(object.kind ?? '')) delete metadata.namespace;
    const labels = Object.fromEntries(
      Object.entries(metadata.labels ?? {}).filter(
        ([key]) => !TOOL_LABELS.includes(key) && object.kind !== 'CustomResourceDefinition',
      ),
    );
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    else delete metadata.labels;
    if (object.kind === 'Deployment') {
      for (const container of (object as Deployment).spec.template.spec.containers) {
        for (const source of container.envFrom ?? []) consumed.add(source.configMapRef?.name ?? '');
        const options = effectiveOptions(container, configMaps);
        delete container.args;
        delete container.env;
        delete container.envFrom;
        (container as Container & { effectiveOptions?: unknown }).effectiveOptions = options;
      }
    }
    result.set(`${object.kind}/${metadata.namespace ?? ''}/${metadata.name}`, object);
  }
  for (const name of consumed) result.delete(`ConfigMap/${NAMESPACE}/${name}`);
  return result;
}

async function expectSameObjects(
  kustomize: readonly KustomizeOption[],
  values: Record<string, unknown>,
  edits: { runbookUrl?: string } = {},
) {
  const fromKustomize = normalise(await kustomizeDefault(kustomize, edits));
  const fromChart = normalise(
    await helmTemplate({
      release: 'sgp-operator',
      namespace: NAMESPACE,
      values: { ...CHART_CLUSTER_VALUES, ...values },
    }),
  );
  expect([...fromChart.keys()].sort()).toEqual([...fromKustomize.keys()].sort());
  for (const [key, object] of fromKustomize) {
    expect({ key, object: fromChart.get(key) }).toEqual({ key, object });
  }
}

(helm ? describe : describe.skip)('the chart renders what config/default renders', () => {
  test('defaults: config/default as shipped', async () => {
    await expectSameObjects([], {});
  });

  test('cert-manager: config/default with the certmanager component and its replacements', async () => {
    await expectSameObjects(['cert-manager'], { 'webhookCertificate.mode': 'cert-manager' });
  });

  test('ServiceMonitor (HTTPS, bearer token) and alerts: config/default with config/prometheus', async () => {
    await expectSameObjects(['prometheus'], { 'serviceMonitor.enabled': true, 'prometheusRule.enabled': true });
  });

  test('alerts with runbook links: RUNBOOK_URL in runbooks.env and prometheusRule.runbookUrl', async () => {
    const runbookUrl = 'https://git.example.com/platform/sgp-operator/blob/v0.1.0/docs/alerts.md';
    await expectSameObjects(
      ['prometheus'],
      { 'serviceMonitor.enabled': true, 'prometheusRule.enabled': true, 'prometheusRule.runbookUrl': runbookUrl },
      { runbookUrl },
    );
  });

  test('Grafana dashboard: config/default with config/grafana', async () => {
    await expectSameObjects(['grafana'], { 'grafanaDashboard.enabled': true });
  });

  test('everything optional at once: cert-manager, Prometheus and Grafana', async () => {
    await expectSameObjects(['cert-manager', 'prometheus', 'grafana'], {
      'webhookCertificate.mode': 'cert-manager',
      'serviceMonitor.enabled': true,
      'prometheusRule.enabled': true,
      'grafanaDashboard.enabled': true,
    });
  });

  test('the normalisation keeps what matters: a changed setting is a difference', async () => {
    const fromKustomize = normalise(await kustomizeDefault([]));
    const fromChart = normalise(
      await helmTemplate({ namespace: NAMESPACE, values: { ...CHART_CLUSTER_VALUES, 'flags.pod-workers': 21 } }),
    );
    const key = `Deployment/${NAMESPACE}/sgp-operator-controller-manager`;
    expect(fromChart.get(key)).not.toEqual(fromKustomize.get(key));
  });
});
