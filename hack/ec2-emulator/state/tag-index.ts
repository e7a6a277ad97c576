import type { Tags } from './model.ts';

/** key → value → ids: makes `tag:<key>=<value>` and `tag-key` filters index lookups instead of scans. */
export class TagIndex {
  readonly #byKey = new Map<string, Map<string, Set<string>>>();

  add(id: string, tags: Tags): void {
    for (const [key, value] of tags) this.#set(id, key, value);
  }

  remove(id: string, tags: Tags): void {
    for (const [key, value] of tags) this.#unset(id, key, value);
  }

  /** Sets one tag on a record, keeping the index in step. */
  put(id: string, tags: Tags, key: string, value: string): void {
    const previous = tags.get(key);
    if (previous !== undefined) this.#unset(id, key, previous);
    tags.set(key, value);
    this.#set(id, key, value);
  }

  delete(id: string, tags: Tags, key: string): void {
    const previous = tags.get(key);
    if (previous === undefined) return;
    this.#unset(id, key, previous);
    tags.delete(key);
  }

  /** Ids whose tag `key` equals one of `values` (exact values only); undefined = cannot answer (wildcards). */
  lookup(key: string, values: string[]): Set<string> | undefined {
    if (values.some((value) => /[*?\\]/.test(value))) return undefined;
    const byValue = this.#byKey.get(key);
    const out = new Set<string>();
    if (!byValue) return out;
    for (const value of values) for (const id of byValue.get(value) ?? []) out.add(id);
    return out;
  }

  withKey(key: string): Set<string> {
    const out = new Set<string>();
    for (const ids of this.#byKey.get(key)?.values() ?? []) for (const id of ids) out.add(id);
    return out;
  }

  clear(): void {
    this.#byKey.clear();
  }

  #set(id: string, key: string, value: string): void {
    let byValue = this.#byKey.get(key);
    if (!byValue) this.#byKey.set(key, (byValue = new Map()));
    let ids = byValue.get(value);
    if (!ids) byValue.set(value, (ids = new Set()));
    ids.add(id);
  }

  #unset(id: string, key: string, value: string): void {
    const byValue = this.#byKey.get(key);
    const ids = byValue?.get(value);
    if (!byValue || !ids) return;
    ids.delete(id);
    if (ids.size === 0) byValue.delete(value);
    if (byValue.size === 0) this.#byKey.delete(key);
  }
}
