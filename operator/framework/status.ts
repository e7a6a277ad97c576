/** Patch status once, only if it changed, with a resourceVersion precondition and retry on conflict. */
import { isDeepStrictEqual } from 'node:util';
import type { KubeClient, KubeObject, ResourceKind } from './types.ts';
import { keyOf } from './keys.ts';
import { retryOnConflict } from './retry.ts';

/**
 * Writes `status` (the whole desired status, not a delta) unless the object already has it. Returns the
 * updated object, `object` unchanged when equal, or undefined when the object is gone. On 409 it re-reads
 * the live object and compares again, so an equal status written meanwhile costs no second patch.
 * Fields absent from `status` but present on the object are removed (merge patch with null).
 */
export async function patchStatusIfChanged<T extends KubeObject & { status?: object }>(
  client: KubeClient,
  kind: ResourceKind,
  object: T,
  status: NonNullable<T['status']>,
): Promise<T | undefined> {
  const key = keyOf(object);
  return retryOnConflict(async (attempt) => {
    const current = attempt === 1 ? object : await client.get<T>(kind, key);
    if (!current) return undefined;
    if (isDeepStrictEqual(stripUndefined(current.status ?? {}), stripUndefined(status))) return current;
    return client.mergePatchStatus<T>(
      kind,
      key,
      statusMergePatch(current.status ?? {}, status),
      current.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {},
    );
  });
}

/** The merge patch turning `current` into `desired` at the top level: changed keys set, dropped keys null. */
export function statusMergePatch(current: object, desired: object): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...stripUndefined(desired) };
  for (const field of Object.keys(current)) {
    if (!(field in patch)) patch[field] = null;
  }
  return patch;
}

function stripUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
