/**
 * VLAN ids this process handed out that the cache may not show yet. Several workers allocate for
 * different pods on the same node at once; each reads its siblings' VLANs from the cache, which lags the
 * status writes of the others. Choosing and reserving happen in one synchronous step (no await between),
 * so two workers never pick the same id. A reservation ends when the cache confirms the VLAN in the
 * branch's status, when the branch is released, or — for a branch deleted behind our back — when it has
 * been missing from the cache for longer than any cache lag.
 */
import type { BranchInterface } from '../../api/types.ts';

/** A reservation whose branch the cache never showed is dropped after this long. */
export const UNCONFIRMED_RESERVATION_TTL_MS = 5 * 60_000;

interface Reservation {
  nodeName: string;
  vlanId: number;
  reservedAtMs: number;
}

export class VlanReservations {
  readonly #byBranchUid = new Map<string, Reservation>();

  reserve(branchUid: string, nodeName: string, vlanId: number, nowMs: number): void {
    this.#byBranchUid.set(branchUid, { nodeName, vlanId, reservedAtMs: nowMs });
  }

  release(branchUid: string): void {
    this.#byBranchUid.delete(branchUid);
  }

  /**
   * VLAN ids held on `nodeName` by branches other than `selfUid`: those the cache shows (`siblings`, the
   * node's BranchInterfaces) plus unconfirmed reservations.
   */
  inUse(nodeName: string, siblings: readonly BranchInterface[], selfUid: string, nowMs: number): Set<number> {
    const inUse = new Set<number>();
    const cachedByUid = new Map<string, BranchInterface>();
    for (const sibling of siblings) {
      const uid = sibling.metadata.uid ?? '';
      cachedByUid.set(uid, sibling);
      if (uid !== selfUid && sibling.status?.vlanId !== undefined) inUse.add(sibling.status.vlanId);
    }
    for (const [uid, reservation] of this.#byBranchUid) {
      if (reservation.nodeName !== nodeName || uid === selfUid) continue;
      const cached = cachedByUid.get(uid);
      if (cached?.status?.vlanId === reservation.vlanId) {
        this.#byBranchUid.delete(uid); // the cache has caught up
      } else if (!cached && nowMs - reservation.reservedAtMs > UNCONFIRMED_RESERVATION_TTL_MS) {
        this.#byBranchUid.delete(uid);
      } else {
        inUse.add(reservation.vlanId);
      }
    }
    return inUse;
  }
}
