/**
 * HTTP to the API server through @kubernetes/client-node's own machinery: `KubeConfig` authenticates the
 * request (token, client certificate, exec plugin, CA) and its undici dispatcher carries it. We build URLs
 * from a `ResourceKind` ourselves instead of using the generated per-kind APIs because the framework is
 * generic over kinds (core, built-in groups and CRDs alike), and so that every request states its
 * Content-Type explicitly: the generated `patch…` methods default to application/json-patch+json, which a
 * real apiserver rejects for a merge-style body.
 *
 * Connections are kept alive: `applySecurityAuthentication` (client-node 2.0.1) builds a new undici Agent for
 * every request, so sending each request with it costs a fresh TCP + TLS handshake on both sides, which
 * dominated the operator's CPU and memory under load (bench/README.md). The transport keeps one dispatcher
 * and swaps it only when the TLS material it was built from changes (see `keepAliveDispatcher`).
 */
import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeConflictError, KubeGoneError, KubeNotFoundError } from './errors.ts';
import type { ObjectKey, ResourceKind } from './types.ts';

export const CONTENT_TYPE = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
} as const;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: (typeof CONTENT_TYPE)[keyof typeof CONTENT_TYPE];
  signal?: AbortSignal;
}

export interface KubeTransport {
  readonly kubeConfig: KubeConfig;
  /** Resolves with the parsed body on 2xx; throws a typed KubeApiError otherwise (naming `what`). */
  request<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    what: { kind: ResourceKind; key?: ObjectKey; verb: string },
    options?: RequestOptions,
  ): Promise<T>;
  /**
   * A streaming GET (watch): yields each newline-delimited line of the body until the server ends it or
   * `signal` aborts. Non-2xx statuses throw a typed KubeApiError before the first line.
   */
  stream(
    path: string,
    what: { kind: ResourceKind; key?: ObjectKey; verb: string },
    options: RequestOptions & { signal: AbortSignal },
  ): Promise<AsyncIterable<string>>;
}

/** `group/version`, or `v1` for the core group. */
export function apiVersionFor(kind: ResourceKind): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

/** `/api/v1[/namespaces/ns]/plural[/name[/sub]]`, or `/apis/group/version/...` for named groups. */
export function resourcePath(
  kind: ResourceKind,
  target: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  const base = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  const ns = kind.namespaced && target.namespace ? `/namespaces/${encodeURIComponent(target.namespace)}` : '';
  const name = target.name ? `/${encodeURIComponent(target.name)}` : '';
  const sub = target.name && target.subresource ? `/${target.subresource}` : '';
  return `${base}${ns}/${kind.plural}${name}${sub}`;
}

interface ApiStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * Authenticates `context` with `applySecurityAuthentication` (headers: bearer token, basic auth,
 * impersonation), then swaps the dispatcher it built for this one request for one long-lived dispatcher, so
 * requests reuse keep-alive connections. The long-lived one is replaced when the TLS material changes: a
 * rotated CA or client certificate file, or an exec plugin's new client certificate (client-node re-reads
 * them on every request). Tokens travel in a header, so their rotation needs no new dispatcher. A replaced
 * dispatcher is dropped, not closed: requests and watches still on it finish, and undici closes its idle
 * sockets after their keep-alive timeout.
 */
function keepAliveDispatcher(kubeConfig: KubeConfig): (context: RequestContext) => Promise<void> {
  let shared: { tlsFingerprint: string; dispatcher: Dispatcher } | undefined;
  return async (context) => {
    await kubeConfig.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    // No TLS material and no proxy: fetch's global dispatcher already keeps connections alive.
    if (!fresh) return;
    const tlsFingerprint = await fingerprintTls(kubeConfig);
    if (shared?.tlsFingerprint === tlsFingerprint) context.setDispatcher(shared.dispatcher);
    else shared = { tlsFingerprint, dispatcher: fresh };
  };
}

