/** The BranchInterface controller, the live cooldown source, and the pure decisions of the branch lifecycle. */
import type { LeanPod } from '../../api/pod.ts';
import {
  BRANCH_NODE_NAME_INDEX,
  BRANCH_POD_INDEX,
  branchInterfaceInformerOptions,
  podInformerOptions,
} from '../../api/pod.ts';
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../../api/types.ts';
import { keyOf } from '../../framework/index.ts';
import type { Controller, KubeObject, Reader } from '../../framework/types.ts';
import type { ControllerDeps } from '../deps.ts';
import type { SubnetDirectory } from '../vpcnetwork/index.ts';
import { BranchGauges } from './branch-gauges.ts';
import { StatusCheckpoints } from './checkpoints.ts';
import { BranchInterfaceReconciler } from './controller.ts';
import { BranchEvents } from './events.ts';
import { VlanReservations } from './vlan-reservations.ts';

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
export { chooseBranchSubnet, subnetForBranch } from './subnet.ts';
export type { BranchSubnet, SubnetChoice, SubnetChoiceInput } from './subnet.ts';
export { BranchEvents } from './events.ts';
export { StatusCheckpoints } from './checkpoints.ts';
export { VlanReservations } from './vlan-reservations.ts';

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
  const nodes = deps.manager.informer<KubeObject>({ kind: Kinds.Node });
  new BranchGauges().observe(branches);

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
    checkpoints: new StatusCheckpoints(),
    reservations: new VlanReservations(),
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
  controller.watch(trunks, (trunk) =>
    branches.byIndex(BRANCH_NODE_NAME_INDEX, trunk.spec.nodeName).map((branch) => keyOf(branch)),
  );
  // A deleted Node is what releases its branches at once (plan.ts); a missing TrunkInterface is not.
  controller.watch(nodes, (node) =>
    branches.byIndex(BRANCH_NODE_NAME_INDEX, node.metadata.name).map((branch) => keyOf(branch)),
  );
  return controller;
}
