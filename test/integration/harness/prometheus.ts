/**
 * A real Prometheus server (Debian's `prometheus` package; hack/ensure-prometheus.sh) on loopback, with a
 * temporary config and data dir, scraping one target every second the way the shipped ServiceMonitor does:
 * HTTPS with a bearer token from a file, the operator's self-signed certificate not verified. Alert rules
 * are evaluated every second. Stopped (and its data dir removed) by `stop()`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePorts } from '../../../hack/control-plane/control-plane.ts';
import { ManagedProcess, waitUntil } from '../../../hack/control-plane/process.ts';

export const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

export interface PrometheusOptions {
  /** host:port of the HTTPS /metrics endpoint. */
  target: string;
  /** ServiceAccount token Prometheus sends as `Authorization: Bearer`. */
  bearerToken: string;
  /** Rule groups (a rule file's `groups`). */
  ruleGroups: unknown[];
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromRule {
  name: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  lastEvaluation: string;
}

export interface RunningPrometheus {
  readonly url: string;
  /** Instant query; throws with Prometheus' error for a bad expression. */
  query(expr: string): Promise<PromSample[]>;
  /** Every rule of every loaded group, with its evaluation health. */
  rules(): Promise<PromRule[]>;
  /** Scrape targets' health, e.g. ['up'] once the operator has been scraped. */
  targetHealth(): Promise<{ health: string; lastError: string }[]>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'sgp-prometheus-'));
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  await writeFile(join(dir, 'token'), options.bearerToken, { mode: 0o600 });
  await writeFile(join(dir, 'rules.yaml'), stringify({ groups: options.ruleGroups }));
  await writeFile(
    join(dir, 'prometheus.yaml'),
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: [
        {
          job_name: 'sgp-operator',
          scheme: 'https',
          authorization: { credentials_file: join(dir, 'token') },
          tls_config: { insecure_skip_verify: true },
          static_configs: [{ targets: [options.target] }],
        },
      ],
    }),
  );
  const server = new ManagedProcess({
    name: 'prometheus',
    binary: 'prometheus',
    args: [
      `--config.file=${join(dir, 'prometheus.yaml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    logFile: join(dir, 'prometheus.log'),
    removeWhenOrphaned: dir,
  });
  await waitUntil('Prometheus to be ready', async () => (await fetch(`${url}/-/ready`)).ok, {
    timeoutMs: 30_000,
    processes: [server],
  });

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as ApiAnswer<T>;
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) =>
      (await api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    rules: async () =>
      (await api<{ groups: { rules: PromRule[] }[] }>('/api/v1/rules')).groups.flatMap((group) => group.rules),
    targetHealth: async () =>
      (await api<{ activeTargets: { health: string; lastError: string }[] }>('/api/v1/targets')).activeTargets.map(
        ({ health, lastError }) => ({ health, lastError }),
      ),
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
