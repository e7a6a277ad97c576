/** The BranchInterface controller, the live cooldown source, and the pure decisions of the branch lifecycle. */
import type { LeanPod } from '../../api/pod.ts';
import {
  BRANCH_NODE_NAME_INDEX,
  BRANCH_POD_INDEX,
  branchInterfaceInformerOptions,
  podInformerOptions,
} from '../../api/pod.ts';
import { Kinds } from '../../api/kinds.ts';
import { nodeInformerOptions } from '../../api/lean-objects.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../api/types.ts';
import { WARM_BRANCH_NODE_INDEX, warmBranchInformerOptions } from '../../api/warm-branch.ts';
import { keyOf, StatusCheckpoints } from '../../framework/index.ts';
import type { Controller, Reader } from '../../framework/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { needsIpv6 } from '../podnetwork/index.ts';
import { nodeAnnotationsRead } from '../podnetwork/settings.ts';
import type { SubnetDirectory } from '../vpcnetwork/index.ts';
import { BranchGauges } from './branch-gauges.ts';
import { BranchInterfaceReconciler } from './controller.ts';
import { BranchEvents } from './events.ts';
import { VlanReservations } from './vlan-reservations.ts';
import { WarmBranchGauges } from './warm-gauges.ts';
import { WarmClaims } from './warm-claims.ts';
import type { NodeLike } from './warm-controller.ts';
import { WarmBranchReconciler } from './warm-controller.ts';

export { BranchInterfaceReconciler, MAX_STEPS_PER_RECONCILE } from './controller.ts';
export type { BranchReconcilerDeps } from './controller.ts';
export { createCooldownSource, ConfigMapCooldown, COOLDOWN_CONFIGMAP_KEY } from './cooldown-source.ts';
export type { CooldownSourceOptions } from './cooldown-source.ts';
export { chooseVlan, allocateVlan } from './vlan.ts';
export { branchUsage, isCoolingDown } from './usage.ts';
export type { BranchUsage } from './usage.ts';
export type { VlanAllocation } from './vlan.ts';
export { releasable, parseCooldownSetting, formatDuration, MINIMUM_COOLDOWN_MS } from './cooldown.ts';
export { planBranchStep, desiredSecurityGroups, isTrunkUsable } from './plan.ts';
export type { BranchStep, BranchPlanInput, ReleaseCause } from './plan.ts';
export { podEniAnnotationEntry, podEniAnnotationValue } from './annotation.ts';
export { branchSubnetIds, chooseBranchSubnet, subnetForBranch } from './subnet.ts';
export type { BranchSubnet, SubnetChoice, SubnetChoiceInput } from './subnet.ts';
export { BranchEvents } from './events.ts';
export { VlanReservations } from './vlan-reservations.ts';
export { WarmClaims } from './warm-claims.ts';
export { WarmBranchReconciler, nodeStateOf } from './warm-controller.ts';
export type { WarmReconcilerDeps, NodeLike } from './warm-controller.ts';
export { ConfigMapWarmSettings, createWarmSettingsSource, parseWholeSetting } from './warm-settings.ts';
export type { WarmSettingsSource } from './warm-settings.ts';
export {
  chooseWarmBranch,
  decideHandover,
  warmVerdict,
  warmBranchSpecOf,
  warmNetworkMismatch,
  eniIdsHeldByBranches,
} from './warm.ts';
export type {
  HandoverDecision,
  HandoverInput,
  NodeBranchNetwork,
  WarmChoice,
  WarmSettings,
  WarmVerdict,
  NodeState,
} from './warm.ts';

/**
 * Whether a TrunkInterface update changes anything its node's branches (or warm ENIs) read: its deletion, its
 * status other than the count of branches in use and the conditions, which change with every branch on the
 * node and would otherwise re-enqueue all of them each time.
 */
export function isTrunkChangeForBranches(oldTrunk: TrunkInterface, newTrunk: TrunkInterface): boolean {
  const read = (trunk: TrunkInterface) => {
    const {
      branchesUsed: _used,
      conditions: _conditions,
      observedGeneration: _generation,
      ...status
    } = trunk.status ?? {};
    return JSON.stringify([trunk.metadata.uid, trunk.metadata.deletionTimestamp, trunk.spec, status]);
  };
  return read(oldTrunk) !== read(newTrunk);
}

