/**
 * Gathering and applying the node's pod network (decisions in ./pod-network.ts): which ENIConfig the node
 * follows, the subnet its new branch ENIs go to (described once per change: from status, from the CNINode's
 * nodeNetworkState, else one DescribeSubnets), and the trunk's groups, changed in place when an ENIConfig is
 * edited. Nothing here touches a branch ENI: running pods keep theirs (docs/networks.md).
 */
import type { CNINode, ENIConfig, TrunkInterface } from '../../api/types.ts';
import type { CallOptions, Ec2Api, Subnet } from '../../aws/index.ts';
import { Ec2Error, isNotFound, needsOutsideFix } from '../../aws/index.ts';
import { withContext } from '../../errors.ts';
import { setCondition } from '../../framework/index.ts';
import type { Clock, KubeObject, ReconcileContext } from '../../framework/types.ts';
import { nodePodNetwork, type NodePodNetwork } from '../podnetwork/eniconfig.ts';
import { needsIpv6, type PodNetwork } from '../podnetwork/settings.ts';
import type { TrunkEvents } from './events.ts';
import {
  branchSubnetProblem,
  branchSubnetTarget,
  desiredTrunkGroups,
  isStale,
  knownSubnet,
  POD_NETWORK_CONDITION,
  sameGroups,
  toBranchSubnet,
  trunkPlacement,
  type BranchSubnet,
  type SubnetProblem,
  type TrunkPlacement,
} from './pod-network.ts';
import type { TrunkStatus } from './status.ts';

/** The zone label the kubelet sets; the node's zone before its trunk is described. */
const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface PodNetworkDeps {
  ec2: Ec2Api;
  clock: Clock;
  network: PodNetwork;
  eniConfigs: { get(name: string): ENIConfig | undefined };
  events: TrunkEvents;
}

export interface PodNetworkView {
  decision: NodePodNetwork;
  /** For a trunk not created yet: where it goes, or that it waits. */
  placement: TrunkPlacement;
  /** The subnet new branch ENIs should go to; undefined until the trunk's own subnet is known. */
  target: string | undefined;
  /** That subnet, when it can take them; undefined until the trunk's own subnet is known (or while blocked). */
  branchSubnet: BranchSubnet | undefined;
  /** ENIConfig missing or unusable (blocking), or a subnet without the IPv6 block branch ENIs need. */
  problem: (SubnetProblem | { reason: 'ENIConfigNotFound'; message: string; isBlocking: true }) | undefined;
}

/** Reads the node's ENIConfig and describes the branch subnet when status does not know it yet. */
export async function viewPodNetwork(
  deps: PodNetworkDeps,
  input: { trunk: TrunkInterface; node: KubeObject; cniNode: CNINode | undefined },
  call: CallOptions,
): Promise<PodNetworkView> {
  const { trunk, node, cniNode } = input;
  const status = trunk.status ?? {};
  const decision = nodePodNetwork(node, cniNode, deps.network.customNetworking, deps.eniConfigs);
  if (decision.kind === 'problem') {
    const problem = { ...decision, isBlocking: true as const };
    return {
      decision,
      placement: trunkPlacement(decision, problem),
      target: undefined,
      branchSubnet: undefined,
      problem,
    };
  }
  if (decision.kind === 'node-subnet' && decision.warning !== undefined) {
    deps.events.podNetwork(trunk.spec.nodeName, 'Warning', 'CustomNetworkingIgnored', decision.warning);
  }
  const target = branchSubnetTarget(decision, status);
  if (target === undefined) {
    return {
      decision,
      placement: trunkPlacement(decision, undefined),
      target,
      branchSubnet: undefined,
      problem: undefined,
    };
  }

  const isIpv6Needed = needsIpv6(deps.network);
  const known = knownSubnet(status, target, isIpv6Needed) ?? fromNodeNetworkState(cniNode, target, isIpv6Needed);
  let described: Pick<Subnet, 'id' | 'cidrBlock' | 'ipv6CidrBlock' | 'availabilityZone'> | undefined;
  if (known !== undefined) {
    described = {
      id: known.subnetId,
      cidrBlock: known.cidrBlock,
      ipv6CidrBlock: known.ipv6CidrBlock ?? '',
      // A subnet recorded for this node was checked against its zone when it was recorded.
      availabilityZone: status.availabilityZone ?? zoneOf(node) ?? '',
    };
  } else {
    const subnets = await deps.ec2.describeSubnets({ ids: [target] }, call).catch((error: unknown) => {
      // An id that does not exist is an answer (the ENIConfig names a wrong subnet), not a failure.
      if (isNotFound(error)) return [];
      throw withContext(`describing subnet ${target} for the branch ENIs of node ${trunk.spec.nodeName}`, error);
    });
    described = subnets[0];
  }
  const problem = branchSubnetProblem({
    nodeName: trunk.spec.nodeName,
    subnet: described,
    subnetId: target,
    availabilityZone: status.availabilityZone ?? zoneOf(node),
    needsIpv6: isIpv6Needed,
    ipFamily: deps.network.ipFamily,
    eniConfig: decision.kind === 'eni-config' ? decision.name : undefined,
  });
  const branchSubnet = described !== undefined && !problem?.isBlocking ? toBranchSubnet(described) : undefined;
  return { decision, placement: trunkPlacement(decision, problem), target, branchSubnet, problem };
}

