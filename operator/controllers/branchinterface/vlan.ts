/**
 * VLAN ids and node capacity for branch ENIs on one trunk, as pure functions. Each branch on a trunk needs
 * its own VLAN id in 1..120 (the VPC CNI builds `vlan.eth.<id>` and route table `<id>+100` from it), and
 * the number of branches holding an ENI — in use or cooling down — must stay below the node's branch limit
 * (docs/lifecycle.md#the-cooldown: cooling-down ENIs count, or a burst of deletions would overrun the limit).
 */
import { MAX_VLAN_ID, MIN_VLAN_ID } from '../../api/constants.ts';

/** The lowest VLAN id in MIN_VLAN_ID..limit not in `inUse`, or undefined when every id is taken. */
export function chooseVlan(inUse: Iterable<number>, limit: number = MAX_VLAN_ID): number | undefined {
  const taken = new Set(inUse);
  const highest = Math.min(limit, MAX_VLAN_ID);
  for (let vlan = MIN_VLAN_ID; vlan <= highest; vlan++) {
    if (!taken.has(vlan)) return vlan;
  }
  return undefined;
}

export type VlanAllocation =
  | { outcome: 'allocated'; vlanId: number }
  /** Branches holding an ENI on the node already reach its limit; wait for one to be released. */
  | { outcome: 'at-capacity'; holding: number; capacity: number }
  /** Below capacity, yet all VLAN ids are taken (only when a trunk's limit exceeds 120). */
  | { outcome: 'no-free-vlan'; holding: number };

/**
 * Chooses a VLAN for a new branch on a node. `inUse` holds the VLAN of every other branch on the node
 * that holds one (in use or cooling down), including in-memory reservations not yet visible in the cache.
 */
export function allocateVlan(inUse: ReadonlySet<number>, capacity: number): VlanAllocation {
  if (inUse.size >= capacity) return { outcome: 'at-capacity', holding: inUse.size, capacity };
  const vlanId = chooseVlan(inUse);
  if (vlanId === undefined) return { outcome: 'no-free-vlan', holding: inUse.size };
  return { outcome: 'allocated', vlanId };
}