/** Branches waiting on a node (no VLAN yet): a released sibling wakes them instead of the cooldown timer. */
function waitingSiblings(branches: Reader<BranchInterface>, branch: BranchInterface): string[] {
  return branches
    .byIndex(BRANCH_NODE_NAME_INDEX, branch.spec.nodeName)
    .filter((sibling) => sibling.metadata.uid !== branch.metadata.uid && sibling.status?.vlanId === undefined)
    .map((sibling) => keyOf(sibling));
}

export function registerBranchInterfaceController(deps: ControllerDeps, subnets: SubnetDirectory): Controller {
  const branches = deps.manager.informer(branchInterfaceInformerOptions);
  const pods = deps.manager.informer<LeanPod>(podInformerOptions);
  const trunks = deps.manager.informer<TrunkInterface>({ kind: Kinds.TrunkInterface });
  const warm = deps.manager.informer<WarmBranch>(warmBranchInformerOptions);
  const nodes = deps.manager.informer<NodeLike>(nodeInformerOptions(nodeAnnotationsRead(deps.cluster.podNetwork)));
  new BranchGauges().observe(branches);
  new WarmBranchGauges().observe(warm);
  const claims = new WarmClaims();

  const reconciler = new BranchInterfaceReconciler({
    client: deps.client,
    ec2: deps.ec2,
    clock: deps.clock,
    cluster: deps.cluster,
    events: new BranchEvents(deps.recorder),
    subnets,
    cooldown: deps.cooldown,
    branches,
    pods,
    trunks,
    nodes,
    checkpoints: new StatusCheckpoints<BranchInterface>(),
    reservations: new VlanReservations(),
    warm,
    claims,
    warmSettings: deps.warmSettings,
  });
  const controller = deps.manager.controller({
    name: 'branchinterface',
    reconciler,
    workers: deps.settings.branchWorkers,
  });
  controller.watch(branches, (branch) => [
    keyOf(branch),
    ...(branch.metadata.deletionTimestamp || branch.status?.phase === 'Releasing'
      ? waitingSiblings(branches, branch)
      : []),
  ]);
  controller.watch(pods, (pod) => branches.byIndex(BRANCH_POD_INDEX, keyOf(pod)).map((branch) => keyOf(branch)));
  controller.watch(
    trunks,
    (trunk) => branches.byIndex(BRANCH_NODE_NAME_INDEX, trunk.spec.nodeName).map((branch) => keyOf(branch)),
    { isRelevantUpdate: isTrunkChangeForBranches },
  );
  // A deleted Node is what releases its branches at once (plan.ts); a missing TrunkInterface is not.
  controller.watch(nodes, (node) =>
    branches.byIndex(BRANCH_NODE_NAME_INDEX, node.metadata.name).map((branch) => keyOf(branch)),
  );
  // A warm ENI appearing (or going) on a node: the branches waiting there may take it, or allocate again.
  controller.watch(warm, (record) =>
    branches
      .byIndex(BRANCH_NODE_NAME_INDEX, record.spec.nodeName)
      .filter((branch) => branch.status?.vlanId === undefined)
      .map((branch) => keyOf(branch)),
  );

  const warmController = deps.manager.controller({
    name: 'warmbranch',
    reconciler: new WarmBranchReconciler({
      client: deps.client,
      ec2: deps.ec2,
      clock: deps.clock,
      recorder: deps.recorder,
      warm,
      branches,
      trunks,
      nodes,
      claims,
      settings: deps.warmSettings,
      subnets,
      needsIpv6: needsIpv6(deps.cluster.podNetwork),
    }),
    workers: 4,
  });
  const poolOf = (nodeName: string) =>
    warm.byIndex(WARM_BRANCH_NODE_INDEX, nodeName).map((record) => record.metadata.name);
  warmController.watch(warm, (record) => poolOf(record.spec.nodeName));
  warmController.watch(branches, (branch) => (branch.status?.eniId ? [branch.status.eniId] : []));
  warmController.watch(nodes, (node) => poolOf(node.metadata.name));
  warmController.watch(trunks, (trunk) => poolOf(trunk.spec.nodeName), {
    isRelevantUpdate: isTrunkChangeForBranches,
  });
  return controller;
}
