/** The TrunkInterface controller: what the composition root may use. */
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, CNINode, ENIConfig, TrunkInterface } from '../../api/types.ts';
import type { KubeObject } from '../../framework/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { readsEniConfigs } from '../podnetwork/settings.ts';
import type { VpcNetworkDirectory } from '../vpcnetwork/index.ts';
import { BRANCHES_BY_NODE, TrunkInterfaceReconciler } from './controller.ts';
import { TrunkEvents } from './events.ts';

export { BRANCHES_BY_NODE, TrunkInterfaceReconciler } from './controller.ts';
export { nextTrunkStep, type TrunkFacts, type TrunkStep } from './plan.ts';

export const TRUNK_CONTROLLER_NAME = 'trunkinterface';

export function registerTrunkInterfaceController(deps: ControllerDeps, vpcNetwork: VpcNetworkDirectory): void {
  const trunks = deps.manager.informer<TrunkInterface>({ kind: Kinds.TrunkInterface });
  const nodes = deps.manager.informer<KubeObject>({ kind: Kinds.Node });
  const branches = deps.manager.informer<BranchInterface>({
    kind: Kinds.BranchInterface,
    indexers: { [BRANCHES_BY_NODE]: (branch) => [branch.spec.nodeName] },
  });
  const cniNodes = deps.manager.informer<CNINode>({ kind: Kinds.CNINode });
  const network = deps.cluster.podNetwork;
  // ENIConfigs are watched only when custom networking can apply: without the CRD the informer could never sync.
  const eniConfigInformer = readsEniConfigs(network)
    ? deps.manager.informer<ENIConfig>({ kind: Kinds.ENIConfig })
    : undefined;
  const reconciler = new TrunkInterfaceReconciler({
    client: deps.client,
    ec2: deps.ec2,
    limits: deps.limits,
    clock: deps.clock,
    cluster: deps.cluster,
    events: new TrunkEvents(deps.recorder),
    trunks,
    nodes,
    branches,
    cniNodes,
    eniConfigs: eniConfigInformer ?? { get: () => undefined },
    network,
    subnets: vpcNetwork,
  });
  const controller = deps.manager.controller({
    name: TRUNK_CONTROLLER_NAME,
    reconciler,
    workers: deps.settings.nodeWorkers,
  });
  // The trunk itself; its Node (same name): deletion starts the release; its branches: branchesUsed.
  controller.watch(trunks);
  controller.watch(nodes, (node) => [node.metadata.name]);
  controller.watch(branches, (branch) => [branch.spec.nodeName]);
  // The node's CNINode (the CNI's CustomNetworking feature) and every ENIConfig: an edit is followed at once.
  // ENIConfigs change rarely and are few, so each change looks at every trunk.
  controller.watch(cniNodes, (cniNode) => [cniNode.metadata.name]);
  if (eniConfigInformer !== undefined) {
    controller.watch(eniConfigInformer, () => trunks.list().map((trunk) => trunk.metadata.name));
  }
  // The VPC's ranges: every trunk reports them, once after the first refresh and again on each change.
  let reported = false;
  vpcNetwork.onChange((_snapshot, changes) => {
    if (reported && changes.length === 0) return;
    reported = true;
    for (const trunk of trunks.list()) controller.enqueue(trunk.metadata.name);
  });
}