/**
 * The pod network applied to the status this pass ends with. A Ready trunk gets where its new branch ENIs go
 * and its groups; when the view was taken before the trunk's own subnet was known (a trunk that just became
 * Ready), it is looked at again, at no EC2 cost, as status knows that subnet now. A trunk not Ready reports only
 * a blocking problem (the PodNetworkReady condition and a Warning): nothing is applied to an ENI being set up.
 */
export async function followPodNetwork(
  deps: PodNetworkDeps,
  input: { trunk: TrunkInterface; node: KubeObject; cniNode: CNINode | undefined; view: PodNetworkView },
  status: TrunkStatus,
  context: ReconcileContext,
): Promise<TrunkStatus> {
  const { trunk, view } = input;
  if (status.state !== 'Ready') {
    return view.problem?.isBlocking ? applyPodNetwork(deps, trunk, status, view, context) : status;
  }
  const current = isStale(view, status)
    ? await viewPodNetwork(
        deps,
        { ...input, trunk: { ...trunk, status } },
        { signal: context.signal, priority: 'critical' },
      )
    : view;
  return applyPodNetwork(deps, trunk, status, current, context);
}

/**
 * The status fields the view gives (branchSubnet, eniConfig, the PodNetworkReady condition), after changing
 * the trunk's groups in place when its ENIConfig asks for others. A blocking problem keeps what status had:
 * branch ENIs keep going where they went.
 */
