/**
 * The operator's options as data: flag, environment twin, default, bounds and help text of each. This table
 * is the single source of the parser (./options.ts), of `--help` and of the README's configuration table.
 */
import {
  DEFAULT_ENI_CONFIG_ANNOTATION_KEY,
  DEFAULT_ENI_CONFIG_LABEL_KEY,
  DEFAULT_POD_SUBNET_TAG_KEY,
} from './api/constants.ts';
import { OperatorError } from './errors.ts';
import { LOG_LEVELS } from './observability/logger.ts';

/**
 * EC2 rate-limit buckets, the one list of them: one per EC2 action (EC2 keeps one per account, Region and
 * action), plus the smaller bucket unfiltered describes draw from, with EC2's documented default buckets
 * (docs/ec2-semantics.md#throttling) as defaults. The AWS layer's buckets (operator/aws/rate-limiter.ts) are built from
 * it. The AWS layer keeps 10 % of each burst in reserve and halves its rate after a throttle, so the defaults
 * are right for an account with default limits.
 */
const MUTATING_HEAVY = { qps: 5, burst: 100 };
const MUTATING_OTHER = { qps: 5, burst: 50 };
const TAGGING = { qps: 10, burst: 100 };
const DESCRIBE = { qps: 20, burst: 100 };
export const EC2_BUCKETS = [
  { name: 'CreateNetworkInterface', ...MUTATING_HEAVY },
  { name: 'DeleteNetworkInterface', ...MUTATING_HEAVY },
  { name: 'ModifyNetworkInterfaceAttribute', ...MUTATING_HEAVY },
  { name: 'CreateTags', ...TAGGING },
  { name: 'DeleteTags', ...TAGGING },
  { name: 'AttachNetworkInterface', ...MUTATING_OTHER },
  { name: 'DetachNetworkInterface', ...MUTATING_OTHER },
  { name: 'AssociateTrunkInterface', ...MUTATING_OTHER },
  { name: 'DisassociateTrunkInterface', ...MUTATING_OTHER },
  { name: 'CreateNetworkInterfacePermission', ...MUTATING_OTHER },
  { name: 'DescribeInstances', ...DESCRIBE },
  { name: 'DescribeInstanceTypes', ...DESCRIBE },
  { name: 'DescribeSubnets', ...DESCRIBE },
  { name: 'DescribeVpcs', ...DESCRIBE },
  { name: 'DescribeSecurityGroups', ...DESCRIBE },
  { name: 'DescribeNetworkInterfaces', ...DESCRIBE },
  { name: 'DescribeTrunkInterfaceAssociations', ...DESCRIBE },
  { name: 'UnfilteredDescribe', qps: 10, burst: 50 },
] as const;
/** "CreateNetworkInterface" → "create-network-interface" (flag) / "CREATE_NETWORK_INTERFACE" (env). */
export function bucketFlagName(bucket: string): string {
  return bucket.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}
const UNFILTERED_NOTE =
  'DescribeInstances, DescribeNetworkInterfaces and DescribeSecurityGroups sent with neither filters nor ' +
  'pagination (EC2 charges those to a smaller bucket)';
export type Ec2BucketName = (typeof EC2_BUCKETS)[number]['name'];

export type ValueType = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'address';
export interface OptionDefinition {
  flag: string;
  env: string;
  /** Standard variables honoured after `env` (AWS_REGION, KUBECONFIG, …). */
  envAliases?: readonly string[];
  type: ValueType;
  /** Shown in help and README; undefined = no default. */
  default?: string | number | boolean;
  /** Why the option is required (it is when set). */
  required?: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  pattern?: { regex: RegExp; expected: string };
  /** Addresses only: "0" turns the server off. */
  canTurnOff?: boolean;
  section: string;
  help: string;
}

