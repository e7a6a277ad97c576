/**
 * The node's `vpc.amazonaws.com/pod-eni` extended resource (docs/compatibility.md#the-pod-eni-resource). Pure.
 *
 * EKS writes only status.capacity and leaves allocatable to the kubelet, which leaves pods unschedulable until
 * the kubelet's next status sync copies it (EKS issue #637); we also write allocatable when it is missing or
 * different. The kubelet would compute the same figure (nothing is reserved from an extended resource), so
 * the two writers agree. A kubelet restart can drop the resource again; every Node update re-runs this check,
 * so the value is repaired.
 *
 * A node that stops being managed loses the resource (both fields, set to null in the merge patch): the
 * scheduler then stops placing pods that need a branch ENI on it. EKS instead keeps advertising and deletes
 * all branch ENIs a minute later; we keep the running pods' branches (their pods still work) and let them be
 * released as those pods go, because tearing the network out from under running pods is worse than waiting.
 */
import { POD_ENI_RESOURCE } from '../../api/constants.ts';
import type { NodeObject } from './node-object.ts';

export interface CapacityPatch {
  capacity?: Record<string, string | null>;
  allocatable?: Record<string, string | null>;
}

/**
 * The merge patch for nodes/status that makes the advertised branch capacity `branchEnis` (undefined: not
 * advertised at all), or undefined when the node already says so.
 */
export function podEniCapacityPatch(node: NodeObject, branchEnis: number | undefined): CapacityPatch | undefined {
  const capacity = node.status?.capacity?.[POD_ENI_RESOURCE];
  const allocatable = node.status?.allocatable?.[POD_ENI_RESOURCE];
  const patch: CapacityPatch = {};
  if (branchEnis === undefined) {
    if (capacity !== undefined) patch.capacity = { [POD_ENI_RESOURCE]: null };
    if (allocatable !== undefined) patch.allocatable = { [POD_ENI_RESOURCE]: null };
  } else {
    const wanted = String(branchEnis);
    if (capacity !== wanted) patch.capacity = { [POD_ENI_RESOURCE]: wanted };
    if (allocatable !== wanted) patch.allocatable = { [POD_ENI_RESOURCE]: wanted };
  }
  return patch.capacity !== undefined || patch.allocatable !== undefined ? patch : undefined;
}
