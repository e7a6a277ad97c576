/**
 * DescribeSecurityGroups with a short per-group cache. Many policies name the same few groups, and a
 * policy is re-checked on every pod change in its namespace (for its matched-pod count), so without a
 * cache the EC2 call rate would follow pod churn. Ids are looked up without a VPC filter, so a group in the
 * wrong VPC can be told apart from a group that does not exist.
 */
import type { Ec2Api, SecurityGroup } from '../../aws/index.ts';
import type { Clock } from '../../framework/types.ts';

/** How long an answer (found or missing) is trusted. */
export const GROUP_CACHE_TTL_MS = 30_000;

export class SecurityGroupLookup {
  readonly #ec2: Ec2Api;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { group: SecurityGroup | undefined; atMs: number }>();

  constructor(ec2: Ec2Api, clock: Clock, ttlMs: number = GROUP_CACHE_TTL_MS) {
    this.#ec2 = ec2;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** The groups among `groupIds` that exist (in any VPC). Throws the port's Ec2Error on failure. */
  async find(groupIds: readonly string[], signal?: AbortSignal): Promise<SecurityGroup[]> {
    const nowMs = this.#clock.now();
    const stale = groupIds.filter((id) => {
      const entry = this.#cache.get(id);
      return !entry || nowMs - entry.atMs >= this.#ttlMs;
    });
    if (stale.length > 0) {
      const found = await this.#ec2.describeSecurityGroups([...new Set(stale)], undefined, {
        signal,
        priority: 'normal',
      });
      const byId = new Map(found.map((group) => [group.id, group]));
      for (const id of stale) this.#cache.set(id, { group: byId.get(id), atMs: nowMs });
    }
    return groupIds.flatMap((id) => {
      const group = this.#cache.get(id)?.group;
      return group ? [group] : [];
    });
  }

  /** Drops every cached answer older than the TTL (bounded memory for groups no policy names any more). */
  prune(): void {
    const nowMs = this.#clock.now();
    for (const [id, entry] of this.#cache) if (nowMs - entry.atMs >= this.#ttlMs) this.#cache.delete(id);
  }
}
