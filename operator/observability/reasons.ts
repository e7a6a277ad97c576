/**
 * Kubernetes event reasons, defined once. Where EKS's controller has a reason for the same situation we
 * use its spelling, so runbooks and alerts written for EKS keep working (docs/compatibility.md#events).
 */
export const Reason = {
  // pods (EKS-compatible)
  SecurityGroupRequested: 'SecurityGroupRequested',
  ResourceAllocated: 'ResourceAllocated',
  BranchAllocationFailed: 'BranchAllocationFailed',
  BranchENIAnnotationFailed: 'BranchENIAnnotationFailed',
  // nodes (EKS-compatible)
  NodeTrunkInitiated: 'NodeTrunkInitiated',
  NodeTrunkFailedInit: 'NodeTrunkFailedInit',
  TrunkENICreationFailed: 'TrunkENICreationFailed',
  Unsupported: 'Unsupported',
  BranchENICoolDownPeriodUpdated: 'BranchENICoolDownPeriodUpdated',
  CNINodeCreationFailed: 'CNINodeCreationFailed',
  // nodes (ours)
  /** Normal: the node is not an EC2 instance we can attach a trunk to (Fargate, EKS Auto Mode, other providers). */
  NodeSkipped: 'NodeSkipped',
  /** Warning: no free device index on the instance for the trunk ENI. */
  NoFreeENISlot: 'NoFreeENISlot',
  /** Normal: the node stopped asking for a trunk; pod-eni capacity withdrawn, the trunk stays attached. */
  NodeTrunkUnmanaged: 'NodeTrunkUnmanaged',
  /** Warning: releasing the branch ENIs of a deleted node failed (retried). */
  NodeBranchCleanupFailed: 'NodeBranchCleanupFailed',
  // webhooks (ours)
  /** Warning: a SecurityGroupPolicy selects the pod but it does not request vpc.amazonaws.com/pod-eni. */
  PodMissingPodENIResource: 'PodMissingPodENIResource',
  /** Normal: strict mode deleted such a pod so its controller recreates it through the webhook. */
  PodRecreatedForPodENIResource: 'PodRecreatedForPodENIResource',
  // pods, branches and policies (ours)
  /** Warning: the pod matches a SecurityGroupPolicy that failed validation; it keeps waiting (or keeps its groups). */
  SecurityGroupPolicyInvalid: 'SecurityGroupPolicyInvalid',
  /** Normal: a SecurityGroupPolicy passed validation again after being invalid. */
  SecurityGroupPolicyValid: 'SecurityGroupPolicyValid',
  /** Normal: the pod's branch ENI got a new set of security groups in place, without a restart. */
  SecurityGroupsUpdated: 'SecurityGroupsUpdated',
  /** Warning: EC2 refused the new security groups for the pod's branch ENI; it keeps the previous ones. */
  SecurityGroupsUpdateFailed: 'SecurityGroupsUpdateFailed',
  /**
   * Warning: the union of the pod's policies has more security groups than the account's per-ENI quota; names
   * the policies and the quota. Not retried until the pod's policies change.
   */
  SecurityGroupQuotaExceeded: 'SecurityGroupQuotaExceeded',
  /**
   * Warning: groups in the pod's (or its ServiceAccount's) vpc.amazonaws.com/security-groups annotation were
   * refused (feature off, namespace not opted in, malformed, or not allow-listed); the pod gets only the rest.
   */
  SecurityGroupAnnotationRefused: 'SecurityGroupAnnotationRefused',
  /**
   * Warning: the pod carried a vpc.amazonaws.com/pod-eni annotation sgp-operator did not write (no
   * BranchInterface of the pod, or another ENI than it records); the operator removed it.
   */
  PodENIAnnotationForged: 'PodENIAnnotationForged',
  /** Normal: the node holds as many branch ENIs as it may (in use or cooling down); the pod waits. */
  BranchENICapacityReached: 'BranchENICapacityReached',
  /** Normal: the node's subnet has no free address; the pod's branch ENI goes to a subnet tagged for pods. */
  BranchENISubnetFallback: 'BranchENISubnetFallback',
  /**
   * Warning, on SecurityGroupPolicies: the policy names a security group no SecurityGroupGrant allows in its
   * namespace (or a grant that might is not resolved yet); its pods get no new branch ENI until it is fixed.
   */
  SecurityGroupNotGranted: 'SecurityGroupNotGranted',
  /**
   * Warning, on SecurityGroupPolicies: a groupNames or groupSelectors entry denotes no group of the cluster's
   * VPC (deleted, untagged) or several (names the candidates); pods it selects are held until it does.
   */
  SecurityGroupReferenceUnresolved: 'SecurityGroupReferenceUnresolved',
  /** Normal, on SecurityGroupPolicies: a name or selector now denotes another group; pods follow in place. */
  SecurityGroupReferenceChanged: 'SecurityGroupReferenceChanged',
  /** Warning, on SecurityGroupGrants: resolving the grant's tag rules in EC2 failed (retried). */
  SecurityGroupGrantResolveFailed: 'SecurityGroupGrantResolveFailed',
  // pod networks (ours; docs/networks.md)
  /** Normal, on Nodes: the node's ENIConfig (or its edit) now decides where new branch ENIs go; running pods keep theirs. */
  PodNetworkChanged: 'PodNetworkChanged',
  /** Warning, on Nodes: the node's ENIConfig does not exist; its trunk is not created, branches stay where they were. */
  ENIConfigNotFound: 'ENIConfigNotFound',
  /** Warning, on Nodes: the node's ENIConfig names no usable subnet (malformed, missing, or in another zone). */
  ENIConfigInvalid: 'ENIConfigInvalid',
  /** Warning, on Nodes: the VPC CNI marked the node for custom networking, but the operator runs with it off. */
  CustomNetworkingIgnored: 'CustomNetworkingIgnored',
  /** Warning, on Nodes: branch ENIs need an IPv6 address (IPv6 or dual-stack) but their subnet has no IPv6 block. */
  SubnetWithoutIPv6Block: 'SubnetWithoutIPv6Block',
  // VPC address ranges (ours)
  /** Normal, on Nodes: the subnets tagged for pods in the node's zone, or the VPC's CIDR blocks, changed. */
  PodSubnetsChanged: 'PodSubnetsChanged',
  VpcCidrBlocksChanged: 'VpcCidrBlocksChanged',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
