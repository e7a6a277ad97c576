/**
 * Which nodes get a trunk ENI (docs/compatibility.md#cninode-and-node-opt-in). Pure: the caller gathers the Node, its CNINode and the
 * limits of its instance type; this decides and says why, so the reconciler can turn the verdict into an
 * event without working it out again.
 *
 * Order of checks, and why:
 * 1. EKS Auto Mode, Fargate and non-EC2 nodes are never ours, whatever they claim (AWS manages the first
 *    two; the third has no instance to attach a trunk to). These are reported with a Normal event.
 * 2. Opt-in: the CNINode feature `SecurityGroupsForPods` (what the VPC CNI patches in when
 *    ENABLE_POD_ENI=true) or the legacy label `vpc.amazonaws.com/has-trunk-attached` with any value (CNI
 *    before v1.15 set it to "false" to ask for a trunk). A node that did not opt in is quietly unmanaged:
 *    most clusters have many such nodes, and an event per node would be noise.
 * 3. Instance type: only for opted-in nodes, an unknown type or a type without ENI trunking is reported as
 *    a Warning `Unsupported` event, since the user asked for something that cannot happen.
 */
import { COMPUTE_TYPE_LABEL, HAS_TRUNK_ATTACHED_LABEL, SECURITY_GROUPS_FOR_PODS_FEATURE } from '../../api/constants.ts';
import type { CNINode } from '../../api/types.ts';
import type { InstanceTypeLimits } from '../../limits/index.ts';
import { Reason } from '../../observability/reasons.ts';
import { INSTANCE_TYPE_LABEL, instanceIdOf, instanceTypeOf, type NodeObject } from './node-object.ts';

export interface EligibilityInput {
  node: NodeObject;
  cniNode: CNINode | undefined;
  /** Limits of the node's instance type; undefined when the provider does not know the type (or there is none). */
  limits: InstanceTypeLimits | undefined;
}

/** How the node asked for a trunk. */
export type OptIn = 'cninode-feature' | 'legacy-label';

/** Why a node is not managed; a closed set so metrics and tests can name it. */
export type UnmanagedCause =
  | 'auto-mode'
  | 'fargate'
  | 'not-ec2'
  | 'not-opted-in'
  | 'no-instance-type'
  | 'unknown-instance-type'
  | 'not-trunking-compatible';

export interface NodeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type Eligibility =
  | { managed: true; optIn: OptIn; instanceId: string; instanceType: string; limits: InstanceTypeLimits }
  | { managed: false; cause: UnmanagedCause; message: string; event?: NodeEvent };

/** Where the limits provider's overrides live; named in the Unsupported message so the fix is obvious. */
export const LIMITS_OVERRIDE_HINT =
  'the instance-type limits override ConfigMap (see docs: limits overrides, key branchInterfaces)';

export function nodeEligibility({ node, cniNode, limits }: EligibilityInput): Eligibility {
  const name = node.metadata.name;
  const labels = node.metadata.labels ?? {};
  const computeType = labels[COMPUTE_TYPE_LABEL];

  if (computeType === 'auto') {
    return skipped(
      'auto-mode',
      `node ${name} is an EKS Auto Mode node (${COMPUTE_TYPE_LABEL}=auto); AWS manages its pod ENIs, skipping it`,
    );
  }
  const managedBy = cniNode?.spec?.managedBy;
  if (managedBy !== undefined && managedBy !== 'vpc-resource-controller') {
    return skipped(
      'auto-mode',
      `node ${name}'s CNINode is managed by ${managedBy} (spec.managedBy); that controller owns its pod ENIs, skipping it`,
    );
  }
  if (computeType === 'fargate' || (node.spec?.providerID ?? '').includes('/fargate-')) {
    return skipped(
      'fargate',
      `node ${name} is a Fargate node; Fargate pods get their security groups from the Fargate profile, skipping it`,
    );
  }
  const instanceId = instanceIdOf(node);
  if (instanceId === undefined) {
    const providerId = node.spec?.providerID;
    return skipped(
      'not-ec2',
      `node ${name} has spec.providerID ${providerId ? `"${providerId}"` : '(unset)'}, not an EC2 instance (aws:///<zone>/i-…); skipping it`,
    );
  }

  const optIn = optInOf(node, cniNode);
  if (optIn === undefined) {
    return {
      managed: false,
      cause: 'not-opted-in',
      message: `node ${name} has neither the CNINode feature ${SECURITY_GROUPS_FOR_PODS_FEATURE} nor the label ${HAS_TRUNK_ATTACHED_LABEL}`,
    };
  }

  const instanceType = instanceTypeOf(node);
  if (instanceType === undefined) {
    return unsupported(
      'no-instance-type',
      `node ${name} asked for a trunk ENI but has no ${INSTANCE_TYPE_LABEL} label; the kubelet sets it on EC2 nodes, check the node's registration`,
    );
  }
  if (limits === undefined) {
    return unsupported(
      'unknown-instance-type',
      `instance type ${instanceType} of node ${name} is not in the limits table and has no override in ${LIMITS_OVERRIDE_HINT}; add it there or move the pods that need security groups to a supported instance type`,
    );
  }
  if (!limits.isTrunkingCompatible || limits.branchEnis <= 0) {
    return unsupported(
      'not-trunking-compatible',
      `instance type ${instanceType} of node ${name} does not support ENI trunking, so pods on it cannot get their own security groups; use a Nitro instance type that supports trunking (for example m5.large)`,
    );
  }
  return { managed: true, optIn, instanceId, instanceType, limits };
}

export function optInOf(node: NodeObject, cniNode: CNINode | undefined): OptIn | undefined {
  const features = cniNode?.spec?.features ?? [];
  if (features.some((feature) => feature.name === SECURITY_GROUPS_FOR_PODS_FEATURE)) return 'cninode-feature';
  if (node.metadata.labels?.[HAS_TRUNK_ATTACHED_LABEL] !== undefined) return 'legacy-label';
  return undefined;
}

function skipped(cause: UnmanagedCause, message: string): Eligibility {
  return { managed: false, cause, message, event: { type: 'Normal', reason: Reason.NodeSkipped, message } };
}

function unsupported(cause: UnmanagedCause, message: string): Eligibility {
  return { managed: false, cause, message, event: { type: 'Warning', reason: Reason.Unsupported, message } };
}
