/**
 * The status this process wrote last, per BranchInterface, until the informer cache shows it.
 *
 * Status is the checkpoint of every EC2 step (VLAN, ENI id, association), and the next step is planned from
 * it. The cache lags our own writes by a few milliseconds; a reconcile in that window would plan from the
 * older status and, for example, create an ENI a second time. ClientTokens make EC2 answer such a repeat
 * with the first ENI, but we do not lean on that alone: the reconciler reads status through here. Only
 * this controller writes BranchInterface status, so a cached status that differs from the one remembered
 * is simply behind.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BranchInterface } from '../../api/types.ts';

type BranchStatus = NonNullable<BranchInterface['status']>;

function normalized(status: BranchStatus | undefined): unknown {
  return JSON.parse(JSON.stringify(status ?? {}));
}

export class StatusCheckpoints {
  readonly #byKey = new Map<string, { uid: string | undefined; status: BranchStatus }>();

  /** Records the status just written (the API server's answer to the status patch). */
  remember(key: string, branch: BranchInterface): void {
    this.#byKey.set(key, { uid: branch.metadata.uid, status: branch.status ?? {} });
  }

  /** The cached branch with the newest status known to this process. */
  effective(key: string, cached: BranchInterface): BranchInterface {
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
