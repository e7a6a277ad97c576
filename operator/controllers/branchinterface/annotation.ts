/**
 * The `vpc.amazonaws.com/pod-eni` annotation, exactly as the VPC CNI reads it (anchor study §4.2): a JSON
 * array with one object per branch ENI, fields in EKS's order, `vlanId` a number, `associationID` with a
 * capital "ID". The CNI reads only element 0 and needs a non-empty IP, a MAC, a VLAN ≠ 0 and a CIDR.
 */
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
