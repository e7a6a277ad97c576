/**
 * Finalizer and status helpers with optimistic concurrency. Each write carries the resourceVersion it was
 * computed from; on 409 it re-reads the live object and recomputes, so a concurrent writer is never
 * overwritten (a merge patch of a list replaces the whole list).
 */
import type { KubeClient, KubeObject, ResourceKind } from './types.ts';
import { keyOf } from './keys.ts';
import { retryOnConflict } from './retry.ts';

export function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return object.metadata.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds `finalizer` unless present. Returns the updated object (or `object` when nothing changed, or
 * undefined when the object is gone). An object being deleted never gets a new finalizer (the apiserver
 * forbids it, and the cleanup path should run instead).
 */
export async function ensureFinalizer<T extends KubeObject>(
  client: KubeClient,
  kind: ResourceKind,
  object: T,
  finalizer: string,
): Promise<T | undefined> {
  return updateFinalizers(client, kind, object, (current) =>
    current.metadata.deletionTimestamp || hasFinalizer(current, finalizer)
      ? undefined
      : [...(current.metadata.finalizers ?? []), finalizer],
  );
}

/** Removes `finalizer` if present; same return contract as ensureFinalizer. */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  kind: ResourceKind,
  object: T,
  finalizer: string,
): Promise<T | undefined> {
  return updateFinalizers(client, kind, object, (current) =>
    hasFinalizer(current, finalizer) ? (current.metadata.finalizers ?? []).filter((f) => f !== finalizer) : undefined,
  );
}

async function updateFinalizers<T extends KubeObject>(
  client: KubeClient,
  kind: ResourceKind,
  object: T,
  next: (current: T) => string[] | undefined,
): Promise<T | undefined> {
  const key = keyOf(object);
  return retryOnConflict(async (attempt) => {
    // The first try trusts the caller's (cached) copy; after a conflict, read the live object.
    const current = attempt === 1 ? object : await client.get<T>(kind, key);
    if (!current) return undefined;
    const finalizers = next(current);
    if (!finalizers) return current;
    return client.mergePatch<T>(
      kind,
      key,
      { metadata: { finalizers } },
      current.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {},
    );
  });
}
