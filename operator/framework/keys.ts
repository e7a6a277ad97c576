/** Cache keys as client-go writes them: "namespace/name", or "name" for cluster-scoped objects. */
import type { KubeObject, ObjectKey } from './types.ts';

export function keyOf(object: Pick<KubeObject, 'metadata'>): ObjectKey {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

export function keyFor(namespace: string | undefined, name: string): ObjectKey {
  return namespace ? `${namespace}/${name}` : name;
}

/** Inverse of keyOf: `namespace` is undefined for a cluster-scoped key. */
export function splitKey(key: ObjectKey): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
