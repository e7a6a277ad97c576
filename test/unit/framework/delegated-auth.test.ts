/**
 * The /metrics gate's decisions and its cache, with a fake API server that records what it was asked.
 */
import { describe, expect, test } from '@jest/globals';
import { FakeClock } from '../../../operator/framework/clock.ts';
import {
  bearerToken,
  createDelegatedAuth,
  SUBJECT_ACCESS_REVIEW_KIND,
  TOKEN_REVIEW_KIND,
} from '../../../operator/framework/delegated-auth.ts';
import type { KubeObject, ResourceKind } from '../../../operator/framework/types.ts';

interface FakeApi {
  tokens: Record<string, { username: string; groups?: string[]; uid?: string }>;
  allowed: Set<string>;
  calls: { kind: string; spec: unknown }[];
  failing?: Error;
}

function fakeClient(api: FakeApi) {
  return {
    create: async <T extends KubeObject>(kind: ResourceKind, object: T): Promise<T> => {
      const spec = (object as unknown as { spec: Record<string, unknown> }).spec;
      api.calls.push({ kind: kind.kind, spec });
      if (api.failing) throw api.failing;
      if (kind === TOKEN_REVIEW_KIND) {
        const user = api.tokens[spec.token as string];
        return { ...object, status: user ? { authenticated: true, user } : { authenticated: false } };
      }
      if (kind === SUBJECT_ACCESS_REVIEW_KIND) {
        return { ...object, status: { allowed: api.allowed.has(spec.user as string), reason: 'RBAC' } };
      }
      throw new Error(`unexpected kind ${kind.kind}`);
    },
  };
}

const request = (token?: string) => ({
  authorization: token === undefined ? undefined : `Bearer ${token}`,
  path: '/metrics',
  verb: 'get',
});

describe('bearerToken', () => {
  test.each([
    ['Bearer abc.def', 'abc.def'],
    ['bearer abc', 'abc'],
    ['Basic dXNlcg==', undefined],
    ['Bearer', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('createDelegatedAuth', () => {
  const prometheus = {
    username: 'system:serviceaccount:monitoring:prometheus',
    groups: ['system:serviceaccounts'],
    uid: 'u1',
  };

  test('allowed: the TokenReview user, with groups and uid, is asked about get /metrics', async () => {
    const api: FakeApi = { tokens: { t1: prometheus }, allowed: new Set([prometheus.username]), calls: [] };
    const auth = createDelegatedAuth({ client: fakeClient(api), clock: new FakeClock() });
    expect(await auth.check(request('t1'))).toEqual({ allowed: true, user: prometheus.username });
    expect(api.calls).toEqual([
      { kind: 'TokenReview', spec: { token: 't1' } },
      {
        kind: 'SubjectAccessReview',
        spec: {
          user: prometheus.username,
          uid: 'u1',
          groups: ['system:serviceaccounts'],
          nonResourceAttributes: { path: '/metrics', verb: 'get' },
        },
      },
    ]);
  });

  test('401 without a bearer token (no API call) or with one the API server rejects; 403 without RBAC', async () => {
    const api: FakeApi = { tokens: { t1: prometheus }, allowed: new Set(), calls: [] };
    const auth = createDelegatedAuth({ client: fakeClient(api), clock: new FakeClock() });
    expect(await auth.check(request())).toMatchObject({ allowed: false, status: 401 });
    expect(api.calls).toEqual([]);
    expect(await auth.check(request('forged'))).toEqual({
      allowed: false,
      status: 401,
      reason: 'the API server did not accept the bearer token',
    });
    expect(await auth.check(request('t1'))).toEqual({
      allowed: false,
      status: 403,
      reason: `${prometheus.username} may not get /metrics: bind it to the metrics-reader ClusterRole (RBAC)`,
    });
  });

  test('an API failure is a 500 naming the review, not a denial that gets cached', async () => {
    const api: FakeApi = {
      tokens: { t1: prometheus },
      allowed: new Set([prometheus.username]),
      calls: [],
      failing: new Error('connection refused'),
    };
    const auth = createDelegatedAuth({ client: fakeClient(api), clock: new FakeClock() });
    expect(await auth.check(request('t1'))).toEqual({
      allowed: false,
      status: 500,
      reason: 'TokenReview failed: connection refused',
    });
    delete api.failing;
    expect(await auth.check(request('t1'))).toMatchObject({ allowed: true });
  });

  test('answers are cached: an allowance for its TTL, a denial for the shorter one', async () => {
    const clock = new FakeClock();
    const api: FakeApi = { tokens: { t1: prometheus }, allowed: new Set(), calls: [] };
    const auth = createDelegatedAuth({ client: fakeClient(api), clock, allowedTtlMs: 60_000, deniedTtlMs: 10_000 });
    await auth.check(request('t1'));
    api.allowed.add(prometheus.username);
    expect(await auth.check(request('t1'))).toMatchObject({ status: 403 }); // cached denial
    clock.advance(10_000);
    expect(await auth.check(request('t1'))).toMatchObject({ allowed: true }); // denial expired, asked again
    api.allowed.clear();
    clock.advance(59_000);
    expect(await auth.check(request('t1'))).toMatchObject({ allowed: true }); // cached allowance
    clock.advance(1_000);
    expect(await auth.check(request('t1'))).toMatchObject({ status: 403 });
    expect(api.calls.filter((call) => call.kind === 'SubjectAccessReview')).toHaveLength(3);
  });
});
