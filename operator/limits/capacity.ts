/**
 * Capacity math over an instance type's limits. Pure: no I/O, no clock.
 */
import type { InstanceTypeLimits } from './types.ts';

/** The node's `vpc.amazonaws.com/pod-eni` capacity: its branch ENI limit, 0 when it cannot trunk. */
export function podEniCapacity(limits: InstanceTypeLimits): number {
  return limits.isTrunkingCompatible ? limits.branchEnis : 0;
}

/**
 * ENI slots usable for device indexes on the default network card: min(maxEnis, default card's maximum).
 * Both EKS's controller and the VPC CNI use only the default card.
 */
export function deviceIndexSpace(limits: InstanceTypeLimits): number {
  const card = limits.networkCards.find((c) => c.networkCardIndex === limits.defaultNetworkCardIndex);
  return Math.min(limits.maxEnis, card?.maximumNetworkInterfaces ?? limits.maxEnis);
}

/**
 * The device index for a new trunk: the HIGHEST free index on the default card, as EKS does, because the
 * VPC CNI fills secondary ENIs from the lowest index up — so the two rarely race for a slot. Index 0 is
 * the primary ENI. `undefined` when every slot is taken (the node cannot get a trunk until one frees).
 */
export function freeDeviceIndex(limits: InstanceTypeLimits, usedIndexes: Iterable<number>): number | undefined {
  const used = new Set(usedIndexes);
  for (let index = deviceIndexSpace(limits) - 1; index >= 1; index -= 1) {
    if (!used.has(index)) return index;
  }
  return undefined;
}