async function applyPodNetwork(
  deps: PodNetworkDeps,
  trunk: TrunkInterface,
  status: TrunkStatus,
  view: PodNetworkView,
  context: ReconcileContext,
): Promise<TrunkStatus> {
  const nowIso = new Date(deps.clock.now()).toISOString();
  const nodeName = trunk.spec.nodeName;
  const { problem } = view;
  if (problem !== undefined) {
    deps.events.podNetwork(nodeName, 'Warning', problem.reason, problem.message);
  }
  if (problem?.isBlocking) {
    return withPodNetworkCondition(
      trunk,
      status,
      { status: 'False', reason: problem.reason, message: problem.message },
      nowIso,
    );
  }
  let next: TrunkStatus = { ...status };
  const eniConfig = view.decision.kind === 'eni-config' ? view.decision.name : undefined;
  const groups = desiredTrunkGroups(view.decision, status);
  let groupsRefused: string | undefined;
  if (groups !== undefined && status.eniId !== undefined && !sameGroups(groups, status.securityGroups)) {
    try {
      await deps.ec2.setSecurityGroups(
        { networkInterfaceId: status.eniId, securityGroupIds: groups },
        { signal: context.signal },
      );
      context.log.info('set trunk groups', { trunk: status.eniId, groups, eniConfig });
      next.securityGroups = [...groups].sort();
    } catch (error) {
      // Only the trunk's default groups are behind: new branches still go where the ENIConfig says, and the
      // change is tried again at the next look at the node (within a minute, as the condition is False).
      if (!(error instanceof Ec2Error)) throw error;
      groupsRefused =
        `EC2 refused the groups ${groups.join(', ')} for trunk ENI ${status.eniId} of node ${nodeName}: ${error.message}` +
        (needsOutsideFix(error)
          ? ` (${error.code}; the IAM policy lets the operator change only ENIs it created)`
          : '');
      deps.events.podNetwork(nodeName, 'Warning', 'SecurityGroupsUpdateFailed', groupsRefused);
    }
  }
  if (view.branchSubnet !== undefined) next.branchSubnet = view.branchSubnet;
  if (eniConfig !== undefined) next.eniConfig = eniConfig;
  else delete next.eniConfig;

  const changed =
    status.branchSubnet !== undefined &&
    (status.branchSubnet.subnetId !== next.branchSubnet?.subnetId ||
      status.eniConfig !== next.eniConfig ||
      !sameGroups(status.securityGroups, next.securityGroups));
  if (changed) {
    deps.events.podNetwork(
      nodeName,
      'Normal',
      'PodNetworkChanged',
      `${eniConfig === undefined ? `Node ${nodeName} uses its own subnet` : `ENIConfig ${eniConfig}`}: new branch ` +
        `ENIs go to subnet ${next.branchSubnet?.subnetId ?? '?'} (${next.branchSubnet?.cidrBlock ?? '?'}), the trunk ` +
        `carries ${(next.securityGroups ?? []).join(', ')}; running pods keep their branch ENIs`,
    );
  }
  next = withPodNetworkCondition(
    trunk,
    next,
    groupsRefused !== undefined
      ? { status: 'False', reason: 'SecurityGroupsUpdateFailed', message: groupsRefused }
      : problem !== undefined
        ? { status: 'False', reason: problem.reason, message: problem.message }
        : next.branchSubnet !== undefined
          ? {
              status: 'True',
              reason: eniConfig === undefined ? 'NodeSubnet' : 'ENIConfig',
              message:
                `new branch ENIs go to subnet ${next.branchSubnet.subnetId} (${[next.branchSubnet.cidrBlock, next.branchSubnet.ipv6CidrBlock].filter(Boolean).join(', ')})` +
                (eniConfig === undefined ? '' : ` of ENIConfig ${eniConfig}`),
            }
          : undefined,
    nowIso,
  );
  return next;
}

function withPodNetworkCondition(
  trunk: TrunkInterface,
  status: TrunkStatus,
  condition: { status: 'True' | 'False'; reason: string; message: string } | undefined,
  nowIso: string,
): TrunkStatus {
  if (condition === undefined) return status;
  const generation = trunk.metadata.generation;
  return {
    ...status,
    conditions: setCondition(
      status.conditions,
      {
        type: POD_NETWORK_CONDITION,
        ...condition,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      nowIso,
    ),
  };
}

/** The CNINode's nodeNetworkState (EKS's v1.8 controller, or ours) already describes this subnet. */
function fromNodeNetworkState(
  cniNode: CNINode | undefined,
  subnetId: string,
  isIpv6Needed: boolean,
): BranchSubnet | undefined {
  const state = cniNode?.status?.nodeNetworkState;
  if (state?.subnetID !== subnetId || !state.subnetCIDRBlock) return undefined;
  if (isIpv6Needed && !state.subnetV6CIDRBlock) return undefined;
  return {
    subnetId,
    cidrBlock: state.subnetCIDRBlock,
    ...(state.subnetV6CIDRBlock ? { ipv6CidrBlock: state.subnetV6CIDRBlock } : {}),
  };
}

function zoneOf(node: KubeObject): string | undefined {
  return node.metadata.labels?.[ZONE_LABEL];
}
