/**
 * The status this process wrote last, per object, until the informer cache shows it.
 *
 * Where status is the checkpoint of EC2 steps (a branch's VLAN, ENI id and association; a trunk's ENI and the
 * groups it carries), the next step is planned from it. The cache lags our own writes by a few milliseconds; a
 * reconcile in that window would plan from the older status and, for example, create an ENI or change a trunk's
 * groups a second time. ClientTokens make EC2 answer a repeated create with the first ENI, but we do not lean on
 * that alone: the reconciler reads status through here. Only the object's own controller writes its status, so
 * a cached status that differs from the one remembered is simply behind.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ObjectMeta } from './meta.ts';

interface WithStatus<S> {
  metadata: ObjectMeta;
  status?: S;
}

function normalized(status: unknown): unknown {
  return JSON.parse(JSON.stringify(status ?? {}));
}

export class StatusCheckpoints<T extends WithStatus<object>> {
  readonly #byKey = new Map<string, { uid: string | undefined; status: NonNullable<T['status']> | undefined }>();

  /** Records the status just written (the API server's answer to the status patch). */
  remember(key: string, object: T): void {
    this.#byKey.set(key, { uid: object.metadata.uid, status: object.status });
  }

  /** The cached object with the newest status known to this process. */
  effective(key: string, cached: T): T {
    const entry = this.#byKey.get(key);
    if (!entry) return cached;
    if (entry.uid !== cached.metadata.uid || isDeepStrictEqual(normalized(cached.status), normalized(entry.status))) {
      this.#byKey.delete(key);
      return cached;
    }
    return { ...cached, status: entry.status };
  }

  forget(key: string): void {
    this.#byKey.delete(key);
  }

  get size(): number {
    return this.#byKey.size;
  }
}
