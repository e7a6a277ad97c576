/**
 * Pending → Creating: a VLAN id on the node's trunk, under the node's branch capacity. The choice is made
 * and reserved synchronously (see vlan-reservations.ts) and written to status before any EC2 call, so the
 * VLAN in the ENI's tags and in the association is the one status records.
 */
import type { BranchInterface } from '../../api/types.ts';
import type { VlanAllocation } from './vlan.ts';
import { allocateVlan } from './vlan.ts';
import type { VlanReservations } from './vlan-reservations.ts';

export function allocateVlanForBranch(
  branch: BranchInterface,
  siblings: readonly BranchInterface[],
  capacity: number,
  reservations: VlanReservations,
  nowMs: number,
  /** VLANs held by ENIs no BranchInterface records (pods another controller wired, not adopted yet). */
  foreign: ReadonlySet<number> = new Set(),
): VlanAllocation {
  const uid = branch.metadata.uid ?? '';
  const inUse = reservations.inUse(branch.spec.nodeName, siblings, uid, nowMs);
  for (const vlan of foreign) inUse.add(vlan);
  const allocation = allocateVlan(inUse, capacity);
  if (allocation.outcome === 'allocated') reservations.reserve(uid, branch.spec.nodeName, allocation.vlanId, nowMs);
  return allocation;
}
