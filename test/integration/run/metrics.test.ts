/**
 * The operator's HTTP endpoints as Prometheus and the kubelet see them: the real operator (in-process,
 * against the run's control plane and an EC2 emulator) behind the same servers main.ts starts.
 * `/metrics` must pass `promtool check metrics` (Debian's prometheus package; `make test` installs it via
 * hack/ensure-prometheus.sh).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import { healthChecks } from '../../../operator/framework/index.ts';
import {
  metricsRoute,
  probeRoute,
  startHttpEndpoint,
  type HttpEndpoint,
} from '../../../operator/observability/http-server.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { isStandardRuntimeMetric, registry } from '../../../operator/observability/metrics.ts';
import { startTestOperator, type TestOperator } from '../harness/operator.ts';

const VPC_ID = 'vpc-0123456789abcdef0';
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

describe('operator HTTP endpoints', () => {
  let emulator: Awaited<ReturnType<typeof startEc2Emulator>>;
  let running: TestOperator;
  let metrics: HttpEndpoint;
  let health: HttpEndpoint;

  beforeAll(async () => {
    emulator = await startEc2Emulator({
      seed: {
        vpcs: [
          {
            id: VPC_ID,
            cidrBlocks: ['10.0.0.0/16'],
            subnets: [{ cidrBlock: '10.0.0.0/24', availabilityZone: 'us-west-2a' }],
          },
        ],
      },
    });
    running = await startTestOperator({ ec2Endpoint: emulator.endpoint, vpcId: VPC_ID });
    metrics = await startHttpEndpoint(
      'metrics',
      { host: '127.0.0.1', port: 0 },
      [metricsRoute(registry, silentLogger)],
      silentLogger,
    );
    health = await startHttpEndpoint(
      'health',
      { host: '127.0.0.1', port: 0 },
      [probeRoute(healthChecks(running.operator.manager))],
      silentLogger,
    );
  });

  afterAll(async () => {
    await Promise.allSettled([metrics?.close(), health?.close()]);
    await running?.stop();
    await emulator?.stop();
  });

  (hasPromtool ? test : test.skip)(
    `/metrics passes promtool check metrics${hasPromtool ? '' : ' (skipped: promtool missing; run hack/ensure-prometheus.sh)'}`,
    async () => {
      const response = await fetch(`${metrics.url}/metrics`);
      const body = await response.text();
      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect({ status: check.status, problems: (check.stdout + check.stderr).trim() }).toEqual({
        status: 0,
        problems: '',
      });
    },
  );

  test('/metrics serves the Prometheus text format: our families under sgp_, runtime ones under their standard names', async () => {
    const response = await fetch(`${metrics.url}/metrics`);
    const body = await response.text();
    const families = [...body.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] ?? '');
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(families.length).toBeGreaterThan(0);
    expect(families.filter((name) => !name.startsWith('sgp_') && !isStandardRuntimeMetric(name))).toEqual([]);
    expect(families).toEqual(
      expect.arrayContaining(['sgp_build_info', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']),
    );
  });

  test('/healthz and /readyz answer 200 once the caches have synced; other paths 404', async () => {
    const statuses = await Promise.all(
      ['/healthz', '/readyz', '/nope'].map(async (path) => {
        const response = await fetch(`${health.url}${path}`);
        return [path, response.status, (await response.text()).trim()];
      }),
    );
    expect(statuses).toEqual([
      ['/healthz', 200, 'ok'],
      ['/readyz', 200, 'ok'],
      ['/nope', 404, 'not found'],
    ]);
  });
});
