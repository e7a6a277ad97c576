import type { ConnectionTracking } from '../aws/ec2-api.ts';

/**
 * TypeScript shapes of the custom resources we read and write. The CRD schemas in crds/ are the contract
 * the API server enforces; test/unit/api/crd-schema.test.ts keeps these types and those schemas in step.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** One security group chosen by its EC2 tags (our extension): every tag, with exactly that value. */
export interface SecurityGroupSelector {
  tags: Record<string, string>;
}

/** What one groupNames or groupSelectors entry resolved to (status, our extension). */
export interface ResolvedGroupReference {
  /** The groupNames entry, as written (absent for a selector). */
  name?: string;
  /** The groupSelectors entry's tags (absent for a name). */
  tags?: Record<string, string>;
  groupId: string;
  /** The group's EC2 name. */
  groupName: string;
}

/**
 * vpcresources.k8s.aws/v1beta1 SecurityGroupPolicy: the EKS schema plus our status, and groups by name or tag
 * selector (our extension; EKS reads groupIds only).
 */
export interface SecurityGroupPolicy {
  apiVersion: 'vpcresources.k8s.aws/v1beta1';
  kind: 'SecurityGroupPolicy';
  metadata: ObjectMeta;
  spec: {
    podSelector?: LabelSelector;
    serviceAccountSelector?: LabelSelector;
    securityGroups: {
      groupIds?: string[];
      /** EC2 group names in the cluster's VPC (our extension). */
      groupNames?: string[];
      /** Groups of the cluster's VPC by tags, one group each (our extension). */
      groupSelectors?: SecurityGroupSelector[];
    };
  };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    /** Every group the policy gives, as found in EC2 (names and selectors resolved), sorted. */
    resolvedGroupIds?: string[];
    /** What each name and selector resolved to, in spec order. */
    resolvedReferences?: ResolvedGroupReference[];
    /** Number of pods in the namespace this policy currently selects. */
    matchedPods?: number;
  };
}

/**
 * vpcresources.k8s.aws/v1alpha1 CNINode (cluster-scoped, one per Node, same name), up to the resource
 * controller's v1.8 line. Status belongs to the controller named by spec.managedBy (empty: the resource
 * controller, which sgp-operator stands in for).
 */
export interface CNINode {
  apiVersion: 'vpcresources.k8s.aws/v1alpha1';
  kind: 'CNINode';
  metadata: ObjectMeta;
  spec?: {
    features?: { name: string; value?: string }[];
    tags?: Record<string, string>;
    managedBy?: 'vpc-resource-controller' | 'eks-auto-mode';
  };
  status?: {
    nodeNetworkState?: NodeNetworkState;
    trunkInterface?: CniNodeTrunkInterface;
  };
}

/** CNINode status.nodeNetworkState: what a controller needs for new branch ENIs without describing EC2. */
export interface NodeNetworkState {
  instanceID: string;
  instanceType?: string;
  /** The subnet new branch ENIs go to (the ENIConfig's with custom networking). */
  subnetID: string;
  subnetCIDRBlock: string;
  subnetV6CIDRBlock?: string;
  primaryNetworkInterfaceSecurityGroups: string[];
  connectionTracking?: ConnectionTracking;
}

/** CNINode status.trunkInterface (written by EKS's controllers; read-compatible here). */
export interface CniNodeTrunkInterface {
  id: string;
  macAddress?: string;
  deviceIndex?: number;
  subnetID?: string;
  branches?: {
    id: string;
    vlanID: number;
    associationID?: string;
    macAddress?: string;
    subnetCIDR?: string;
    subnetV6CIDR?: string;
    securityGroups?: string[];
    ipv4CIDRs?: string[];
    ipv6CIDRs?: string[];
  }[];
}

/**
 * crd.k8s.amazonaws.com/v1alpha1 ENIConfig (cluster-scoped, the VPC CNI's): with custom networking, the subnet
 * and security groups of a node's pod ENIs, the node choosing one by name (docs/networks.md).
 */
export interface ENIConfig {
  apiVersion: 'crd.k8s.amazonaws.com/v1alpha1';
  kind: 'ENIConfig';
  metadata: ObjectMeta;
  spec?: { subnet?: string; securityGroups?: string[] };
}

export type TrunkState = 'Pending' | 'Creating' | 'Attaching' | 'Ready' | 'Failed' | 'Deleting';

