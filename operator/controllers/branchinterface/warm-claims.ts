/**
 * Warm ENIs this process is handing over, until the caches show the outcome. The branch reconciler claims a
 * warm ENI for a new branch, and the WarmBranch reconciler retires warm ENIs (idle, over the limit, drained node)
 * — in different workers, each reading caches that lag the other's writes. Claiming and retiring are one
 * synchronous step each (no await between the check and the mark), so a warm ENI is never both given to a pod
 * and deleted, and never given to two pods. After a restart the caches are fresh lists of what was written, so
 * the in-memory marks are not needed there.
 */
export class WarmClaims {
  /** ENI id → UID of the BranchInterface taking it over. */
  readonly #claimedBy = new Map<string, string>();
  /** Claimed ENIs whose claimant's status already records them (the takeover's step 2 is done). */
  readonly #recorded = new Set<string>();
  readonly #retiring = new Set<string>();
  /**
   * ENI id → UID of its WarmBranch record this process already deleted, after handing the ENI over or releasing
   * it (the cache may still show the record, even as not being deleted).
   */
  readonly #dropped = new Map<string, string>();

  /** Marks the ENI as taken by `branchUid`; false when it is being retired or taken by another branch. */
  tryClaim(eniId: string, branchUid: string): boolean {
    if (this.#retiring.has(eniId)) return false;
    const claimant = this.#claimedBy.get(eniId);
    if (claimant !== undefined && claimant !== branchUid) return false;
    this.#claimedBy.set(eniId, branchUid);
    return true;
  }

  /** Undoes a claim whose status write failed (nothing recorded: the ENI is still warm). */
  unclaim(eniId: string, branchUid: string): void {
    if (this.#claimedBy.get(eniId) !== branchUid) return;
    this.#claimedBy.delete(eniId);
    this.#recorded.delete(eniId);
  }

  /** The claimant's status write succeeded: the ENI is the branch's now, and its warm record may go. */
  markRecorded(eniId: string, branchUid: string): void {
    if (this.#claimedBy.get(eniId) === branchUid) this.#recorded.add(eniId);
  }

  /** Claimed and recorded by the claimant's status (not merely claimed: that status write may still fail). */
  isRecorded(eniId: string): boolean {
    return this.#recorded.has(eniId);
  }

  claimantOf(eniId: string): string | undefined {
    return this.#claimedBy.get(eniId);
  }

  /** Marks the ENI as being released; false when a branch has claimed it. */
  tryRetire(eniId: string): boolean {
    if (this.#claimedBy.has(eniId)) return false;
    this.#retiring.add(eniId);
    return true;
  }

  endRetire(eniId: string): void {
    this.#retiring.delete(eniId);
  }

  markRecordDropped(eniId: string, warmUid: string): void {
    this.#dropped.set(eniId, warmUid);
  }

  isRecordDropped(eniId: string, warmUid: string): boolean {
    return this.#dropped.get(eniId) === warmUid;
  }

  /** Called when the cache no longer shows the WarmBranch (handed over or released): nothing left to guard. */
  forget(eniId: string): void {
    this.#claimedBy.delete(eniId);
    this.#recorded.delete(eniId);
    this.#retiring.delete(eniId);
    this.#dropped.delete(eniId);
  }

  claimedEniIds(): ReadonlySet<string> {
    return new Set(this.#claimedBy.keys());
  }

  retiringEniIds(): ReadonlySet<string> {
    return this.#retiring;
  }
}
