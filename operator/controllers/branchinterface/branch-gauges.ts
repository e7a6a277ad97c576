/**
 * Keeps the branch gauges (observability/metrics.ts) in step with the BranchInterface cache, from informer
 * events: O(1) per event, exact, and independent of which reconciles run. No node label is ever used; the
 * per-node picture is reduced to a total and the busiest trunk.
 */
import type { BranchInterface } from '../../api/types.ts';
import type { Informer } from '../../framework/types.ts';
import {
  BRANCH_PHASES,
  branchEnisCoolingDown,
  branchInterfaces,
  branchPodsWaitingForCapacity,
  branchVlansInUse,
  branchVlansInUseMaxPerTrunk,
} from '../../observability/metrics.ts';

interface Tracked {
  phase: string;
  nodeName: string;
  holdsVlan: boolean;
  waitsForCapacity: boolean;
}

/** The Ready condition reason of a branch whose node holds as many branch ENIs as it may. */
export const NODE_AT_CAPACITY_REASON = 'NodeAtCapacity';

export class BranchGauges {
  readonly #byUid = new Map<string, Tracked>();
  readonly #phaseCounts = new Map<string, number>(BRANCH_PHASES.map((phase) => [phase, 0]));
  readonly #vlansByNode = new Map<string, number>();
  #waitingForCapacity = 0;

  observe(informer: Informer<BranchInterface>): void {
    informer.onEvent((event) => {
      if (event.type === 'delete') this.#remove(event.object);
      else this.#upsert(event.object);
      this.#publish();
    });
  }

  #upsert(branch: BranchInterface): void {
    this.#remove(branch);
    const tracked: Tracked = {
      phase: branch.status?.phase ?? 'Pending',
      nodeName: branch.spec.nodeName,
      holdsVlan: branch.status?.vlanId !== undefined,
      waitsForCapacity:
        branch.status?.conditions?.find((condition) => condition.type === 'Ready')?.reason === NODE_AT_CAPACITY_REASON,
    };
    if (tracked.waitsForCapacity) this.#waitingForCapacity += 1;
    this.#byUid.set(branch.metadata.uid ?? '', tracked);
    this.#phaseCounts.set(tracked.phase, (this.#phaseCounts.get(tracked.phase) ?? 0) + 1);
    if (tracked.holdsVlan) this.#vlansByNode.set(tracked.nodeName, (this.#vlansByNode.get(tracked.nodeName) ?? 0) + 1);
  }

  #remove(branch: BranchInterface): void {
    const uid = branch.metadata.uid ?? '';
    const tracked = this.#byUid.get(uid);
    if (!tracked) return;
    this.#byUid.delete(uid);
    if (tracked.waitsForCapacity) this.#waitingForCapacity -= 1;
    this.#phaseCounts.set(tracked.phase, (this.#phaseCounts.get(tracked.phase) ?? 1) - 1);
    if (tracked.holdsVlan) {
      const left = (this.#vlansByNode.get(tracked.nodeName) ?? 1) - 1;
      if (left > 0) this.#vlansByNode.set(tracked.nodeName, left);
      else this.#vlansByNode.delete(tracked.nodeName);
    }
  }

  #publish(): void {
    for (const [phase, count] of this.#phaseCounts) branchInterfaces.set({ phase }, count);
    let total = 0;
    let max = 0;
    for (const count of this.#vlansByNode.values()) {
      total += count;
      max = Math.max(max, count);
    }
    branchVlansInUse.set(total);
    branchVlansInUseMaxPerTrunk.set(max);
    branchEnisCoolingDown.set(this.#phaseCounts.get('CoolingDown') ?? 0);
    branchPodsWaitingForCapacity.set(this.#waitingForCapacity);
  }
}
