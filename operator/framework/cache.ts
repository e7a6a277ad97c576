/**
 * The informer's in-memory store: objects by key plus secondary indexes. The class only does map
 * bookkeeping (no I/O, no timers), so tests exercise it without a server; `diffRelist` is the pure step
 * that turns a fresh list into add/update/delete events, which is how deletes missed while a watch was
 * down are still observed.
 */
import { keyOf } from './keys.ts';
import type { KubeObject, ObjectKey, WatchEvent } from './types.ts';

export type IndexFunc<T> = (object: T) => string[];

/** Built-in indexes every store keeps. */
export const NAMESPACE_INDEX = 'namespace';
/** Objects by the uid of each of their ownerReferences. */
export const OWNER_UID_INDEX = 'owner';

export function builtInIndexers<T extends KubeObject>(): Record<string, IndexFunc<T>> {
  return {
    [NAMESPACE_INDEX]: (o) => (o.metadata.namespace ? [o.metadata.namespace] : []),
    [OWNER_UID_INDEX]: (o) => (o.metadata.ownerReferences ?? []).map((ref) => ref.uid),
  };
}

export class ObjectStore<T extends KubeObject> {
  readonly #items = new Map<ObjectKey, T>();
  readonly #indexers: Record<string, IndexFunc<T>>;
  /** index name → indexed value → keys */
  readonly #indices = new Map<string, Map<string, Set<ObjectKey>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.#indexers = { ...builtInIndexers<T>(), ...indexers };
    for (const name of Object.keys(this.#indexers)) this.#indices.set(name, new Map());
  }

  /** Adds (or replaces) an index and files every cached object under it. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers[name] === fn) return;
    this.#indexers[name] = fn;
    const index = new Map<string, Set<ObjectKey>>();
    this.#indices.set(name, index);
    for (const [key, object] of this.#items) {
      for (const value of fn(object)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: ObjectKey): T | undefined {
    return this.#items.get(key);
  }

  keys(): IterableIterator<ObjectKey> {
    return this.#items.keys();
  }

  list(namespace?: string): readonly T[] {
    if (namespace === undefined) return [...this.#items.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(indexName: string, value: string): readonly T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`no index "${indexName}"; declare it in InformerOptions.indexers`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const item = this.#items.get(key);
      if (item) out.push(item);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(object: T): T | undefined {
    const key = keyOf(object);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, object);
    this.#index(key, object);
    return old;
  }

  /** Removes; returns the removed object. */
  remove(key: ObjectKey): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  /** Applies a full relist: returns the events it implies, in order deletes, adds, updates. */
  replace(listed: readonly T[]): WatchEvent<T>[] {
    const events = diffRelist(this.#items, listed);
    for (const event of events) {
      if (event.type === 'delete') this.remove(keyOf(event.object));
      else this.upsert(event.object);
    }
    return events;
  }

  #index(key: ObjectKey, object: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const index = this.#indices.get(name);
      if (!index) continue;
      for (const value of fn(object)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  #unindex(key: ObjectKey, object: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const index = this.#indices.get(name);
      if (!index) continue;
      for (const value of fn(object)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

/**
 * What a relist means relative to the cache: objects no longer listed were deleted while we were not
 * watching; new keys are adds; listed objects whose resourceVersion moved are updates (an unchanged
 * resourceVersion is the same object and emits nothing). A key whose uid changed was deleted and
 * recreated, which is reported as a delete followed by an add.
 */
export function diffRelist<T extends KubeObject>(
  cached: ReadonlyMap<ObjectKey, T>,
  listed: readonly T[],
): WatchEvent<T>[] {
  const deletes: WatchEvent<T>[] = [];
  const adds: WatchEvent<T>[] = [];
  const updates: WatchEvent<T>[] = [];
  const listedKeys = new Set<ObjectKey>();
  for (const object of listed) {
    const key = keyOf(object);
    listedKeys.add(key);
    const old = cached.get(key);
    if (!old) {
      adds.push({ type: 'add', object });
    } else if (old.metadata.uid && object.metadata.uid && old.metadata.uid !== object.metadata.uid) {
      deletes.push({ type: 'delete', object: old });
      adds.push({ type: 'add', object });
    } else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
      updates.push({ type: 'update', object, oldObject: old });
    }
  }
  for (const [key, old] of cached) {
    if (!listedKeys.has(key)) deletes.push({ type: 'delete', object: old });
  }
  return [...deletes, ...adds, ...updates];
}
