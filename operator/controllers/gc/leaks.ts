/**
 * Which ENIs are leaked: a pure decision over what EC2 reports and what the caches hold.
 *
 * The rules, and why they are this careful (EKS's controller once deleted the ENIs of live pods after
 * starting with a partial pod cache; docs/failure-model.md has the whole argument):
 * - Nothing is decided while the caches are not synced.
 * - An ENI's owner is read from its tags, not inferred: a branch ENI names its pod (namespace, name, UID)
 *   and a trunk ENI its instance. An ENI is kept while a cached BranchInterface, WarmBranch or TrunkInterface
 *   claims it: with warm reuse (docs/warm-branches.md#the-leak-sweeper) a branch ENI's tags name the pod it was created for,
 *   and the record that holds it now may be a WarmBranch or another pod's BranchInterface.
 * - A branch ENI whose owner is missing from the cache is only a *candidate*: the sweeper confirms, by pod
 *   UID, that neither a BranchInterface nor a pod with that UID exists in the API server before deleting
 *   anything (across all namespaces when the ENI's namespace tag is missing), and that no WarmBranch or
 *   BranchInterface there records the ENI itself.
 * - An ENI that nothing claims and that is `available` (not attached, not associated) is deleted only when
 *   it was also available on the previous sweep (two strikes), so an ENI between its create and its attach
 *   or association survives.
 */
import { TAG } from '../../api/constants.ts';
import type { BranchInterface, TrunkInterface } from '../../api/types.ts';
import type { NetworkInterface } from '../../aws/ec2-api.ts';

export type LeakReason =
  /** The pod named by the ENI's tags has no BranchInterface (confirm against the API server first). */
  | 'owner-missing'
  /** The BranchInterface of its pod records another ENI: a duplicate left by a crash. */
  | 'superseded'
  /** A trunk ENI no TrunkInterface claims, available on two sweeps (create succeeded, attach never did). */
  | 'orphan-trunk'
  /** Our ENI, unclaimed, available on two consecutive sweeps. */
  | 'available-twice';

export interface LeakCandidate {
  eni: NetworkInterface;
  reason: LeakReason;
  /** The owner to confirm absent from the API server before deleting (branch ENIs). */
  owner?: { namespace: string; name: string; podUid: string };
  /** Whether the ENI must be disassociated from its trunk before it can be deleted. */
  associatedTrunkEniId?: string;
}

export interface LeakSweepInput {
  /** ENIs carrying our owner and cluster tags, as EC2 reports them now. */
  enis: readonly NetworkInterface[];
  branches: readonly BranchInterface[];
  trunks: readonly TrunkInterface[];
  /**
   * ENIs recorded as warm (WarmBranch objects): kept associated for the node's next pod, never leaks. Like a
   * BranchInterface's status.eniId, the record says who holds the ENI; its tags name the pod it was made for.
   */
  warmEniIds: ReadonlySet<string>;
  /** ENI ids that were `available` and unclaimed on the previous sweep. */
  previouslyAvailable: ReadonlySet<string>;
  cachesSynced: boolean;
}

export interface LeakSweepDecision {
  candidates: LeakCandidate[];
  /** Unclaimed ENIs available now: the next sweep's `previouslyAvailable`. */
  availableNow: Set<string>;
  /**
   * Instances named by unclaimed available ENIs that no TrunkInterface names: if EC2 says such an instance
   * is gone, its ENIs are deleted at once (node termination), without waiting for a second strike.
   */
  instancesToVerify: Map<string, NetworkInterface[]>;
}

export function findLeakedEnis(input: LeakSweepInput): LeakSweepDecision {
  const decision: LeakSweepDecision = { candidates: [], availableNow: new Set(), instancesToVerify: new Map() };
  if (!input.cachesSynced) return decision;

  const branchByPodUid = new Map<string, BranchInterface>();
  const claimedEniIds = new Set<string>();
  for (const branch of input.branches) {
    branchByPodUid.set(branch.spec.podUid, branch);
    if (branch.status?.eniId) claimedEniIds.add(branch.status.eniId);
  }
  for (const eniId of input.warmEniIds) claimedEniIds.add(eniId);
  const managedInstanceIds = new Set<string>();
  for (const trunk of input.trunks) {
    if (trunk.status?.eniId) claimedEniIds.add(trunk.status.eniId);
    managedInstanceIds.add(trunk.spec.instanceId);
  }

  for (const eni of input.enis) {
    if (claimedEniIds.has(eni.id)) continue;
    const isAvailable = eni.status === 'available';
    const seenBefore = input.previouslyAvailable.has(eni.id);
    if (isAvailable) {
      decision.availableNow.add(eni.id);
      const instanceId = eni.tags[TAG.instanceId];
      if (instanceId !== undefined && !managedInstanceIds.has(instanceId)) {
        const enis = decision.instancesToVerify.get(instanceId) ?? [];
        enis.push(eni);
        decision.instancesToVerify.set(instanceId, enis);
      }
    }
    const podUid = eni.tags[TAG.podUid];
    const associatedTrunkEniId = isAvailable ? undefined : eni.tags[TAG.trunkEniId];

    if (podUid !== undefined) {
      const branch = branchByPodUid.get(podUid);
      if (branch === undefined) {
        decision.candidates.push({
          eni,
          reason: 'owner-missing',
          owner: { namespace: eni.tags[TAG.podNamespace] ?? '', name: eni.tags[TAG.podName] ?? '', podUid },
          ...(associatedTrunkEniId ? { associatedTrunkEniId } : {}),
        });
      } else if (branch.status?.eniId && isAvailable && seenBefore) {
        // The owner lives but records a different ENI: this one is a leftover duplicate.
        decision.candidates.push({ eni, reason: 'superseded' });
      }
      continue;
    }
    if (!isAvailable || !seenBefore) continue;
    decision.candidates.push({ eni, reason: eni.interfaceType === 'trunk' ? 'orphan-trunk' : 'available-twice' });
  }
  return decision;
}