/** trunking.sgp-operator.io/v1alpha1 TrunkInterface: one per managed node (cluster-scoped, named as the node). */
export interface TrunkInterface {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1';
  kind: 'TrunkInterface';
  metadata: ObjectMeta;
  spec: {
    nodeName: string;
    instanceId: string;
    instanceType: string;
  };
  status?: {
    observedGeneration?: number;
    state?: TrunkState;
    eniId?: string;
    attachmentId?: string;
    subnetId?: string;
    subnetCidr?: string;
    subnetV6Cidr?: string;
    availabilityZone?: string;
    /** Security groups of the trunk ENI (the node's primary ENI groups, or its ENIConfig's); sorted. */
    securityGroups?: string[];
    /** The node's ENIConfig with custom networking. */
    eniConfig?: string;
    /** Where new branch ENIs go: the trunk's subnet, or the ENIConfig's. */
    branchSubnet?: { subnetId: string; cidrBlock: string; ipv6CidrBlock?: string };
    /** The node's primary ENI, as last described: what trunk and branch ENIs copy. */
    primaryInterface?: { securityGroups?: string[]; connectionTracking?: ConnectionTracking };
    /** Branch ENI limit of the instance type. */
    branchCapacity?: number;
    /** Branch ENIs in use or cooling down on this trunk. */
    branchesUsed?: number;
    /** The VPC's associated IPv4 CIDR blocks, as last described. */
    vpcCidrBlocks?: string[];
    /** Subnets tagged for pods in the node's zone: branch ENIs go there when the node's subnet is exhausted. */
    podSubnets?: { subnetId: string; cidrBlock: string }[];
    conditions?: Condition[];
  };
}

export type BranchPhase = 'Pending' | 'Creating' | 'Associating' | 'Ready' | 'CoolingDown' | 'Releasing';

/**
 * trunking.sgp-operator.io/v1alpha1 BranchInterface: one per pod that gets a branch ENI (same namespace and
 * name as the pod, owned by it). spec is the desired state the pod controller decides; status records each
 * step taken in EC2 before the next one, so a restart resumes where it stopped.
 */
export interface BranchInterface {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1';
  kind: 'BranchInterface';
  metadata: ObjectMeta;
  spec: {
    podName: string;
    podUid: string;
    nodeName: string;
    /** Desired groups, sorted; empty means the node's default groups (the trunk ENI's groups). */
    securityGroups: string[];
    /** Policies (and 'annotation') the groups came from, for humans. */
    matchedPolicies?: string[];
  };
  status?: {
    observedGeneration?: number;
    phase?: BranchPhase;
    eniId?: string;
    vlanId?: number;
    trunkEniId?: string;
    associationId?: string;
    macAddress?: string;
    privateIp?: string;
    ipv6Address?: string;
    subnetId?: string;
    subnetCidr?: string;
    subnetV6Cidr?: string;
    /** Groups currently on the ENI in EC2, sorted. */
    appliedSecurityGroups?: string[];
    /** When the pod went away or finished (RFC 3339); the ENI is released after the cooldown from here. */
    releaseRequestedAt?: string;
    conditions?: Condition[];
  };
}

/** One element of the `vpc.amazonaws.com/pod-eni` annotation, in the field order the CNI's producer writes. */
export interface PodEniAnnotationEntry {
  eniId: string;
  ifAddress: string;
  privateIp: string;
  ipv6Addr: string;
  vlanId: number;
  subnetCidr: string;
  subnetV6Cidr: string;
  associationID: string;
}

/** One EC2 tag rule of a grant: groups carrying `key` (with one of `values`, when listed). */
export interface SecurityGroupTagRule {
  key: string;
  values?: string[];
}

/**
 * trunking.sgp-operator.io/v1alpha1 SecurityGroupGrant (cluster-scoped, written by cluster admins): the
 * namespaces it covers may use the groups it names. Opt-in: with none in the cluster every group is allowed.
 */
export interface SecurityGroupGrant {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1';
  kind: 'SecurityGroupGrant';
  metadata: ObjectMeta;
  spec: {
    namespaces: { names?: string[]; selector?: LabelSelector };
    securityGroups: { groupIds?: string[]; tags?: SecurityGroupTagRule[] };
  };
  status?: {
    /** The generation resolvedGroupIds belong to. */
    observedGeneration?: number;
    /** Groups of the cluster's VPC the tag rules matched, sorted. */
    resolvedGroupIds?: string[];
    conditions?: Condition[];
  };
}
