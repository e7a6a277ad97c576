/**
 * One copy of each repeated string in the caches. JSON.parse gives every value its own string, so 50,000 pods
 * on 5,000 nodes hold 50,000 copies of their node names, namespaces, zone labels and app labels; projections
 * (api/pod.ts, api/lean-objects.ts) pass such values through {@link internString} to share one.
 *
 * Process-wide, like V8's own string table, and bounded: when it holds {@link MAX_INTERNED_STRINGS} strings it
 * starts afresh (values already cached keep their copy; later ones are shared again), so values that turn out
 * unique (a StatefulSet pod's name label) never pile up. Interning only changes which copy an object holds,
 * never a value, so nothing can depend on it.
 */
export const MAX_INTERNED_STRINGS = 100_000;

let table = new Map<string, string>();

export function internString(value: string): string {
  const interned = table.get(value);
  if (interned !== undefined) return interned;
  if (table.size >= MAX_INTERNED_STRINGS) table = new Map();
  table.set(value, value);
  return value;
}
