/**
 * Pending → Reusing: a new branch takes over a warm ENI on its node (docs/warm-branches.md#who-owns-the-eni-at-each-instant).
 *
 * The handover, in the order that keeps one owner at every instant:
 * 1. the claim is marked in this process (WarmClaims: never two claimants, never claimed while being retired);
 * 2. the branch's status records the ENI, its VLAN and `reusedFrom` — from here the branch owns the ENI, and
 *    every other reader (another branch, the WarmBranch reconciler, the leak sweeper after a restart) sees a
 *    BranchInterface recording it; the claim is marked recorded;
 * 3. the WarmBranch reconciler, woken by that status, deletes the WarmBranch record (finalizer first, so the
 *    deletion never reads as "release the ENI"). It does so off the pod's path: until then the record names an
 *    ENI a branch records, which no reader hands out or releases.
 * Meanwhile the usual plan runs: ModifyNetworkInterfaceAttribute when the groups differ, and only then the
 * pod's annotation. A crash after 2 leaves the record for the next process's WarmBranch reconciler, which
 * finds the branch recording the ENI in its cache and drops it.
 */
import { WARM_BRANCH_FINALIZER } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { WarmBranch } from '../../api/types.ts';
import { withContext } from '../../errors.ts';
import { isNotFound, removeFinalizer } from '../../framework/index.ts';
import type { KubeClient } from '../../framework/types.ts';
import type { BranchStatus } from './step.ts';

/**
 * The status that records the takeover: every fact the annotation needs, plus where it came from. When the
 * pod wants other groups, the groups are recorded as unknown (`[]`) at once: the modify that follows then
 * needs no status write of its own first, and a crash before it leaves nothing that claims the old groups.
 */
export function reuseStatus(warm: WarmBranch, securityGroups: readonly string[]): Partial<BranchStatus> {
  const spec = warm.spec;
  return {
    phase: 'Reusing',
    reusedFrom: warm.metadata.name,
    eniId: spec.eniId,
    vlanId: spec.vlanId,
    trunkEniId: spec.trunkEniId,
    associationId: spec.associationId,
    macAddress: spec.macAddress,
    ...(spec.privateIp ? { privateIp: spec.privateIp } : {}),
    ...(spec.ipv6Address ? { ipv6Address: spec.ipv6Address } : {}),
    ...(spec.subnetId ? { subnetId: spec.subnetId } : {}),
    ...(spec.subnetCidr !== undefined ? { subnetCidr: spec.subnetCidr } : {}),
    ...(spec.subnetV6Cidr !== undefined ? { subnetV6Cidr: spec.subnetV6Cidr } : {}),
    appliedSecurityGroups: sameList([...spec.securityGroups].sort(), securityGroups) ? [...spec.securityGroups] : [],
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/**
 * Deletes a WarmBranch record without releasing its ENI (the ENI belongs to a branch now): the finalizer goes
 * first, so the object vanishes at once instead of lingering as "being deleted" (which means "release the ENI").
 * Gone already counts as done.
 */
export async function dropWarmRecord(client: KubeClient, warm: WarmBranch): Promise<void> {
  try {
    await removeFinalizer(client, Kinds.WarmBranch, warm, WARM_BRANCH_FINALIZER);
    await client.delete(Kinds.WarmBranch, warm.metadata.name, warm.metadata.uid ? { uid: warm.metadata.uid } : {});
  } catch (error) {
    if (isNotFound(error)) return;
    throw withContext(`dropping warm branch record ${warm.metadata.name}`, error);
  }
}
