/**
 * Claims on ENIs read live from the API server, once per sweep and only when a sweep has candidates. A branch
 * ENI's tags name the pod it was created for; with warm reuse (docs/warm-branches.md#the-leak-sweeper) it may since have been
 * parked as a WarmBranch or taken over by another pod's BranchInterface, and during a handover the informer
 * caches of the two kinds may each show the older side. Before deleting an ENI whose tagged owner is gone, the
 * sweeper asks the API server itself whether any record holds that ENI id.
 */
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, WarmBranch } from '../../api/types.ts';
import type { KubeClient } from '../../framework/types.ts';

export class LiveEniClaims {
  readonly #client: KubeClient;
  #branchEniIds: Promise<Set<string>> | undefined;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** Whether a WarmBranch (named as the ENI) or any BranchInterface (status.eniId) holds `eniId` now. */
  async isClaimed(eniId: string): Promise<boolean> {
    if ((await this.#client.get<WarmBranch>(Kinds.WarmBranch, eniId)) !== undefined) return true;
    this.#branchEniIds ??= this.#client
      .list<BranchInterface>(Kinds.BranchInterface)
      .then((branches) => new Set(branches.flatMap((branch) => (branch.status?.eniId ? [branch.status.eniId] : []))));
    return (await this.#branchEniIds).has(eniId);
  }
}
