/** The node controller: what the composition root (and the webhook, for the pure decisions) may use. */
import { Kinds } from '../../api/kinds.ts';
import type { CNINode, TrunkInterface } from '../../api/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { NodeReconciler } from './controller.ts';
import { NodeEvents } from './events.ts';
import type { NodeObject } from './node-object.ts';

export { NodeReconciler } from './controller.ts';
export { nodeEligibility, optInOf, type Eligibility, type UnmanagedCause } from './eligibility.ts';
export { podEniCapacityPatch } from './capacity.ts';
export { desiredCniNode, cniNodeRepairPatch } from './cninode.ts';
export { instanceIdOf, instanceTypeOf, type NodeObject } from './node-object.ts';

export const NODE_CONTROLLER_NAME = 'node';

export function registerNodeController(deps: ControllerDeps): void {
  const nodes = deps.manager.informer<NodeObject>({ kind: Kinds.Node });
  const cniNodes = deps.manager.informer<CNINode>({ kind: Kinds.CNINode });
  const trunks = deps.manager.informer<TrunkInterface>({ kind: Kinds.TrunkInterface });
  const reconciler = new NodeReconciler({
    client: deps.client,
    ec2: deps.ec2,
    limits: deps.limits,
    cluster: deps.cluster,
    events: new NodeEvents(deps.recorder),
    nodes,
    cniNodes,
    trunks,
  });
  const controller = deps.manager.controller({
    name: NODE_CONTROLLER_NAME,
    reconciler,
    workers: deps.settings.nodeWorkers,
  });
  // The Node itself; its CNINode (same name); its TrunkInterface (Ready → advertise capacity).
  controller.watch(nodes);
  controller.watch(cniNodes);
  controller.watch(trunks, (trunk) => [trunk.spec.nodeName]);
}
