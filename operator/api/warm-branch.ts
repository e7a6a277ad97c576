/** The shared WarmBranch informer (the branch controllers and the leak sweeper read the same cache). */
import type { InformerOptions } from '../framework/types.ts';
import { Kinds } from './kinds.ts';
import type { WarmBranch } from './types.ts';

/** WarmBranches by spec.nodeName: a node's pool. */
export const WARM_BRANCH_NODE_INDEX = 'nodeName';

export const warmBranchInformerOptions: InformerOptions<WarmBranch> = {
  kind: Kinds.WarmBranch,
  indexers: {
    [WARM_BRANCH_NODE_INDEX]: (warm) => (warm.spec?.nodeName ? [warm.spec.nodeName] : []),
  },
};
