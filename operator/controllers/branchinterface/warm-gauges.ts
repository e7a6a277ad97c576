/**
 * Keeps the warm-branch gauges in step with the WarmBranch cache, from informer events. No node label: the
 * per-node picture is the total and the fullest node (`kubectl get warmbranches -l` shows one node's pool).
 */
import type { WarmBranch } from '../../api/types.ts';
import type { Informer } from '../../framework/types.ts';
import { warmBranchEnis, warmBranchEnisMaxPerNode } from '../../observability/metrics.ts';

export class WarmBranchGauges {
  readonly #nodeByUid = new Map<string, string>();

  observe(informer: Informer<WarmBranch>): void {
    informer.onEvent((event) => {
      const uid = event.object.metadata.uid ?? event.object.metadata.name;
      if (event.type === 'delete') this.#nodeByUid.delete(uid);
      else this.#nodeByUid.set(uid, event.object.spec.nodeName);
      this.#publish();
    });
  }

  #publish(): void {
    const byNode = new Map<string, number>();
    for (const node of this.#nodeByUid.values()) byNode.set(node, (byNode.get(node) ?? 0) + 1);
    warmBranchEnis.set(this.#nodeByUid.size);
    warmBranchEnisMaxPerNode.set(Math.max(0, ...byNode.values()));
  }
}
