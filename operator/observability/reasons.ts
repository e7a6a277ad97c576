/**
 * Kubernetes event reasons, defined once. Where EKS's controller has a reason for the same situation we
 * use its spelling, so runbooks and alerts written for EKS keep working (anchor study §4.6).
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
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
