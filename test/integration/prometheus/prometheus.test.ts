/**
 * The shipped alerts and dashboard against a real Prometheus scraping a running operator. The operator (the
 * real composition: createOperator with webhooks, and the /metrics server main.ts starts, HTTPS with
 * TokenReview/SubjectAccessReview) runs in a private world (test/kit/world.ts); Prometheus scrapes it
 * every second with the token of a ServiceAccount bound to the shipped metrics-reader ClusterRole, as the
 * ServiceMonitor does, and evaluates config/prometheus/rules.yaml. After the operator has been exercised
 * (a node joins, a policy selects pods that go through the webhook and get branch ENIs, EC2 throttles and
 * refuses a few calls, leak sweeps run), every query of config/grafana/sgp-operator-dashboard.json must
 * return series and every alert rule must evaluate without error.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { freePorts } from '../../../hack/control-plane/control-plane.ts';
import { POLICY_NAMESPACE_LABEL } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { TrunkInterface } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { startMetricsEndpoint } from '../../../operator/metrics-endpoint.ts';
import type { HttpEndpoint } from '../../../operator/observability/http-server.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { AZ, startWorld, type World } from '../../kit/world.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { hasPrometheus, startPrometheus, type RunningPrometheus } from '../harness/prometheus.ts';
import { createTestPod, testPolicy, waitAnnotated } from '../pods/fixture.ts';

const DASHBOARD = new URL('../../../config/grafana/sgp-operator-dashboard.json', import.meta.url);
const RULES = new URL('../../../config/prometheus/rules.yaml', import.meta.url);
const METRICS_READER = new URL('../../../config/rbac/metrics_reader_role.yaml', import.meta.url);
const runOrSkip = hasPrometheus || process.env.CI === 'true' ? describe : describe.skip;

interface DashboardPanel {
  title: string;
  targets?: { expr: string }[];
}

/** Each dashboard query with Grafana's variables as "All" would fill them, and its panel's title. */
function dashboardQueries(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: DashboardPanel[] };
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title,
      expr: target.expr.replaceAll('$__rate_interval', '20s').replaceAll('$namespace', '.*').replaceAll('$job', '.*'),
    })),
  );
}

