/** Garbage collection of leaked ENIs (leader only). */
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../../api/types.ts';
import { warmBranchInformerOptions } from '../../api/warm-branch.ts';
import type { ControllerDeps } from '../deps.ts';
import { LeakSweeper } from './sweeper.ts';

export { findLeakedEnis } from './leaks.ts';
export type { LeakCandidate, LeakReason, LeakSweepDecision, LeakSweepInput } from './leaks.ts';
export { LeakSweeper } from './sweeper.ts';

export interface GarbageCollectionOptions {
  /** Time between sweeps. Each sweep pages through our ENIs at background priority. */
  intervalMs: number;
  /** Time from becoming leader to the first sweep. */
  initialDelayMs: number;
}

export function registerGarbageCollection(deps: ControllerDeps, options: GarbageCollectionOptions): LeakSweeper {
  const sweeper = new LeakSweeper({
    ec2: deps.ec2,
    client: deps.client,
    branches: deps.manager.informer<BranchInterface>({ kind: Kinds.BranchInterface }),
    trunks: deps.manager.informer<TrunkInterface>({ kind: Kinds.TrunkInterface }),
    warm: deps.manager.informer(warmBranchInformerOptions),
    clusterName: deps.cluster.clusterName,
    vpcId: deps.cluster.vpcId,
    intervalMs: options.intervalMs,
    initialDelayMs: options.initialDelayMs,
    log: deps.log.child({ controller: 'leak-sweeper' }),
  });
  deps.manager.add({ name: 'leak-sweeper', needLeaderElection: true, start: (signal) => sweeper.run(signal) });
  return sweeper;
}
