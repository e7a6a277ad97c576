/**
 * Names shared with the outside world: the VPC CNI, EKS's SecurityGroupPolicy and CNINode APIs, and the
 * EC2 tag scheme. They are part of our compatibility contract (docs/compatibility.md), so
 * they are spelled exactly as EKS spells them and defined only here.
 */

/** API group of SecurityGroupPolicy (v1beta1) and CNINode (v1alpha1), shared with EKS. */
export const VPC_RESOURCES_GROUP = 'vpcresources.k8s.aws';
/** Our own API group for TrunkInterface and BranchInterface (v1alpha1). */
export const TRUNKING_GROUP = 'trunking.sgp-operator.io';
export const TRUNKING_VERSION = 'v1alpha1';

/** Extended resource the pod requests (containers[0]) and the node advertises: one unit per branch ENI. */
export const POD_ENI_RESOURCE = 'vpc.amazonaws.com/pod-eni';
/** Pod annotation the VPC CNI reads: a JSON array of {@link PodEniAnnotationEntry}. */
export const POD_ENI_ANNOTATION = 'vpc.amazonaws.com/pod-eni';
/** Legacy node opt-in label (its presence, any value, opts the node in). */
export const HAS_TRUNK_ATTACHED_LABEL = 'vpc.amazonaws.com/has-trunk-attached';
/** CNINode feature the VPC CNI patches in when ENABLE_POD_ENI=true. */
export const SECURITY_GROUPS_FOR_PODS_FEATURE = 'SecurityGroupsForPods';
/** EKS Auto Mode nodes are managed by AWS and skipped. */
export const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';
/** Fargate pods carry this label; they never get branch ENIs from us. */
export const FARGATE_PROFILE_LABEL = 'eks.amazonaws.com/fargate-profile';
/**
 * Security groups by annotation on a Pod (or its pod template) or ServiceAccount: comma-separated sg ids.
 * Our opt-in extension, not an EKS API (docs/compatibility.md#where-we-differ-on-purpose); off unless --enable-security-group-annotations.
 */
export const SECURITY_GROUPS_ANNOTATION = 'vpc.amazonaws.com/security-groups';
/**
 * Namespace label (value "true") a cluster admin sets to let the namespace's pods and ServiceAccounts use
 * {@link SECURITY_GROUPS_ANNOTATION}. Labelling a namespace takes cluster-scoped rights, which pod authors
 * usually lack; that is what makes it an opt-in rather than a self-service switch.
 */
export const ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL = 'trunking.sgp-operator.io/allow-security-group-annotations';

/** ConfigMap and key holding the branch ENI cooldown in seconds, as EKS reads it. */
export const VPC_CNI_CONFIGMAP_NAMESPACE = 'kube-system';
export const VPC_CNI_CONFIGMAP_NAME = 'amazon-vpc-cni';
export const BRANCH_ENI_COOLDOWN_KEY = 'branch-eni-cooldown';

/** ENI descriptions EKS uses; the VPC CNI and humans recognise ENIs by them. */
export const TRUNK_ENI_DESCRIPTION = 'aws-k8s-trunk-eni';
export const BRANCH_ENI_DESCRIPTION = 'aws-k8s-branch-eni';

/** VLAN ids usable for branch ENIs on one trunk: 1..120 (0 is reserved). */
export const MIN_VLAN_ID = 1;
export const MAX_VLAN_ID = 120;

/** Finalizers we own. */
export const CNINODE_FINALIZER = 'trunking.sgp-operator.io/resource-cleanup';
export const TRUNK_FINALIZER = 'trunking.sgp-operator.io/trunk-cleanup';
export const BRANCH_FINALIZER = 'trunking.sgp-operator.io/branch-cleanup';

/**
 * Subnets carrying this tag key (any value) in the node's VPC and zone take branch ENIs when the node's subnet
 * has no free address. It is the tag the VPC CNI's enhanced subnet discovery reads (CNI 1.18+), so one tag
 * marks a subnet for pod addresses for both.
 */
export const DEFAULT_POD_SUBNET_TAG_KEY = 'kubernetes.io/role/cni';

/** CNINode feature the VPC CNI patches in (value: the node's ENIConfig name) when it runs custom networking. */
export const CUSTOM_NETWORKING_FEATURE = 'CustomNetworking';
/**
 * How the VPC CNI names a node's ENIConfig when custom networking is on (pkg/eniconfig): a label that
 * overrides everything, then the annotation ENI_CONFIG_ANNOTATION_DEF, then the label ENI_CONFIG_LABEL_DEF,
 * else the ENIConfig named "default". EKS's controller also reads its own label.
 */
export const EXTERNAL_ENI_CONFIG_LABEL = 'vpc.amazonaws.com/externalEniConfig';
export const DEFAULT_ENI_CONFIG_ANNOTATION_KEY = 'k8s.amazonaws.com/eniConfig';
export const DEFAULT_ENI_CONFIG_LABEL_KEY = 'k8s.amazonaws.com/eniConfig';
export const DEFAULT_ENI_CONFIG_NAME = 'default';
export const EKS_ENI_CONFIG_LABEL = 'vpc.amazonaws.com/eniConfig';
/** The VPC CNI's DaemonSet and container, whose environment says how the CNI runs. */
export const VPC_CNI_DAEMONSET_NAMESPACE = 'kube-system';
export const VPC_CNI_DAEMONSET_NAME = 'aws-node';
export const VPC_CNI_CONTAINER_NAME = 'aws-node';

/** Namespace label the operator sets on every namespace holding at least one SecurityGroupPolicy. */
export const POLICY_NAMESPACE_LABEL = 'trunking.sgp-operator.io/has-policies';

/** Event reporting component. */
export const REPORTING_COMPONENT = 'sgp-operator';

/**
 * EC2 tags (docs/compatibility.md#eni-descriptions-and-tags). The first five are EKS's own, so EKS tooling and our sweeps see the same
 * ENIs; the rest are ours and let a restart rebuild state and let sweeps prove ownership.
 */
export const TAG = {
  /** Owner of the ENI: EKS writes 'eks-vpc-resource-controller'; we write {@link ENI_OWNER}. */
  owner: 'eks:eni:owner',
  instanceId: 'node.k8s.amazonaws.com/instance_id',
  clusterName: 'cluster.k8s.amazonaws.com/name',
  trunkEniId: 'vpcresources.k8s.aws/trunk-eni-id',
  vlanId: 'vpcresources.k8s.aws/vlan-id',
  /** `kubernetes.io/cluster/<cluster>` = 'owned'. */
  clusterOwnedPrefix: 'kubernetes.io/cluster/',
  nodeName: 'trunking.sgp-operator.io/node-name',
  podNamespace: 'trunking.sgp-operator.io/pod-namespace',
  podName: 'trunking.sgp-operator.io/pod-name',
  podUid: 'trunking.sgp-operator.io/pod-uid',
} as const;
export const ENI_OWNER = 'sgp-operator';
