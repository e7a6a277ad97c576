/**
 * The operator's plain-HTTP endpoints: Prometheus `/metrics` and the `/healthz` (liveness) and `/readyz`
 * (readiness) probes. They run on every replica, leader or not, each on its own listen address so the
 * metrics port can be exposed to Prometheus while the probe port stays kubelet-only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/** The probes, as the framework's `healthChecks(manager)` provides them. */
export interface ProbeChecks {
  liveness(): { ok: boolean; detail: string };
  readiness(): { ok: boolean; detail: string };
}

export interface ListenAddress {
  /** '' = every interface. */
  host: string;
  /** 0 = a free port. */
  port: number;
}

export interface HttpEndpoint {
  /** e.g. http://127.0.0.1:8080 (the bound address, so port 0 shows the real port). */
  readonly url: string;
  close(): Promise<void>;
}

type Route = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/** `/metrics` in the Prometheus text format (or OpenMetrics when the scraper asks for it). */
export function metricsRoute(registry: Registry, log: Logger): Route {
  return async (request, response) => {
    if (pathOf(request) !== '/metrics') return false;
    try {
      const body = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } catch (error) {
      log.error('rendering metrics failed', { error });
      response.writeHead(500, { 'content-type': 'text/plain' }).end('rendering metrics failed\n');
    }
    return true;
  };
}

/** `/healthz` (and `/livez`) for liveness, `/readyz` for readiness; 200 or 503 with a one-line reason. */
export function probeRoute(checks: ProbeChecks): Route {
  return async (request, response) => {
    const path = pathOf(request);
    const check =
      path === '/healthz' || path === '/livez' ? checks.liveness : path === '/readyz' ? checks.readiness : undefined;
    if (!check) return false;
    const result = check();
    response.writeHead(result.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(result.detail + '\n');
    return true;
  };
}

/** Listens on `address` and serves the first route that claims a request; 404 otherwise. */
export async function startHttpEndpoint(
  name: string,
  address: ListenAddress,
  routes: readonly Route[],
  log: Logger,
): Promise<HttpEndpoint> {
  const server: Server = createServer((request, response) => {
    void (async () => {
      for (const route of routes) if (await route(request, response)) return;
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    })().catch((error: unknown) => {
      log.error('http request failed', { server: name, error });
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  // Probes and scrapes are short; do not let an idle keep-alive connection hold shutdown up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new Error(`${name} server cannot listen on ${formatAddress(address)}: ${error.message}`, { cause: error }),
      ),
    );
    server.listen(address.port, address.host === '' ? undefined : address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const url = `http://${host}:${bound.port}`;
  log.info('serving', { server: name, url });
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://localhost').pathname;
}

function formatAddress(address: ListenAddress): string {
  return `${address.host}:${address.port}`;
}