/** A digest of everything client-node builds a dispatcher from: the current cluster and its TLS material. */
async function fingerprintTls(kubeConfig: KubeConfig): Promise<string> {
  const options: AgentOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const cluster = kubeConfig.getCurrentCluster();
  const hash = createHash('sha256');
  const fields = [
    cluster?.server,
    cluster?.proxyUrl,
    options.servername,
    options.rejectUnauthorized,
    options.passphrase,
    options.ca,
    options.cert,
    options.key,
    options.pfx,
  ];
  for (const field of fields) {
    for (const part of Array.isArray(field) ? field : [field]) {
      hash.update(typeof part === 'string' || Buffer.isBuffer(part) ? part : String(part)).update('\0');
    }
    hash.update('\n');
  }
  return hash.digest('hex');
}

export function createKubeTransport(kubeConfig: KubeConfig): KubeTransport {
  const http = new IsomorphicFetchHttpLibrary();
  const authenticate = keepAliveDispatcher(kubeConfig);
  const prepare = async (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    what: { kind: ResourceKind; key?: ObjectKey; verb: string },
    options: RequestOptions,
  ): Promise<RequestContext> => {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new KubeApiError('kubeconfig has no current cluster; set current-context', { ...what, statusCode: 0 });
    }
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const context = new RequestContext(url.toString(), HttpMethod[method]);
    context.setHeaderParam('Accept', CONTENT_TYPE.json);
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? CONTENT_TYPE.json);
      context.setBody(JSON.stringify(options.body));
    }
    if (options.signal) context.setSignal(options.signal);
    await authenticate(context);
    return context;
  };
  return {
    kubeConfig,
    async stream(path, what, options) {
      const context = await prepare('GET', path, what, options);
      let response;
      try {
        response = await http.send(context).toPromise();
      } catch (error) {
        throw new KubeApiError(`${describe(what)}: request failed`, { ...what, statusCode: 0 }, { cause: error });
      }
      if (response.httpStatusCode < 200 || response.httpStatusCode >= 300) {
        const text = await response.body.text();
        throw apiError(what, response.httpStatusCode, (text ? safeParse(text) : undefined) as ApiStatus | undefined);
      }
      const body = response.body.stream();
      if (!body)
        throw new KubeApiError(`${describe(what)}: empty watch response`, {
          ...what,
          statusCode: response.httpStatusCode,
        });
      return splitLines(body);
    },
    async request<T>(
      method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
      path: string,
      what: { kind: ResourceKind; key?: ObjectKey; verb: string },
      options: RequestOptions = {},
    ): Promise<T> {
      const context = await prepare(method, path, what, options);
      let status: number;
      let text: string;
      try {
        const response = await http.send(context).toPromise();
        status = response.httpStatusCode;
        text = await response.body.text();
      } catch (error) {
        throw new KubeApiError(
          `${describe(what)}: request to the API server failed`,
          { ...what, statusCode: 0 },
          { cause: error },
        );
      }
      const parsed: unknown = text ? safeParse(text) : undefined;
      if (status >= 200 && status < 300) return parsed as T;
      throw apiError(what, status, parsed as ApiStatus | undefined);
    },
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A non-JSON body (a proxy's HTML error page) is still worth showing in the error message.
    return { message: text.slice(0, 200) };
  }
}

function describe(what: { kind: ResourceKind; key?: ObjectKey; verb: string }): string {
  return `${what.verb} ${what.kind.kind}${what.key ? ` ${what.key}` : ''}`;
}

export function apiError(
  what: { kind: ResourceKind; key?: ObjectKey; verb: string },
  statusCode: number,
  status: ApiStatus | undefined,
): KubeApiError {
  const reason = status?.reason;
  const detail = status?.message ?? `HTTP ${statusCode}`;
  const details = {
    kind: what.kind,
    statusCode,
    ...(what.key ? { key: what.key } : {}),
    ...(reason ? { reason } : {}),
  };
  switch (statusCode) {
    case 404:
      return new KubeNotFoundError(`${describe(what)}: not found (${detail})`, details);
    case 409:
      return new KubeConflictError(`${describe(what)}: conflict (${detail}); re-read the object and retry`, details);
    case 410:
      return new KubeGoneError(`${describe(what)}: resourceVersion too old (${detail})`, details);
    default:
      return new KubeApiError(
        `${describe(what)}: HTTP ${statusCode} ${reason ?? ''} (${detail})`.replace('  ', ' '),
        details,
      );
  }
}

async function* splitLines(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
      newline = buffered.indexOf('\n');
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield rest;
}