export const WEBHOOK_ADDRESS_HELP = 'host:port; ":port" listens on every interface, ":0" on a free port';
export const ADDRESS_HELP = `${WEBHOOK_ADDRESS_HELP}, "0" turns it off`;
const rateLimitDefinitions: OptionDefinition[] = EC2_BUCKETS.flatMap((bucket): OptionDefinition[] => {
  const flagName = bucketFlagName(bucket.name);
  const envName = flagName.toUpperCase().replaceAll('-', '_');
  const calls = bucket.name === 'UnfilteredDescribe' ? UNFILTERED_NOTE : bucket.name;
  return [
    {
      flag: `ec2-${flagName}-qps`,
      env: `SGP_EC2_${envName}_QPS`,
      type: 'number',
      default: bucket.qps,
      min: 0.1,
      max: 1000,
      section: 'EC2 rate limits',
      help: `Sustained ${calls} calls per second (the bucket's refill); 0.1..1000.`,
    },
    {
      flag: `ec2-${flagName}-burst`,
      env: `SGP_EC2_${envName}_BURST`,
      type: 'integer',
      default: bucket.burst,
      min: 1,
      max: 10000,
      section: 'EC2 rate limits',
      help: `${calls} calls allowed at once after an idle period (the bucket's capacity); 1..10000.`,
    },
  ];
});

/** Said once above a section of `--help` (and the README) rather than on each of its options. */
export const SECTION_NOTES: Readonly<Record<string, string>> = {
  'EC2 rate limits':
    'One token bucket per EC2 action, defaults as EC2’s own per-account buckets. Raise them only when AWS ' +
    'has raised your account’s limits: above the account’s bucket the operator draws RequestLimitExceeded, ' +
    'which slows every client in the account, the VPC CNI included. Lower them to leave room for other ' +
    'tools. The operator keeps 10% of each burst in reserve and halves its rate after a throttle.',
};

