/**
 * Authentication and authorization delegated to the API server, as controller-runtime's
 * `filters.WithAuthenticationAndAuthorization` (and kube-rbac-proxy before it) do for /metrics: the bearer
 * token is checked with a TokenReview, and the user it names must be allowed the request's verb on its path
 * as a non-resource URL (a SubjectAccessReview), which RBAC grants with
 * `nonResourceURLs: ["/metrics"], verbs: ["get"]`. The operator's ServiceAccount needs `create` on
 * tokenreviews and subjectaccessreviews (config/rbac/metrics_auth_role.yaml).
 *
 * Answers are cached, keyed by a hash of the token (never the token itself), so a scrape every few seconds
 * costs the API server two calls a minute: an authenticated user and an allowance for a minute, a denial
 * for ten seconds (a binding just added takes effect quickly). The cache is bounded.
 */
import { createHash } from 'node:crypto';
import type { Clock, KubeClient, KubeObject, ResourceKind } from './types.ts';

export const TOKEN_REVIEW_KIND: ResourceKind = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenReview',
  plural: 'tokenreviews',
  namespaced: false,
};
export const SUBJECT_ACCESS_REVIEW_KIND: ResourceKind = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SubjectAccessReview',
  plural: 'subjectaccessreviews',
  namespaced: false,
};

export interface AccessRequest {
  /** The Authorization header as received, if any. */
  authorization: string | undefined;
  /** Non-resource URL path, e.g. /metrics. */
  path: string;
  /** Kubernetes verb for the HTTP method (GET → get). */
  verb: string;
}

export type AccessDecision =
  { allowed: true; user: string } | { allowed: false; status: 401 | 403 | 500; reason: string };

export interface DelegatedAuthOptions {
  client: Pick<KubeClient, 'create'>;
  clock: Clock;
  authenticatedTtlMs?: number;
  allowedTtlMs?: number;
  deniedTtlMs?: number;
  /** Entries kept per cache; the oldest goes first. */
  maxEntries?: number;
}

export const DEFAULT_AUTHENTICATED_TTL_MS = 60_000;
export const DEFAULT_ALLOWED_TTL_MS = 60_000;
export const DEFAULT_DENIED_TTL_MS = 10_000;
const DEFAULT_MAX_ENTRIES = 256;

interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}
interface TokenReview extends KubeObject {
  spec: { token: string };
  status?: { authenticated?: boolean; user?: UserInfo; error?: string };
}
interface SubjectAccessReview extends KubeObject {
  spec: UserReviewFields & { nonResourceAttributes: { path: string; verb: string } };
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}
type UserReviewFields = { user: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };

/** Parses `Bearer <token>`; undefined for anything else (pure). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export interface DelegatedAuth {
  check(request: AccessRequest): Promise<AccessDecision>;
}

export function createDelegatedAuth(options: DelegatedAuthOptions): DelegatedAuth {
  const authenticatedTtlMs = options.authenticatedTtlMs ?? DEFAULT_AUTHENTICATED_TTL_MS;
  const allowedTtlMs = options.allowedTtlMs ?? DEFAULT_ALLOWED_TTL_MS;
  const deniedTtlMs = options.deniedTtlMs ?? DEFAULT_DENIED_TTL_MS;
  const users = new TtlCache<UserInfo | undefined>(options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  const verdicts = new TtlCache<{ allowed: boolean; reason: string }>(options.maxEntries ?? DEFAULT_MAX_ENTRIES);

  const authenticate = async (token: string, tokenHash: string): Promise<UserInfo | undefined> => {
    const nowMs = options.clock.now();
    const cached = users.get(tokenHash, nowMs);
    if (cached) return cached.value;
    const review = await options.client.create<TokenReview>(TOKEN_REVIEW_KIND, {
      metadata: { name: '' },
      spec: { token },
    });
    const user = review.status?.authenticated ? review.status.user : undefined;
    users.set(tokenHash, user, nowMs + (user ? authenticatedTtlMs : deniedTtlMs));
    return user;
  };

  const authorize = async (user: UserInfo, request: AccessRequest): Promise<{ allowed: boolean; reason: string }> => {
    const nowMs = options.clock.now();
    const cacheKey = JSON.stringify([user.username, user.uid, user.groups, request.path, request.verb]);
    const cached = verdicts.get(cacheKey, nowMs);
    if (cached) return cached.value;
    const review = await options.client.create<SubjectAccessReview>(SUBJECT_ACCESS_REVIEW_KIND, {
      metadata: { name: '' },
      spec: {
        user: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.groups ? { groups: user.groups } : {}),
        ...(user.extra ? { extra: user.extra } : {}),
        nonResourceAttributes: { path: request.path, verb: request.verb },
      },
    });
    const verdict = { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
    verdicts.set(cacheKey, verdict, nowMs + (verdict.allowed ? allowedTtlMs : deniedTtlMs));
    return verdict;
  };

  return {
    async check(request) {
      const token = bearerToken(request.authorization);
      if (token === undefined) {
        return { allowed: false, status: 401, reason: 'send a ServiceAccount token: Authorization: Bearer <token>' };
      }
      const tokenHash = createHash('sha256').update(token).digest('hex');
      let user: UserInfo | undefined;
      try {
        user = await authenticate(token, tokenHash);
      } catch (error) {
        return { allowed: false, status: 500, reason: `TokenReview failed: ${(error as Error).message}` };
      }
      if (!user) return { allowed: false, status: 401, reason: 'the API server did not accept the bearer token' };
      let verdict: { allowed: boolean; reason: string };
      try {
        verdict = await authorize(user, request);
      } catch (error) {
        return { allowed: false, status: 500, reason: `SubjectAccessReview failed: ${(error as Error).message}` };
      }
      if (!verdict.allowed) {
        return {
          allowed: false,
          status: 403,
          reason:
            `${user.username} may not ${request.verb} ${request.path}: bind it to the metrics-reader ClusterRole` +
            (verdict.reason ? ` (${verdict.reason})` : ''),
        };
      }
      return { allowed: true, user: user.username };
    },
  };
}

/** A small map with per-entry expiry, bounded by dropping the oldest insertion. */
class TtlCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAtMs: number }>();
  readonly #maxEntries: number;
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }
  get(key: string, nowMs: number): { value: T } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: entry.value };
  }
  set(key: string, value: T, expiresAtMs: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
