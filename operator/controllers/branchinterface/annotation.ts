/**
 * The `vpc.amazonaws.com/pod-eni` annotation, exactly as the VPC CNI reads it (docs/compatibility.md#the-pod-eni-annotation): a JSON
 * array with one object per branch ENI, fields in EKS's order, `vlanId` a number, `associationID` with a
 * capital "ID". The CNI reads only element 0 and needs a non-empty IP, a MAC, a VLAN ≠ 0 and a CIDR.
 */
import type { LeanPod } from '../../api/pod.ts';
import { POD_ENI_ANNOTATION } from '../../api/constants.ts';
import type { BranchInterface, PodEniAnnotationEntry } from '../../api/types.ts';

/** The annotation entry for a branch whose ENI is created and associated; undefined before that. */
export function podEniAnnotationEntry(status: BranchInterface['status']): PodEniAnnotationEntry | undefined {
  if (!status?.eniId || !status.macAddress || !status.vlanId || !status.associationId) return undefined;
  if (!status.privateIp && !status.ipv6Address) return undefined;
  // Literal in field order: JSON.stringify keeps insertion order, and the order is part of the contract.
  return {
    eniId: status.eniId,
    ifAddress: status.macAddress,
    privateIp: status.privateIp ?? '',
    ipv6Addr: status.ipv6Address ?? '',
    vlanId: status.vlanId,
    subnetCidr: status.subnetCidr ?? '',
    subnetV6Cidr: status.subnetV6Cidr ?? '',
    associationID: status.associationId,
  };
}

/** The annotation value, or undefined when the branch is not ready to be announced. */
export function podEniAnnotationValue(status: BranchInterface['status']): string | undefined {
  const entry = podEniAnnotationEntry(status);
  return entry ? JSON.stringify([entry]) : undefined;
}

/**
 * The first entry of a pod's `vpc.amazonaws.com/pod-eni` annotation read as the VPC CNI reads it (Go's JSON
 * decoder matches keys case-insensitively), when it names a whole association: an ENI, a MAC, an IP, a VLAN
 * id ≠ 0 and the association id. Undefined for a missing, malformed or partial annotation. Used to adopt the
 * branch ENI of a pod another controller (EKS's) wired before this operator took over.
 */
export function parsePodEniAnnotation(value: string | undefined): PodEniAnnotationEntry | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Not JSON: nothing the CNI could have wired either.
    return undefined;
  }
  const first: unknown = Array.isArray(parsed) ? parsed[0] : undefined;
  if (typeof first !== 'object' || first === null) return undefined;
  const fields = new Map(Object.entries(first).map(([key, field]) => [key.toLowerCase(), field as unknown]));
  const text = (key: string) => {
    const field = fields.get(key.toLowerCase());
    return typeof field === 'string' ? field : '';
  };
  const vlanId = fields.get('vlanid');
  const entry: PodEniAnnotationEntry = {
    eniId: text('eniId'),
    ifAddress: text('ifAddress'),
    privateIp: text('privateIp'),
    ipv6Addr: text('ipv6Addr'),
    vlanId: typeof vlanId === 'number' && Number.isInteger(vlanId) ? vlanId : 0,
    subnetCidr: text('subnetCidr'),
    subnetV6Cidr: text('subnetV6Cidr'),
    associationID: text('associationID'),
  };
  const isWhole =
    entry.eniId.startsWith('eni-') &&
    entry.ifAddress !== '' &&
    (entry.privateIp !== '' || entry.ipv6Addr !== '') &&
    entry.vlanId > 0 &&
    entry.associationID !== '';
  return isWhole ? entry : undefined;
}

/**
 * VLAN ids on a node held by branch ENIs that no BranchInterface records: pods wired by another controller
 * (EKS's, before a switch) and not adopted yet. A new branch must not take one of them, or its association
 * would collide with the pod's. `siblings` are the node's BranchInterfaces; `pods` the node's pods.
 */
export function foreignVlans(pods: readonly LeanPod[], siblings: readonly BranchInterface[]): Set<number> {
  const recorded = new Set(siblings.flatMap((sibling) => (sibling.status?.eniId ? [sibling.status.eniId] : [])));
  const vlans = new Set<number>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const entry = parsePodEniAnnotation(pod.metadata.annotations?.[POD_ENI_ANNOTATION]);
    if (entry && !recorded.has(entry.eniId)) vlans.add(entry.vlanId);
  }
  return vlans;
}
