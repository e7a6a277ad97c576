/**
 * HTTP to the API server on node:https with keep-alive connections. Credentials (credentials.ts) are applied
 * per request; the connection pool (an https.Agent) is kept while the TLS material it was built from stays
 * the same, and replaced when it changes (a rotated CA bundle or client certificate): the old pool finishes
 * what it carries (requests, open watches) and is then closed. Bearer tokens travel in a header, so their
 * rotation needs no new connection.
 *
 * We build URLs from a `ResourceKind` ourselves instead of using generated per-kind APIs because the framework
 * is generic over kinds (core, built-in groups and CRDs alike), and every request states its Content-Type
 * explicitly (a merge patch is `application/merge-patch+json`, never a JSON patch by default).
 *
 * A 401 answer makes the credentials forget what they cached (a rotated token file, an expired exec
 * credential) and the request is sent once more: a 401 means the server did nothing with it, so a second try
 * is safe for every verb.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ClusterCredentials, type TlsMaterial } from './credentials.ts';
import { KubeApiError, KubeConflictError, KubeGoneError, KubeNotFoundError } from './errors.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import type { Clock, ObjectKey, ResourceKind } from './types.ts';

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
  /** The cluster this transport talks to. */
  readonly access: ClusterAccess;
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

/** TCP keep-alive probes start after this long without traffic (client-go's dialer uses the same). */
const TCP_KEEPALIVE_MS = 30_000;
/** A request (not a watch) that receives nothing for this long fails, instead of holding a worker forever. */
export const REQUEST_IDLE_TIMEOUT_MS = 60_000;

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type What = { kind: ResourceKind; key?: ObjectKey; verb: string };

interface Pool {
  agent: HttpAgent;
  /** Requests and watches on this pool that have not finished. */
  inFlight: number;
  /** Replaced by a pool with newer TLS material: closed once `inFlight` reaches 0. */
  isRetired: boolean;
}

export interface KubeTransportOptions {
  /** Clock for credential refreshes; the system clock by default. */
  clock?: Clock;
  /** The environment exec plugins run with (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Sent as User-Agent: API server audit logs and metrics name the client by it. */
  userAgent?: string;
}

