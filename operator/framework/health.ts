/**
 * Liveness and readiness. The checks are plain functions so the run helper can serve them from its own
 * HTTP server (next to /metrics); `startHealthServer` is a stand-alone server for when it does not.
 *
 *   /healthz (liveness)  — 200 while the manager has not failed (lost leadership, a runnable crashed);
 *                          a standby replica that is not leader is healthy.
 *   /readyz  (readiness) — 200 once the manager started and every informer cache has synced; webhooks are
 *                          served by every replica, so readiness does not depend on leadership.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FrameworkManager } from './manager.ts';

export interface HealthCheckResult {
  ok: boolean;
  detail: string;
}

export interface HealthChecks {
  liveness(): HealthCheckResult;
  readiness(): HealthCheckResult;
}

export function healthChecks(manager: Pick<FrameworkManager, 'isHealthy' | 'isReady'>): HealthChecks {
  return {
    liveness: () => (manager.isHealthy() ? { ok: true, detail: 'ok' } : { ok: false, detail: 'manager failed' }),
    readiness: () =>
      manager.isReady() ? { ok: true, detail: 'ok' } : { ok: false, detail: 'informer caches not synced yet' },
  };
}

/** Routes /healthz and /readyz; returns false for any other path (so a shared server can fall through). */
export function serveHealth(
  checks: HealthChecks,
  path: string,
  respond: (status: number, body: string) => void,
): boolean {
  const check =
    path === '/healthz' || path === '/livez' ? checks.liveness : path === '/readyz' ? checks.readiness : undefined;
  if (!check) return false;
  const result = check();
  respond(result.ok ? 200 : 503, result.detail + '\n');
  return true;
}

export interface HealthServer {
  /** e.g. http://127.0.0.1:8081 */
  url: string;
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  host?: string;
  port: number;
  manager: Pick<FrameworkManager, 'isHealthy' | 'isReady'>;
}): Promise<HealthServer> {
  const checks = healthChecks(options.manager);
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const handled = serveHealth(checks, path, (status, body) => {
      response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
    if (!handled) response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
