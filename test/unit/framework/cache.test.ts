import { describe, expect, test } from '@jest/globals';
import { ObjectStore, diffRelist, OWNER_UID_INDEX } from '../../../operator/framework/cache.ts';
import { keyOf } from '../../../operator/framework/keys.ts';
import type { KubeObject } from '../../../operator/framework/types.ts';

type Pod = KubeObject & { spec?: { nodeName?: string } };

function pod(name: string, rv: string, extra: { uid?: string; node?: string; ns?: string; owner?: string } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: extra.ns ?? 'ns',
      resourceVersion: rv,
      uid: extra.uid ?? `uid-${name}`,
      ...(extra.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: extra.owner }] } : {}),
    },
    ...(extra.node ? { spec: { nodeName: extra.node } } : {}),
  };
}

function summary(events: ReturnType<typeof diffRelist<Pod>>): string[] {
  return events.map((e) => `${e.type} ${keyOf(e.object)}@${e.object.metadata.resourceVersion}`);
}

describe('diffRelist', () => {
  test.each([
    ['empty cache, first list: all adds', [], [pod('a', '1'), pod('b', '1')], ['add ns/a@1', 'add ns/b@1']],
    ['nothing changed: no events', [pod('a', '1')], [pod('a', '1')], []],
    ['object gone while not watching: delete', [pod('a', '1'), pod('b', '1')], [pod('a', '1')], ['delete ns/b@1']],
    ['object changed: update', [pod('a', '1')], [pod('a', '2')], ['update ns/a@2']],
    [
      'object deleted and recreated under the same name: delete then add',
      [pod('a', '1', { uid: 'old' })],
      [pod('a', '5', { uid: 'new' })],
      ['delete ns/a@1', 'add ns/a@5'],
    ],
    ['everything deleted', [pod('a', '1'), pod('b', '2')], [], ['delete ns/a@1', 'delete ns/b@2']],
  ])('%s', (_name, cached, listed, expected) => {
    const map = new Map(cached.map((p) => [keyOf(p), p]));
    expect(summary(diffRelist(map, listed))).toEqual(expected);
  });
});

describe('ObjectStore', () => {
  test('replace applies a relist and the indexes follow', () => {
    const store = new ObjectStore<Pod>({ node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
    store.replace([
      pod('a', '1', { node: 'n1' }),
      pod('b', '1', { node: 'n1' }),
      pod('c', '1', { node: 'n2', ns: 'other' }),
    ]);
    expect(store.byIndex('node', 'n1').map(keyOf)).toEqual(['ns/a', 'ns/b']);
    expect(store.list('other').map(keyOf)).toEqual(['other/c']);

    const events = store.replace([pod('a', '2', { node: 'n2' }), pod('c', '1', { node: 'n2', ns: 'other' })]);
    expect(summary(events)).toEqual(['delete ns/b@1', 'update ns/a@2']);
    expect(store.byIndex('node', 'n1')).toEqual([]);
    expect(store.byIndex('node', 'n2').map(keyOf).sort()).toEqual(['ns/a', 'other/c']);
    expect(store.list('ns').map(keyOf)).toEqual(['ns/a']);
  });

  test('objects are indexed by owner uid and by namespace out of the box', () => {
    const store = new ObjectStore<Pod>();
    store.upsert(pod('a', '1', { owner: 'node-uid' }));
    store.upsert(pod('b', '1'));
    expect(store.byIndex(OWNER_UID_INDEX, 'node-uid').map(keyOf)).toEqual(['ns/a']);
    store.remove('ns/a');
    expect(store.byIndex(OWNER_UID_INDEX, 'node-uid')).toEqual([]);
    expect(store.list().map(keyOf)).toEqual(['ns/b']);
  });

  test('an index added later covers objects already cached', () => {
    const store = new ObjectStore<Pod>();
    store.upsert(pod('a', '1', { node: 'n1' }));
    store.addIndexer('node', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    expect(store.byIndex('node', 'n1').map(keyOf)).toEqual(['ns/a']);
  });

  test('asking for an undeclared index names it and the fix', () => {
    expect(() => new ObjectStore<Pod>().byIndex('node', 'n1')).toThrow(
      'no index "node"; declare it in InformerOptions.indexers',
    );
  });
});