runOrSkip(
  `shipped alerts and dashboard on a real Prometheus${hasPrometheus ? '' : ' (skipped: prometheus missing; run hack/ensure-prometheus.sh)'}`,
  () => {
    let world: World;
    let metrics: HttpEndpoint | undefined;
    let prometheus: RunningPrometheus;

    beforeAll(async () => {
      world = await startWorld({
        seed: {
          vpcs: [
            {
              cidrBlocks: ['10.6.0.0/16'],
              subnets: [
                { cidrBlock: '10.6.0.0/24', availabilityZone: AZ, tags: { Name: 'nodes' } },
                {
                  cidrBlock: '10.6.64.0/18',
                  availabilityZone: AZ,
                  tags: { Name: 'pods', 'kubernetes.io/role/cni': '1' },
                },
              ],
              securityGroups: [{ name: 'node-group' }, { name: 'web' }],
            },
          ],
        },
      });
      const { client, groups } = world;
      const [webhookPort] = await freePorts(1);
      const { operator, options } = await world.startOperator({
        options: {
          leaderElect: false,
          enableWebhooks: true,
          webhookBindAddress: { host: '127.0.0.1', port: webhookPort ?? 0 },
          leakSweepIntervalSeconds: 1,
          metricsBindAddress: { host: '127.0.0.1', port: 0 },
          metricsSecure: true,
        },
        webhookBaseUrl: `https://127.0.0.1:${webhookPort}`,
      });
      metrics = await startMetricsEndpoint(options, {
        client: operator.deps.client,
        manager: operator.manager,
        log: silentLogger,
      });

      // Prometheus' identity: a ServiceAccount bound to the shipped metrics-reader ClusterRole.
      await client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } });
      await client.create(Kinds.ServiceAccount, { metadata: { name: 'prometheus', namespace: 'monitoring' } });
      const reader = parse(readFileSync(METRICS_READER, 'utf8')) as KubeObject;
      const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: false } as const;
      await client.create({ ...rbac, kind: 'ClusterRole', plural: 'clusterroles' }, reader);
      await client.create({ ...rbac, kind: 'ClusterRoleBinding', plural: 'clusterrolebindings' }, {
        metadata: { name: 'prometheus-metrics-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: reader.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }],
      } as KubeObject);
      const token = await world.core.createNamespacedServiceAccountToken({
        namespace: 'monitoring',
        name: 'prometheus',
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      const rules = parse(readFileSync(RULES, 'utf8')) as { spec: { groups: unknown[] } };
      prometheus = await startPrometheus({
        target: new URL(metrics?.url ?? '').host,
        bearerToken: token.status?.token ?? '',
        ruleGroups: rules.spec.groups,
      });

      // ---- exercise the operator ----
      // EC2 throttles two DescribeNetworkInterfaces (the SDK retries them) and refuses one, so the EC2 error
      // and throttling series exist.
      world.emulator.control.setFaults([
        { action: 'DescribeNetworkInterfaces', code: 'RequestLimitExceeded', count: 2 },
        { action: 'DescribeNetworkInterfaces', code: 'InvalidParameterValue', count: 1 },
      ]);
      // A node joins and opts in.
      const node = uniqueName('node');
      await world.addNode(node, { optIn: 'cninode-feature' });
      await eventually(
        async () => expect((await client.get<TrunkInterface>(Kinds.TrunkInterface, node))?.status?.state).toBe('Ready'),
        { waitingFor: `TrunkInterface ${node} Ready`, timeoutMs: 60_000 },
      );
      // A policy selects pods; once its namespace carries the policy label, pods go through the webhook.
      const namespace = uniqueName('web');
      await client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      await client.create(
        Kinds.SecurityGroupPolicy,
        testPolicy(namespace, 'web', [groups.web ?? ''], { podSelector: { matchLabels: { app: 'web' } } }),
      );
      await eventually(
        async () =>
          expect((await client.get(Kinds.Namespace, namespace))?.metadata.labels?.[POLICY_NAMESPACE_LABEL]).toBe(
            'true',
          ),
        { waitingFor: `namespace ${namespace} labelled as holding a policy` },
      );
      for (const name of ['web-0', 'web-1', 'web-2']) {
        await createTestPod(client, namespace, name, { nodeName: node, labels: { app: 'web' } });
      }
      for (const name of ['web-0', 'web-1', 'web-2']) await waitAnnotated(client, namespace, name);
    }, 180_000);

    afterAll(async () => {
      await prometheus?.stop();
      await metrics?.close();
      await world?.stop();
    });

    test('Prometheus scrapes /metrics over HTTPS with the metrics-reader token', async () => {
      await eventually(async () => expect(await prometheus.targetHealth()).toEqual([{ health: 'up', lastError: '' }]), {
        waitingFor: 'the sgp-operator target to be up',
      });
    });

    test('every dashboard query returns series', async () => {
      const queries = dashboardQueries();
      expect(queries.length).toBeGreaterThan(30);
      // Rates need two samples inside their window after the exercise: wait, per query, for the series.
      const empty = await eventually(
        async () => {
          const answers = await Promise.all(
            queries.map(async (query) => ({ ...query, series: (await prometheus.query(query.expr)).length })),
          );
          const missing = answers
            .filter((answer) => answer.series === 0)
            .map((answer) => `${answer.panel}: ${answer.expr}`);
          expect(missing).toEqual([]);
          return missing;
        },
        { waitingFor: 'every dashboard query to return series', timeoutMs: 60_000, intervalMs: 2_000 },
      );
      expect(empty).toEqual([]);
    });

    test('every alert rule evaluates without error', async () => {
      const ruleCount = (
        parse(readFileSync(RULES, 'utf8')) as { spec: { groups: { rules: unknown[] }[] } }
      ).spec.groups.flatMap((group) => group.rules).length;
      const rules = await eventually(
        async () => {
          const loaded = await prometheus.rules();
          expect(loaded).toHaveLength(ruleCount);
          // Evaluated at least once (Go's zero time until then).
          expect(loaded.filter((rule) => rule.lastEvaluation.startsWith('0001-'))).toEqual([]);
          return loaded;
        },
        { waitingFor: 'every rule to have been evaluated', timeoutMs: 30_000 },
      );
      expect(rules.filter((rule) => rule.health !== 'ok' || rule.lastError)).toEqual([]);
    });

    test('the exercise reached EC2 throttling and errors, branch allocation and the webhook', async () => {
      const value = async (expr: string) => Number((await prometheus.query(expr))[0]?.value[1] ?? 'NaN');
      expect(await value('sum(sgp_ec2_api_throttled_responses_total)')).toBeGreaterThanOrEqual(2);
      expect(await value('sum(sgp_ec2_api_errors_total{code="InvalidParameterValue"})')).toBeGreaterThanOrEqual(1);
      expect(await value('sum(sgp_branch_allocation_duration_seconds_count)')).toBeGreaterThanOrEqual(3);
      expect(await value('sum(sgp_webhook_requests_total{webhook="mutate-pod"})')).toBeGreaterThanOrEqual(3);
      expect(await value('sgp_webhook_certificate_expiry_timestamp_seconds - time()')).toBeGreaterThan(86_400);
    });
  },
);
