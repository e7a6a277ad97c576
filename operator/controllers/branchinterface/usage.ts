/**
 * How much of a node's branch capacity its BranchInterfaces hold, by the rule VLAN allocation applies
 * (vlan.ts, allocate.ts): a branch holds one of the node's branches from the moment its VLAN is chosen until
 * its ENI is deleted, cooling down included. Pure, over the BranchInterfaces of one node; for reports
 * (`kubectl sgp nodes`), the allocation itself also counts its in-memory reservations.
 */
import type { BranchInterface } from '../../api/types.ts';

export interface BranchUsage {
  /** The node's branch capacity (its TrunkInterface's status.branchCapacity). */
  capacity: number;
  /** Branches holding a VLAN: in use plus cooling down. */
  holding: number;
  /** Holding a VLAN for a pod that still runs. */
  inUse: number;
  /** Holding a VLAN after their pod went, until the cooldown ends and the ENI is deleted. */
  coolingDown: number;
  /** Branches of pods waiting for a VLAN (none free, or not chosen yet). */
  waiting: number;
  /** capacity − holding, never below 0. */
  free: number;
}

export function isCoolingDown(branch: BranchInterface): boolean {
  return branch.status?.phase === 'CoolingDown' || branch.status?.phase === 'Releasing';
}

export function branchUsage(branches: readonly BranchInterface[], capacity: number): BranchUsage {
  const holding = branches.filter((branch) => branch.status?.vlanId !== undefined);
  const coolingDown = holding.filter(isCoolingDown).length;
  const waiting = branches.filter((branch) => branch.status?.vlanId === undefined && !isCoolingDown(branch)).length;
  return {
    capacity,
    holding: holding.length,
    inUse: holding.length - coolingDown,
    coolingDown,
    waiting,
    free: Math.max(0, capacity - holding.length),
  };
}