/** Every option, in help order. */
export const OPTION_DEFINITIONS: readonly OptionDefinition[] = [
  {
    flag: 'cluster-name',
    env: 'SGP_CLUSTER_NAME',
    type: 'string',
    required: 'it goes into every ENI tag and scopes every leak sweep',
    pattern: { regex: /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, expected: 'letters, digits, "-" and "_", at most 100' },
    section: 'Cluster',
    help:
      'Name of the cluster, as in EKS. Written to the cluster tag of every trunk and branch ENI; sweeps only ' +
      'ever touch ENIs carrying it, so two clusters in one VPC never collect each other’s ENIs. Never change ' +
      'it on a running cluster.',
  },
  {
    flag: 'vpc-id',
    env: 'SGP_VPC_ID',
    type: 'string',
    pattern: { regex: /^vpc-[0-9a-f]{8,17}$/, expected: 'vpc- followed by 8 or 17 hex digits' },
    section: 'Cluster',
    help:
      'VPC of the cluster’s nodes; security groups named by policies must belong to it. Optional: when ' +
      'empty it is discovered at start from the EC2 instance of the first Node with an aws:// providerID, ' +
      'so set it when the operator may start before any node exists.',
  },
  {
    flag: 'region',
    env: 'SGP_REGION',
    envAliases: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    type: 'string',
    required: 'every EC2 call is regional (IRSA and EKS Pod Identity set AWS_REGION for you)',
    pattern: { regex: /^[a-z]{2}(-[a-z]+)+-\d+$/, expected: 'an AWS region such as eu-west-1' },
    section: 'AWS',
    help: 'AWS region of the cluster’s VPC.',
  },
  {
    flag: 'ec2-endpoint',
    env: 'SGP_EC2_ENDPOINT',
    envAliases: ['AWS_ENDPOINT_URL_EC2'],
    type: 'string',
    pattern: { regex: /^https?:\/\/[^\s/]+(\/\S*)?$/, expected: 'an http(s) URL' },
    section: 'AWS',
    help:
      'EC2 endpoint URL instead of the regional default: a VPC interface endpoint, a FIPS endpoint, or the ' +
      'local EC2 emulator (hack/ec2-emulator) for demos and tests. Empty: the regional endpoint.',
  },
  {
    flag: 'trunk-association-role-arn',
    env: 'SGP_TRUNK_ASSOCIATION_ROLE_ARN',
    type: 'string',
    pattern: { regex: /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, expected: 'an IAM role ARN' },
    section: 'AWS',
    help:
      'IAM role assumed (STS) for Associate/DisassociateTrunkInterface and DescribeTrunkInterfaceAssociations, ' +
      'the calls that need an allow-listed account, while everything else uses the default credentials — ' +
      'how EKS runs its controller. Empty: one identity for every call.',
  },
  {
    flag: 'trunk-association-account-id',
    env: 'SGP_TRUNK_ASSOCIATION_ACCOUNT_ID',
    type: 'string',
    pattern: { regex: /^\d{12}$/, expected: '12 digits' },
    section: 'AWS',
    help:
      'Account granted INSTANCE-ATTACH (CreateNetworkInterfacePermission) on every trunk and branch ENI so the ' +
      'association identity may use them. Defaults to the account of --trunk-association-role-arn.',
  },
  ...rateLimitDefinitions,
  {
    flag: 'ec2-max-attempts',
    env: 'SGP_EC2_MAX_ATTEMPTS',
    type: 'integer',
    default: 3,
    min: 1,
    max: 10,
    section: 'EC2 rate limits',
    help:
      'Attempts per EC2 call on retryable errors (throttling, 5xx) before the reconcile fails and backs off. ' +
      'More hides short outages but holds a worker longer; 1..10.',
  },
  {
    flag: 'pod-workers',
    env: 'SGP_POD_WORKERS',
    type: 'integer',
    default: 20,
    min: 1,
    max: 500,
    section: 'Concurrency',
    help:
      'Pods reconciled at once (never two on one pod). More lowers latency in bursts; EC2 buckets, not ' +
      'workers, set the ceiling; 1..500.',
  },
  {
    flag: 'branch-workers',
    env: 'SGP_BRANCH_WORKERS',
    type: 'integer',
    default: 30,
    min: 1,
    max: 500,
    section: 'Concurrency',
    help: 'BranchInterfaces reconciled at once (create, associate, release). EKS uses 30; 1..500.',
  },
  {
    flag: 'node-workers',
    env: 'SGP_NODE_WORKERS',
    type: 'integer',
    default: 10,
    min: 1,
    max: 200,
    section: 'Concurrency',
    help: 'Nodes and TrunkInterfaces reconciled at once. More speeds up large node launches; 1..200.',
  },
  {
    flag: 'branch-cooldown-seconds',
    env: 'SGP_BRANCH_COOLDOWN_SECONDS',
    type: 'integer',
    default: 60,
    min: 30,
    max: 86400,
    section: 'Concurrency',
    help:
      'How long a released branch ENI waits before it is deleted, so the VPC CNI can tear the pod’s network ' +
      'down first. Used until the ConfigMap kube-system/amazon-vpc-cni key branch-eni-cooldown sets the live ' +
      'value (as on EKS). Longer is safer but holds node capacity; 30..86400.',
  },
  {
    flag: 'leader-elect',
    env: 'SGP_LEADER_ELECT',
    type: 'boolean',
    default: false,
    section: 'Leader election',
    help:
      'Run controllers only while holding a Lease, so several replicas can run and one reconciles. Webhooks, ' +
      'metrics and health serve on every replica. Required when replicas > 1.',
  },
  {
    flag: 'leader-election-namespace',
    env: 'SGP_LEADER_ELECTION_NAMESPACE',
    envAliases: ['POD_NAMESPACE'],
    type: 'string',
    default: 'kube-system',
    pattern: { regex: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, expected: 'a namespace name' },
    section: 'Leader election',
    help: 'Namespace of the Lease (the manifests pass the pod’s own namespace).',
  },
  {
    flag: 'leader-election-id',
    env: 'SGP_LEADER_ELECTION_ID',
    type: 'string',
    default: 'sgp-operator',
    pattern: { regex: /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, expected: 'a DNS subdomain name' },
    section: 'Leader election',
    help: 'Name of the Lease. Replicas of one deployment must share it; two deployments must not.',
  },
  {
    flag: 'lease-duration-seconds',
    env: 'SGP_LEASE_DURATION_SECONDS',
    type: 'integer',
    default: 30,
    min: 2,
    max: 600,
    section: 'Leader election',
    help:
      'How long followers wait after the last renewal before taking over. Shorter fails over faster after a ' +
      'crash but renews more often; must exceed --renew-deadline-seconds; 2..600.',
  },
  {
    flag: 'renew-deadline-seconds',
    env: 'SGP_RENEW_DEADLINE_SECONDS',
    type: 'integer',
    default: 15,
    min: 1,
    max: 599,
    section: 'Leader election',
    help:
      'How long the leader keeps retrying a renewal before it gives up leadership (and exits, so it restarts ' +
      'as a follower); must exceed --retry-period-seconds; 1..599.',
  },
  {
    flag: 'retry-period-seconds',
    env: 'SGP_RETRY_PERIOD_SECONDS',
    type: 'integer',
    default: 5,
    min: 1,
    max: 300,
    section: 'Leader election',
    help: 'How often candidates try to acquire, and the leader to renew, the Lease; 1..300.',
  },
  {
    flag: 'metrics-bind-address',
    env: 'SGP_METRICS_BIND_ADDRESS',
    type: 'address',
    default: ':8443',
    canTurnOff: true,
    section: 'Servers',
    help: `Prometheus /metrics (HTTPS unless --metrics-secure=false): ${ADDRESS_HELP}.`,
  },
  {
    flag: 'metrics-secure',
    env: 'SGP_METRICS_SECURE',
    type: 'boolean',
    default: true,
    section: 'Servers',
    help:
      'Serve /metrics over HTTPS and only to callers the API server vouches for: the bearer token is checked ' +
      'with a TokenReview and the caller must be allowed `get` on the non-resource URL /metrics (a ' +
      'SubjectAccessReview; grant it with the metrics-reader ClusterRole). Answers are cached for a minute ' +
      '(a denial for 10 s). false serves plain HTTP to anyone who can reach the port: for `make run` and ' +
      'demos, or behind a NetworkPolicy you trust.',
  },
  {
    flag: 'metrics-cert-dir',
    env: 'SGP_METRICS_CERT_DIR',
    type: 'string',
    section: 'Servers',
    help:
      'Folder holding the /metrics serving certificate (tls.crt, tls.key), e.g. a cert-manager Secret mount, ' +
      're-read when it changes; lets Prometheus verify the server. Empty: a self-signed certificate made in ' +
      'memory and rotated before it expires (scrape with insecure_skip_verify, as kubebuilder projects do).',
  },
  {
    flag: 'health-probe-bind-address',
    env: 'SGP_HEALTH_PROBE_BIND_ADDRESS',
    type: 'address',
    default: ':8081',
    canTurnOff: true,
    section: 'Servers',
    help: `/healthz (liveness) and /readyz (caches synced): ${ADDRESS_HELP}.`,
  },
  {
    flag: 'webhook-bind-address',
    env: 'SGP_WEBHOOK_BIND_ADDRESS',
    type: 'address',
    default: ':9443',
    section: 'Servers',
    help: `Admission webhooks (HTTPS): ${WEBHOOK_ADDRESS_HELP}. Turn webhooks off with --enable-webhooks=false.`,
  },
  {
    flag: 'webhook-cert-dir',
    env: 'SGP_WEBHOOK_CERT_DIR',
    type: 'string',
    section: 'Servers',
    help:
      'Folder holding the webhook serving certificate (tls.crt, tls.key), e.g. a cert-manager Secret mount; ' +
      'its CA injector then keeps the caBundle. Empty: the operator issues and rotates its own certificate ' +
      'in memory and keeps the webhook configurations’ caBundle current (no cert-manager needed).',
  },
  {
    flag: 'webhook-service-name',
    env: 'SGP_WEBHOOK_SERVICE_NAME',
    type: 'string',
    default: 'sgp-operator-webhook',
    pattern: { regex: /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, expected: 'a Service name' },
    section: 'Servers',
    help: 'Service in front of the webhook port: the webhook configurations point at it and the certificate names it.',
  },
  {
    flag: 'webhook-service-namespace',
    env: 'SGP_WEBHOOK_SERVICE_NAMESPACE',
    envAliases: ['POD_NAMESPACE'],
    type: 'string',
    default: 'kube-system',
    pattern: { regex: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, expected: 'a namespace name' },
    section: 'Servers',
    help: 'Namespace of that Service (the manifests pass the pod’s own namespace).',
  },
  {
    flag: 'enable-webhooks',
    env: 'SGP_ENABLE_WEBHOOKS',
    type: 'boolean',
    default: true,
    section: 'Servers',
    help:
      'Serve the pod admission webhooks (add the pod-eni resource; guard the pod-eni annotation). Turn off ' +
      'only when running outside the cluster, e.g. `make run` against a remote cluster.',
  },
  {
    flag: 'strict-pod-eni-resource',
    env: 'SGP_STRICT_POD_ENI_RESOURCE',
    type: 'boolean',
    default: false,
    section: 'Behaviour',
    help:
      'Delete a pod that matches a SecurityGroupPolicy but lacks the vpc.amazonaws.com/pod-eni request ' +
      '(created before the policy, or past the webhook), so its owner recreates it with its groups. Off: a ' +
      'Warning event and a metric only, and the pod keeps the node’s groups.',
  },
  {
    flag: 'enable-security-group-annotations',
    env: 'SGP_ENABLE_SECURITY_GROUP_ANNOTATIONS',
    type: 'boolean',
    default: false,
    section: 'Behaviour',
    help:
      'Let pods take security groups from a vpc.amazonaws.com/security-groups annotation on the pod (or its ' +
      'pod template) or its ServiceAccount, in addition to their SecurityGroupPolicies. Off by default ' +
      'because whoever writes a pod could otherwise pick any group in the VPC: when on, it applies only in ' +
      'namespaces labelled trunking.sgp-operator.io/allow-security-group-annotations=true and only to groups ' +
      'in --security-group-annotation-allow-list. Off: the annotation is ignored, as EKS ignores it.',
  },
  {
    flag: 'security-group-annotation-allow-list',
    env: 'SGP_SECURITY_GROUP_ANNOTATION_ALLOW_LIST',
    type: 'string',
    pattern: {
      regex: /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})(?:\s*,\s*sg-(?:[0-9a-f]{8}|[0-9a-f]{17}))*$/,
      expected: 'security group ids (sg- followed by 8 or 17 hex digits) separated by commas',
    },
    section: 'Behaviour',
    help:
      'The only security groups a vpc.amazonaws.com/security-groups annotation may name, comma-separated; ' +
      'any other group is refused at admission and never applied. Empty: none (so it must be set with ' +
      '--enable-security-group-annotations).',
  },
  {
    flag: 'pod-subnet-tag-key',
    env: 'SGP_POD_SUBNET_TAG_KEY',
    type: 'string',
    default: DEFAULT_POD_SUBNET_TAG_KEY,
    pattern: { regex: /^(|[^\s]{1,128})$/, expected: 'a tag key (no spaces, at most 128 characters), or ""' },
    section: 'VPC address ranges',
    help:
      'Subnets of the cluster VPC carrying this tag key (any value) take branch ENIs when the node’s subnet ' +
      'has no free address: the one with most free addresses in the node’s zone. The default is the tag ' +
      'the VPC CNI’s subnet discovery reads. New tagged subnets are picked up without a restart. "" keeps ' +
      'every branch ENI in its node’s subnet.',
  },
  {
    flag: 'ip-family',
    env: 'SGP_IP_FAMILY',
    type: 'enum',
    values: ['auto', 'ipv4', 'ipv6'],
    default: 'auto',
    section: 'Pod networking',
    help:
      'IP family of the cluster’s pods, as the VPC CNI runs them. ipv6: every branch ENI gets one IPv6 ' +
      'address from its subnet’s IPv6 block (a subnet without one is an error on the node and the pod), and ' +
      'the annotation carries ipv6Addr and subnetV6Cidr, which the CNI’s IPv6 path reads. auto: ENABLE_IPv6 of ' +
      'the aws-node DaemonSet in kube-system decides; when it cannot be read, ipv4 (docs/networks.md).',
  },
  {
    flag: 'dual-stack-branch-enis',
    env: 'SGP_DUAL_STACK_BRANCH_ENIS',
    type: 'boolean',
    default: false,
    section: 'Pod networking',
    help:
      'IPv4 clusters: every branch ENI also gets one IPv6 address from its subnet’s IPv6 block, and the ' +
      'annotation carries both addresses. Every subnet branch ENIs go to then needs an IPv6 block. EKS does ' +
      'not offer this. Off: IPv6 only as the subnet’s auto-assign setting gives it, as on EKS.',
  },
  {
    flag: 'custom-networking',
    env: 'SGP_CUSTOM_NETWORKING',
    type: 'enum',
    values: ['auto', 'enabled', 'disabled'],
    default: 'auto',
    section: 'Pod networking',
    help:
      'The VPC CNI’s custom networking: trunk and branch ENIs go to the subnet of the node’s ENIConfig ' +
      '(crd.k8s.amazonaws.com), the trunk takes its security groups, and edits are followed without replacing ' +
      'nodes; running pods keep their ENIs. auto: AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG of the aws-node DaemonSet ' +
      'decides; when it cannot be read, off. Not available with --ip-family=ipv6, as in the CNI.',
  },
  {
    flag: 'eni-config-label-key',
    env: 'SGP_ENI_CONFIG_LABEL_KEY',
    type: 'string',
    pattern: { regex: /^[^\s]{1,316}$/, expected: 'a label key (no spaces)' },
    section: 'Pod networking',
    help:
      `Node label naming the node’s ENIConfig, as the CNI’s ENI_CONFIG_LABEL_DEF (for example ` +
      `topology.kubernetes.io/zone, with one ENIConfig per zone). Empty: ENI_CONFIG_LABEL_DEF of aws-node, else ` +
      `${DEFAULT_ENI_CONFIG_LABEL_KEY}. The name the CNI writes into the node’s CNINode wins over labels.`,
  },
  {
    flag: 'eni-config-annotation-key',
    env: 'SGP_ENI_CONFIG_ANNOTATION_KEY',
    type: 'string',
    pattern: { regex: /^[^\s]{1,316}$/, expected: 'an annotation key (no spaces)' },
    section: 'Pod networking',
    help:
      `Node annotation naming the node’s ENIConfig, read before the label, as the CNI’s ` +
      `ENI_CONFIG_ANNOTATION_DEF. Empty: ENI_CONFIG_ANNOTATION_DEF of aws-node, else ${DEFAULT_ENI_CONFIG_ANNOTATION_KEY}.`,
  },
  {
    flag: 'vpc-refresh-interval-seconds',
    env: 'SGP_VPC_REFRESH_INTERVAL_SECONDS',
    type: 'integer',
    default: 60,
    min: 10,
    max: 3600,
    section: 'VPC address ranges',
    help:
      'How often the VPC’s CIDR blocks and tagged subnets are re-read (one DescribeVpcs and one ' +
      'DescribeSubnets), and, while a SecurityGroupPolicy names groups by name or tags, its security groups (one ' +
      'paged DescribeSecurityGroups): how soon a deleted, re-created or re-tagged group is noticed. An exhausted ' +
      'subnet or a new policy triggers a refresh at once, whatever this says; 10..3600.',
  },
  {
    flag: 'leak-sweep-interval-seconds',
    env: 'SGP_LEAK_SWEEP_INTERVAL_SECONDS',
    type: 'integer',
    default: 300,
    min: 1,
    max: 86400,
    section: 'Behaviour',
    help:
      'How often the leader sweeps EC2 for leaked ENIs (ours, but owned by no live pod or node): one paged ' +
      'DescribeNetworkInterfaces at background priority per sweep. An unclaimed, unattached ENI is deleted only ' +
      'when two consecutive sweeps saw it, so a shorter interval frees leaks sooner and spends more of the ' +
      'Describe budget; below 60 is meant for tests; 1..86400.',
  },
  {
    flag: 'log-level',
    env: 'SGP_LOG_LEVEL',
    type: 'enum',
    values: LOG_LEVELS,
    default: 'info',
    section: 'Behaviour',
    help:
      'Lowest level of the JSON log lines on stderr (pino; credentials are redacted, and lines written inside ' +
      'a traced reconcile carry trace_id and span_id). debug logs every reconcile and is noisy at scale.',
  },
  {
    flag: 'kubeconfig',
    env: 'SGP_KUBECONFIG',
    envAliases: ['KUBECONFIG'],
    type: 'string',
    section: 'Behaviour',
    help: 'Path to a kubeconfig. Empty: the in-cluster service account, else $HOME/.kube/config.',
  },
];

/** The definition of `--<flag>`, for code that derives a constant from it; throws on an unknown flag. */
export function optionDefinition(flag: string): OptionDefinition {
  const definition = OPTION_DEFINITIONS.find((candidate) => candidate.flag === flag);
  if (definition === undefined) throw new OperatorError(`no option --${flag} in OPTION_DEFINITIONS`);
  return definition;
}
