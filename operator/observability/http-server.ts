/**
 * The operator's HTTP endpoints: Prometheus `/metrics` and the `/healthz` (liveness) and `/readyz`
 * (readiness) probes. They run on every replica, leader or not, each on its own listen address so the
 * metrics port can be exposed to Prometheus while the probe port stays kubelet-only.
 *
 * `/metrics` is served over HTTPS to callers an {@link AccessCheck} admits (the API server's TokenReview and
 * SubjectAccessReview, operator/framework/delegated-auth.ts) unless `--metrics-secure=false`; the probes
 * stay plain HTTP, as the kubelet calls them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
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
  /** e.g. https://127.0.0.1:8443 (the bound address, so port 0 shows the real port). */
  readonly url: string;
  close(): Promise<void>;
}

/** The certificate an HTTPS endpoint presents, and news of its replacement (rotation or a reloaded file). */
export interface ServingCertificate {
  serving(): { certPem: string; keyPem: string };
  onChange(listener: () => void): void;
}

/** Who may read an endpoint: operator/framework/delegated-auth.ts asks the API server. */
export interface AccessCheck {
  check(request: {
    authorization: string | undefined;
    path: string;
    verb: string;
  }): Promise<{ allowed: true } | { allowed: false; status: 401 | 403 | 500; reason: string }>;
}

type Route = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/**
 * `/metrics` in the Prometheus text format (or OpenMetrics when the scraper asks for it); with `access`,
 * only for callers it admits: 401 without a valid bearer token, 403 without RBAC for the path.
 */
export function metricsRoute(registry: Registry, log: Logger, access?: AccessCheck): Route {
  return async (request, response) => {
    if (pathOf(request) !== '/metrics') return false;
    if (access) {
      const decision = await access.check({
        authorization: request.headers.authorization,
        path: '/metrics',
        verb: (request.method ?? 'GET').toLowerCase(),
      });
      if (!decision.allowed) {
        if (decision.status === 500) log.error('metrics access check failed', { reason: decision.reason });
        else log.debug('metrics request refused', { status: decision.status, reason: decision.reason });
        const body = decision.status === 500 ? 'authorization check failed; see the operator log' : decision.reason;
        response
          .writeHead(decision.status, {
            'content-type': 'text/plain',
            ...(decision.status === 401 ? { 'www-authenticate': 'Bearer realm="sgp-operator metrics"' } : {}),
          })
          .end(body + '\n');
        return true;
      }
    }
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

/**
 * Listens on `address` and serves the first route that claims a request; 404 otherwise. With `tls`, over
 * HTTPS (TLS 1.2 or later), switching to a new certificate whenever `tls` says it changed.
 */
export async function startHttpEndpoint(
  name: string,
  address: ListenAddress,
  routes: readonly Route[],
  log: Logger,
  tls?: ServingCertificate,
): Promise<HttpEndpoint> {
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      for (const route of routes) if (await route(request, response)) return;
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    })().catch((error: unknown) => {
      log.error('http request failed', { server: name, error });
      if (!response.headersSent) response.writeHead(500).end();
    });
  };
  let server: Server;
  if (tls) {
    const secureContext = () => {
      const { certPem, keyPem } = tls.serving();
      return { cert: certPem, key: keyPem, minVersion: 'TLSv1.2' as const };
    };
    const https = createHttpsServer(secureContext(), handle);
    tls.onChange(() => https.setSecureContext(secureContext()));
    server = https;
  } else {
    server = createServer(handle);
  }
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
  const url = `${tls ? 'https' : 'http'}://${host}:${bound.port}`;
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
