import { describe, expect, test } from '@jest/globals';
import { KubeConflictError } from '../../../operator/framework/errors.ts';
import { ensureFinalizer, removeFinalizer } from '../../../operator/framework/finalizers.ts';
import { patchStatusIfChanged, statusMergePatch } from '../../../operator/framework/status.ts';
import type { KubeClient, KubeObject, ResourceKind } from '../../../operator/framework/types.ts';

const KIND: ResourceKind = { group: 'example.io', version: 'v1', kind: 'Thing', plural: 'things', namespaced: true };
type Thing = KubeObject & { status?: { phase?: string; ids?: string[] } };

/** An in-memory object with resourceVersion preconditions, recording writes; optionally conflicts N times. */
function fakeClient(initial: Thing, conflicts = 0) {
  let live: Thing = structuredClone(initial);
  let conflictsLeft = conflicts;
  const writes: { kind: 'patch' | 'status'; body: object; resourceVersion?: string }[] = [];
  const bump = () => {
    live.metadata.resourceVersion = String(Number(live.metadata.resourceVersion) + 1);
  };
  const check = (rv?: string) => {
    if (conflictsLeft > 0) {
      conflictsLeft--;
      bump(); // someone else wrote meanwhile
      throw new KubeConflictError('conflict', { kind: KIND, key: 'ns/t', statusCode: 409 });
    }
    if (rv && rv !== live.metadata.resourceVersion)
      throw new KubeConflictError('conflict', { kind: KIND, statusCode: 409 });
  };
  const client = {
    get: async () => structuredClone(live),
    mergePatch: async (
      _k: ResourceKind,
      _key: string,
      body: { metadata?: { finalizers?: string[] } },
      o?: { resourceVersion?: string },
    ) => {
      writes.push({ kind: 'patch', body, ...(o?.resourceVersion ? { resourceVersion: o.resourceVersion } : {}) });
      check(o?.resourceVersion);
      live = {
        ...live,
        metadata: { ...live.metadata, ...(body.metadata?.finalizers ? { finalizers: body.metadata.finalizers } : {}) },
      };
      bump();
      return structuredClone(live);
    },
    mergePatchStatus: async (
      _k: ResourceKind,
      _key: string,
      status: Thing['status'],
      o?: { resourceVersion?: string },
    ) => {
      writes.push({
        kind: 'status',
        body: status ?? {},
        ...(o?.resourceVersion ? { resourceVersion: o.resourceVersion } : {}),
      });
      check(o?.resourceVersion);
      live = { ...live, status: { ...live.status, ...status } };
      bump();
      return structuredClone(live);
    },
  } as unknown as KubeClient;
  return { client, writes, live: () => live };
}

const thing = (status?: Thing['status'], finalizers?: string[]): Thing => ({
  metadata: { name: 't', namespace: 'ns', resourceVersion: '10', ...(finalizers ? { finalizers } : {}) },
  ...(status ? { status } : {}),
});

describe('patchStatusIfChanged', () => {
  test('an equal status costs no write', async () => {
    const { client, writes } = fakeClient(thing({ phase: 'Ready', ids: ['a'] }));
    await patchStatusIfChanged(client, KIND, thing({ phase: 'Ready', ids: ['a'] }), { phase: 'Ready', ids: ['a'] });
    expect(writes).toEqual([]);
  });

  test('a changed status is patched once with the resourceVersion it was computed from', async () => {
    const { client, writes } = fakeClient(thing({ phase: 'Pending' }));
    await patchStatusIfChanged(client, KIND, thing({ phase: 'Pending' }), { phase: 'Ready' });
    expect(writes).toEqual([{ kind: 'status', body: { phase: 'Ready' }, resourceVersion: '10' }]);
  });

  test('on conflict it re-reads and retries with the new resourceVersion', async () => {
    const { client, writes } = fakeClient(thing({ phase: 'Pending' }), 1);
    const updated = await patchStatusIfChanged(client, KIND, thing({ phase: 'Pending' }), { phase: 'Ready' });
    expect(writes.map((w) => w.resourceVersion)).toEqual(['10', '11']);
    expect(updated?.status).toEqual({ phase: 'Ready' });
  });

  test('the merge patch removes fields the desired status no longer has', () => {
    expect(statusMergePatch({ phase: 'Ready', ids: ['a'] }, { phase: 'Ready' })).toEqual({ phase: 'Ready', ids: null });
  });
});

describe('finalizers', () => {
  test('ensureFinalizer appends once and keeps other finalizers', async () => {
    const { client, writes, live } = fakeClient(thing(undefined, ['other/keep']));
    await ensureFinalizer(client, KIND, thing(undefined, ['other/keep']), 'sgp/x');
    await ensureFinalizer(client, KIND, live(), 'sgp/x');
    expect(writes).toEqual([
      { kind: 'patch', body: { metadata: { finalizers: ['other/keep', 'sgp/x'] } }, resourceVersion: '10' },
    ]);
  });

  test('removeFinalizer retries on conflict against the live list', async () => {
    const { client, writes, live } = fakeClient(thing(undefined, ['sgp/x', 'other/keep']), 2);
    await removeFinalizer(client, KIND, thing(undefined, ['sgp/x', 'other/keep']), 'sgp/x');
    expect(writes).toHaveLength(3);
    expect(live().metadata.finalizers).toEqual(['other/keep']);
  });
});
