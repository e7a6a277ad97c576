/**
 * `kubectl sgp nodes`: per node, whether it may get a trunk ENI (the node controller's own nodeEligibility)
 * and if not why, its trunk, and its branch capacity as VLAN allocation counts it (branchUsage). Pure.
 */
import { POD_ENI_RESOURCE } from '../../operator/api/constants.ts';
import type { BranchInterface, CNINode, TrunkInterface } from '../../operator/api/types.ts';
import { branchUsage, type BranchUsage } from '../../operator/controllers/branchinterface/index.ts';
import { instanceTypeOf, nodeEligibility, type NodeObject } from '../../operator/controllers/node/index.ts';
import type { InstanceTypeLimits } from '../../operator/limits/index.ts';

export interface NodeFacts {
  node: NodeObject;
  cniNode: CNINode | undefined;
  trunk: TrunkInterface | undefined;
  /** Limits of its instance type from the operator's table (undefined when the table lacks the type). */
  limits: InstanceTypeLimits | undefined;
  /** The BranchInterfaces on the node. */
  branches: readonly BranchInterface[];
}

export interface NodeExplanation {
  kind: 'NodeExplanation';
  name: string;
  instanceType?: string;
  /** The node asked for a trunk and its instance type can have one. */
  eligible: boolean;
  /** Why not (or, when eligible, how it opted in). */
  reason: string;
  trunk?: { state: string; eniId?: string; message?: string };
  /** vpc.amazonaws.com/pod-eni the node advertises (status.capacity); undefined when none. */
  advertised?: number;
  usage?: BranchUsage;
}

export function explainNode(facts: NodeFacts): NodeExplanation {
  const { node, trunk } = facts;
  // A type missing from the table may still be managed through the override ConfigMap: the trunk then
  // reports the capacity the operator found, which is what eligibility needs.
  const limits =
    facts.limits ??
    (trunk?.status?.branchCapacity !== undefined
      ? trunkOnlyLimits(trunk.spec.instanceType, trunk.status.branchCapacity)
      : undefined);
  const eligibility = nodeEligibility({ node, cniNode: facts.cniNode, limits });
  const capacity = trunk?.status?.branchCapacity;
  const advertised = node.status?.capacity?.[POD_ENI_RESOURCE];
  const instanceType = instanceTypeOf(node);
  return {
    kind: 'NodeExplanation',
    name: node.metadata.name,
    ...(instanceType ? { instanceType } : {}),
    eligible: eligibility.managed,
    reason: eligibility.managed
      ? eligibility.optIn === 'cninode-feature'
        ? 'opted in by its CNINode (SecurityGroupsForPods)'
        : 'opted in by the legacy label vpc.amazonaws.com/has-trunk-attached'
      : eligibility.message,
    ...(trunk
      ? {
          trunk: {
            state: trunk.status?.state ?? 'Pending',
            ...(trunk.status?.eniId ? { eniId: trunk.status.eniId } : {}),
            ...(trunk.status?.state !== 'Ready' ? trunkProblem(trunk) : {}),
          },
        }
      : {}),
    ...(advertised !== undefined && Number(advertised) > 0 ? { advertised: Number(advertised) } : {}),
    ...(capacity !== undefined ? { usage: branchUsage(facts.branches, capacity) } : {}),
  };
}

function trunkOnlyLimits(instanceType: string, branchCapacity: number): InstanceTypeLimits {
  return {
    instanceType,
    maxEnis: 0,
    ipv4PerEni: 0,
    isTrunkingCompatible: branchCapacity > 0,
    branchEnis: branchCapacity,
    defaultNetworkCardIndex: 0,
    networkCards: [],
    source: 'describe-and-override',
  };
}

function trunkProblem(trunk: TrunkInterface): { message?: string } {
  const conditions = trunk.status?.conditions ?? [];
  const message = (conditions.find((condition) => condition.status !== 'True') ?? conditions[0])?.message;
  return message ? { message } : {};
}