export function createKubeTransport(access: ClusterAccess, options: KubeTransportOptions = {}): KubeTransport {
  const credentials = new ClusterCredentials(access, {
    clock: options.clock ?? { now: () => Date.now() },
    env: options.env ?? process.env,
  });
  const isHttps = access.server.startsWith('https:');
  const userAgent = options.userAgent ?? 'sgp-operator';
  const pools = new Map<string, Pool>();
  let current: string | undefined;

  const poolFor = (identity: string, tls: TlsMaterial): Pool => {
    let pool = pools.get(identity);
    if (pool === undefined) {
      const agentOptions = { keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_MS };
      pool = {
        agent: isHttps
          ? new HttpsAgent({
              ...agentOptions,
              ...(tls.ca ? { ca: tls.ca } : {}),
              ...(tls.cert ? { cert: tls.cert } : {}),
              ...(tls.key ? { key: tls.key } : {}),
              ...(tls.servername ? { servername: tls.servername } : {}),
              rejectUnauthorized: tls.rejectUnauthorized,
            })
          : new HttpAgent(agentOptions),
        inFlight: 0,
        isRetired: false,
      };
      pools.set(identity, pool);
    }
    if (current !== identity) {
      const previous = current === undefined ? undefined : pools.get(current);
      if (previous !== undefined) {
        previous.isRetired = true;
        closeIfIdle(current ?? '', previous);
      }
      current = identity;
    }
    return pool;
  };
  const closeIfIdle = (identity: string, pool: Pool) => {
    if (!pool.isRetired || pool.inFlight > 0) return;
    pool.agent.destroy();
    pools.delete(identity);
  };

  /** Sends one request; the returned `done` must be called once the response is consumed. */
  const send = async (
    method: Method,
    path: string,
    what: What,
    options: RequestOptions,
    isStream: boolean,
  ): Promise<{ response: IncomingMessage; done: () => void }> => {
    const url = new URL(access.server + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 1; ; attempt++) {
      const auth = await credentials.forRequest();
      const identity = isHttps ? auth.tlsIdentity : 'http';
      const pool = poolFor(identity, auth.tls);
      const headers: OutgoingHttpHeaders = {
        Accept: CONTENT_TYPE.json,
        'User-Agent': userAgent,
        ...auth.headers,
        ...(body === undefined
          ? {}
          : { 'Content-Type': options.contentType ?? CONTENT_TYPE.json, 'Content-Length': Buffer.byteLength(body) }),
      };
      pool.inFlight += 1;
      let isDone = false;
      const done = () => {
        if (isDone) return;
        isDone = true;
        pool.inFlight -= 1;
        closeIfIdle(identity, pool);
      };
      let response: IncomingMessage;
      try {
        response = await exchange(url, { method, headers, agent: pool.agent, signal: options.signal, isStream }, body);
      } catch (error) {
        done();
        throw new KubeApiError(
          `${describe(what)}: request to the API server failed (${(error as Error).message})`,
          { ...what, statusCode: 0 },
          { cause: error },
        );
      }
      if (response.statusCode === 401 && attempt === 1 && credentials.rejected()) {
        response.resume();
        done();
        continue;
      }
      return { response, done };
    }
  };

  return {
    access,
    async stream(path, what, options) {
      const { response, done } = await send('GET', path, what, options, true);
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const text = await readBody(response).finally(done);
        throw apiError(what, status, (text ? safeParse(text) : undefined) as ApiStatus | undefined);
      }
      return splitLines(response, done);
    },
    async request<T>(method: Method, path: string, what: What, options: RequestOptions = {}): Promise<T> {
      const { response, done } = await send(method, path, what, options, false);
      let text: string;
      try {
        text = await readBody(response);
      } catch (error) {
        throw new KubeApiError(
          `${describe(what)}: reading the API server's answer failed (${(error as Error).message})`,
          { ...what, statusCode: 0 },
          { cause: error },
        );
      } finally {
        done();
      }
      const status = response.statusCode ?? 0;
      const parsed: unknown = text ? safeParse(text) : undefined;
      if (status >= 200 && status < 300) return parsed as T;
      throw apiError(what, status, parsed as ApiStatus | undefined);
    },
  };
}

/** One HTTP exchange: resolves with the response head; the body is the caller's to read. */
function exchange(
  url: URL,
  options: {
    method: Method;
    headers: OutgoingHttpHeaders;
    agent: HttpAgent;
    signal: AbortSignal | undefined;
    isStream: boolean;
  },
  body: string | undefined,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: options.method,
      headers: options.headers,
      agent: options.agent,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!options.isStream) {
      request.setTimeout(REQUEST_IDLE_TIMEOUT_MS, () => {
        request.destroy(new Error(`no answer for ${REQUEST_IDLE_TIMEOUT_MS / 1000} s`));
      });
    }
    request.once('response', resolve);
    request.once('error', reject);
    request.end(body);
  });
}

/**
 * The body as text, decoded chunk by chunk into the JS heap: a list page of megabytes never also sits in one
 * concatenated Buffer outside it (malloc'd memory the process keeps long after the page is gone).
 */
async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk as string;
  return text;
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

/** The body's newline-delimited lines (watch events); `done` runs when the stream ends or is abandoned. */
async function* splitLines(body: IncomingMessage, done: () => void): AsyncIterable<string> {
  try {
    body.setEncoding('utf8');
    let buffered = '';
    for await (const chunk of body) {
      buffered += chunk as string;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield line;
        newline = buffered.indexOf('\n');
      }
    }
    const rest = buffered.trim();
    if (rest) yield rest;
  } finally {
    body.destroy();
    done();
  }
}
