/**
 * Every Prometheus metric of the operator, in one registry and one file. Names start with `sgp_`, use base
 * units (`_seconds`, `_bytes`), counters end in `_total`, and labels come from bounded sets (controller,
 * EC2 action, result, error class) — never pod, node or ENI names. Known series are initialised to zero
 * so alerts see them before the first failure. `promtool check metrics` runs over this output in the tests.
 *
 * Each floor owns one section below; add metrics to your section rather than defining them elsewhere.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { buildInfo } from './build-info.ts';

export const registry = new Registry();
// Process and runtime metrics keep their standard names (`process_*`, `nodejs_*`) so stock Node.js dashboards
// and alerts work unchanged; everything of our own starts with `sgp_`.
collectDefaultMetrics({ register: registry });
// prom-client also exports gauges named `…_total` (sums of the per-type active handles/requests/resources
// series it exports anyway); promtool rejects `_total` on a non-counter, so drop the redundant sums.
for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
  registry.removeSingleMetric(`nodejs_${name}`);
}

/** Names the metrics endpoint exports that are not ours (standard process and runtime metrics). */
export function isStandardRuntimeMetric(name: string): boolean {
  return name.startsWith('process_') || name.startsWith('nodejs_');
}

const build = buildInfo();
export const buildInfoGauge = new Gauge({
  name: 'sgp_build_info',
  help: 'Always 1; the labels say which build runs: package version, source commit, Node.js version.',
  labelNames: ['version', 'commit', 'node'] as const,
  registers: [registry],
});
buildInfoGauge.set({ version: build.version, commit: build.commit, node: build.node }, 1);

// ---- framework: work queues, reconciles, informers, leader election ----
// Labels: `controller` (a controller's unique name) or `kind` (a ResourceKind's kind) only. Series for a
// controller or kind are set to zero when it is created (operator/framework), so alerts see them at once.

export const workqueueDepth = new Gauge({
  name: 'sgp_workqueue_depth',
  help: 'Keys waiting in the controller work queue (not counting delayed or in-flight keys).',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const workqueueAddsTotal = new Counter({
  name: 'sgp_workqueue_adds_total',
  help: 'Keys added to the controller work queue (including de-duplicated adds).',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const workqueueRetriesTotal = new Counter({
  name: 'sgp_workqueue_retries_total',
  help: 'Keys re-queued with rate-limited backoff after a failed reconcile.',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const workqueueQueueDurationSeconds = new Histogram({
  name: 'sgp_workqueue_queue_duration_seconds',
  help: 'Time a key waited in the work queue before a worker took it.',
  labelNames: ['controller'] as const,
  buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60, 300],
  registers: [registry],
});
export const reconcileTotal = new Counter({
  name: 'sgp_controller_reconcile_total',
  help: 'Reconciles run, whatever their outcome.',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const reconcileErrorsTotal = new Counter({
  name: 'sgp_controller_reconcile_errors_total',
  help: 'Reconciles that threw (retried with backoff), including terminal errors.',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const reconcileTerminalErrorsTotal = new Counter({
  name: 'sgp_controller_reconcile_terminal_errors_total',
  help: 'Reconciles that threw a TerminalError (logged, not retried until the object changes).',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const reconcileDurationSeconds = new Histogram({
  name: 'sgp_controller_reconcile_duration_seconds',
  help: 'Time per reconcile.',
  labelNames: ['controller'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});
export const activeWorkers = new Gauge({
  name: 'sgp_controller_active_workers',
  help: 'Workers currently running a reconcile.',
  labelNames: ['controller'] as const,
  registers: [registry],
});
export const informerWatchRestartsTotal = new Counter({
  name: 'sgp_informer_watch_restarts_total',
  help: 'Watches re-opened after the stream ended or failed (from the last seen resourceVersion).',
  labelNames: ['kind'] as const,
  registers: [registry],
});
export const informerRelistsTotal = new Counter({
  name: 'sgp_informer_relists_total',
  help: 'Full lists after the start, a 410 Gone (resourceVersion compacted) or a failed list.',
  labelNames: ['kind'] as const,
  registers: [registry],
});
export const informerObjects = new Gauge({
  name: 'sgp_informer_objects',
  help: 'Objects in the informer cache.',
  labelNames: ['kind'] as const,
  registers: [registry],
});
export const leaderElectionIsLeader = new Gauge({
  name: 'sgp_leader_election_is_leader',
  help: '1 while this replica holds the leader Lease, else 0.',
  registers: [registry],
});
export const leaderElectionTransitionsTotal = new Counter({
  name: 'sgp_leader_election_transitions_total',
  help: 'Times this replica acquired or lost the leader Lease.',
  registers: [registry],
});
export const eventsDroppedTotal = new Counter({
  name: 'sgp_events_dropped_total',
  help: 'Kubernetes Events not written because the recorder rate limit was exceeded or the write failed.',
  registers: [registry],
});

// ---- aws: EC2 calls, throttling, queue wait ----

/** EC2 port calls (one per Ec2Api method call, however many pages or retries it took), by outcome. */
export const ec2CallsTotal = new Counter({
  name: 'sgp_ec2_api_calls_total',
  help: 'EC2 API port calls by EC2 action and result (success, error).',
  labelNames: ['action', 'result'] as const,
  registers: [registry],
});
/** Failed port calls by error class (not_found, throttled, limit, invalid_input, unauthorized, retryable, other) and EC2 code (known codes, else other). */
export const ec2ErrorsTotal = new Counter({
  name: 'sgp_ec2_api_errors_total',
  help: 'Failed EC2 API port calls by EC2 action, error class and EC2 error code (unknown codes counted as other).',
  labelNames: ['action', 'error_class', 'code'] as const,
  registers: [registry],
});
export const ec2CallDurationSeconds = new Histogram({
  name: 'sgp_ec2_api_call_duration_seconds',
  help: 'Duration of EC2 API port calls including pages and SDK retries, excluding rate-limit queueing, by EC2 action.',
  labelNames: ['action'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
/** Every HTTP request sent to EC2 (pages and SDK retries included): what EC2's buckets count. */
export const ec2RequestsTotal = new Counter({
  name: 'sgp_ec2_api_requests_total',
  help: 'HTTP requests sent to EC2 (pages and SDK retry attempts included) by EC2 action.',
  labelNames: ['action'] as const,
  registers: [registry],
});
export const ec2ThrottledResponsesTotal = new Counter({
  name: 'sgp_ec2_api_throttled_responses_total',
  help: 'EC2 responses that throttled a request (RequestLimitExceeded and similar) by EC2 action.',
  labelNames: ['action'] as const,
  registers: [registry],
});
export const ec2QueueWaitSeconds = new Histogram({
  name: 'sgp_ec2_api_queue_wait_seconds',
  help: 'Time an EC2 call waited for a rate-limit token, by call priority (critical, normal, background).',
  labelNames: ['priority'] as const,
  buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});
export const ec2BucketTokens = new Gauge({
  name: 'sgp_ec2_api_bucket_tokens',
  help: 'Tokens left in the operator-side EC2 rate-limit bucket (negative after unplanned pages or retries), by bucket.',
  labelNames: ['bucket'] as const,
  registers: [registry],
});

// ---- controllers: nodes, trunks, branches, policies, webhooks, garbage collection ----

// webhooks (operator/webhook)
/** Admission calls answered, by webhook (mutate-pod | validate-pod | validate-security-group-annotations | validate-security-group-policy) and result (allowed | patched | denied | error). */
export const webhookRequestsTotal = new Counter({
  name: 'sgp_webhook_requests_total',
  help: 'Admission requests answered by the webhooks (pods, annotations, SecurityGroupPolicies), by webhook and result.',
  labelNames: ['webhook', 'result'] as const,
  registers: [registry],
});
for (const webhook of [
  'mutate-pod',
  'validate-pod',
  'validate-security-group-annotations',
  'validate-security-group-policy',
]) {
  for (const result of ['allowed', 'patched', 'denied', 'error']) webhookRequestsTotal.inc({ webhook, result }, 0);
}
export const webhookRequestDurationSeconds = new Histogram({
  name: 'sgp_webhook_request_duration_seconds',
  help: 'Time to answer an admission request, from the request body read to the response written.',
  labelNames: ['webhook'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [registry],
});
/** When the serving certificate expires; alert if it comes within a day (rotation should prevent that). */
export const webhookCertificateExpiryTimestampSeconds = new Gauge({
  name: 'sgp_webhook_certificate_expiry_timestamp_seconds',
  help: 'Unix time at which the webhook serving certificate currently presented expires.',
  registers: [registry],
});
/** Pods a policy selects that lack the pod-eni resource (created before the policy, or admitted without the webhook). */
export const podsMissingPodEniResourceTotal = new Counter({
  name: 'sgp_pods_missing_pod_eni_resource_total',
  help: 'Pods found selected by a SecurityGroupPolicy without the vpc.amazonaws.com/pod-eni resource request.',
  registers: [registry],
});
podsMissingPodEniResourceTotal.inc(0);
/** Such pods deleted in strict mode so their controller recreates them through the webhook. */
export const podsRecreatedForPodEniResourceTotal = new Counter({
  name: 'sgp_pods_recreated_for_pod_eni_resource_total',
  help: 'Pods deleted in strict mode because a SecurityGroupPolicy selects them without the pod-eni resource.',
  registers: [registry],
});
podsRecreatedForPodEniResourceTotal.inc(0);
/**
 * Groups of vpc.amazonaws.com/security-groups annotations refused, by where (admission: the request was denied,
 * or warned when the feature is off; pod-controller: a running pod's Warning event) and the refusal reason of
 * operator/controllers/pod/annotation-groups.ts. A rising pod-controller count means admission was bypassed or
 * the namespace label or allow-list changed under running pods.
 */
export const securityGroupAnnotationRefusalsTotal = new Counter({
  name: 'sgp_security_group_annotation_refusals_total',
  help: 'Security group annotations (or ids in them) refused, by where (admission, pod-controller) and reason.',
  labelNames: ['where', 'reason'] as const,
  registers: [registry],
});
for (const where of ['admission', 'pod-controller']) {
  for (const reason of [
    'FeatureDisabled',
    'NamespaceNotAllowed',
    'EmptyAnnotation',
    'MalformedGroupId',
    'GroupNotAllowed',
  ]) {
    securityGroupAnnotationRefusalsTotal.inc({ where, reason }, 0);
  }
}
/**
 * vpc.amazonaws.com/pod-eni annotations the pod controller found it had not written and removed, by reason
 * (operator/controllers/pod/pod-eni-annotation.ts). Anything above zero means the admission guard was bypassed
 * (not installed, or changed) and a pod may have been wired into another pod's ENI: alert on it.
 */
export const podEniAnnotationsForgedTotal = new Counter({
  name: 'sgp_pod_eni_annotations_forged_total',
  help: 'vpc.amazonaws.com/pod-eni pod annotations sgp-operator found it had not written, and removed, by reason.',
  labelNames: ['reason'] as const,
  registers: [registry],
});
for (const reason of ['no_branch_interface', 'branch_not_announced', 'other_branch_eni', 'malformed']) {
  podEniAnnotationsForgedTotal.inc({ reason }, 0);
}

// nodes and trunks (operator/controllers/node, operator/controllers/trunkinterface)
export const nodesManaged = new Gauge({
  name: 'sgp_nodes_managed',
  help: 'Nodes the operator manages a trunk ENI for (opted in, EC2, trunking-compatible instance type).',
  registers: [registry],
});
export const TRUNK_STATES = ['Pending', 'Creating', 'Attaching', 'Ready', 'Failed', 'Deleting'] as const;
export const trunkInterfaces = new Gauge({
  name: 'sgp_trunk_interfaces',
  help: 'TrunkInterface objects by status.state.',
  labelNames: ['state'] as const,
  registers: [registry],
});
for (const state of TRUNK_STATES) trunkInterfaces.set({ state }, 0);
export const trunkSetupDurationSeconds = new Histogram({
  name: 'sgp_trunk_setup_duration_seconds',
  help: 'Time from a TrunkInterface being created to its trunk ENI being attached and Ready.',
  buckets: [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
  registers: [registry],
});

// garbage collection (operator/controllers/gc)
export const GC_LEAK_REASONS = [
  'owner-missing',
  'superseded',
  'orphan-trunk',
  'available-twice',
  'instance-terminated',
] as const;
export const gcSweepsTotal = new Counter({
  name: 'sgp_gc_sweeps_total',
  help: 'Leak sweeps over our ENIs in EC2, by result (success or error).',
  labelNames: ['result'] as const,
  registers: [registry],
});
export const gcLeakedEnisFoundTotal = new Counter({
  name: 'sgp_gc_leaked_enis_found_total',
  help: 'ENIs a sweep found unclaimed, by reason (branch owners are confirmed absent before deletion).',
  labelNames: ['reason'] as const,
  registers: [registry],
});
export const gcLeakedEnisDeletedTotal = new Counter({
  name: 'sgp_gc_leaked_enis_deleted_total',
  help: 'Leaked ENIs the sweeper deleted, by reason.',
  labelNames: ['reason'] as const,
  registers: [registry],
});
for (const result of ['success', 'error']) gcSweepsTotal.inc({ result }, 0);
for (const reason of GC_LEAK_REASONS) {
  gcLeakedEnisFoundTotal.inc({ reason }, 0);
  gcLeakedEnisDeletedTotal.inc({ reason }, 0);
}

// VPC address ranges (operator/controllers/vpcnetwork). The subnet label is bounded by the VPC's tagged
// subnets (at most a few hundred per VPC), not by pods or nodes.
export const vpcCidrBlocks = new Gauge({
  name: 'sgp_vpc_cidr_blocks',
  help: 'IPv4 CIDR blocks associated with the cluster VPC, as last described.',
  registers: [registry],
});
export const podSubnetFreeAddresses = new Gauge({
  name: 'sgp_pod_subnet_free_addresses',
  help: 'Free IPv4 addresses of each subnet tagged for pods (branch ENIs fall over to them), as last described.',
  labelNames: ['subnet', 'availability_zone'] as const,
  registers: [registry],
});
export const VPC_NETWORK_CHANGES = ['cidr_added', 'cidr_removed', 'subnet_added', 'subnet_removed'] as const;
export const vpcNetworkChangesTotal = new Counter({
  name: 'sgp_vpc_network_changes_total',
  help: 'VPC CIDR blocks and subnets tagged for pods that appeared or went away while the operator ran.',
  labelNames: ['change'] as const,
  registers: [registry],
});
for (const change of VPC_NETWORK_CHANGES) vpcNetworkChangesTotal.inc({ change }, 0);
export const vpcNetworkRefreshesTotal = new Counter({
  name: 'sgp_vpc_network_refreshes_total',
  help: 'Refreshes of the VPC CIDR blocks and pod subnets, by trigger (periodic, on_demand) and result.',
  labelNames: ['trigger', 'result'] as const,
  registers: [registry],
});
for (const trigger of ['periodic', 'on_demand']) {
  for (const result of ['success', 'error']) vpcNetworkRefreshesTotal.inc({ trigger, result }, 0);
}
export const branchSubnetFallbacksTotal = new Counter({
  name: 'sgp_branch_subnet_fallbacks_total',
  help: "Branch ENIs placed in a subnet tagged for pods because the node's subnet had no free address.",
  registers: [registry],
});
branchSubnetFallbacksTotal.inc(0);

// pods, branches and policies (operator/controllers/pod, branchinterface, securitygrouppolicy)
/** Time from a pod's creation to its pod-eni annotation: what a user waits for before the pod can start. */
export const branchAllocationDurationSeconds = new Histogram({
  name: 'sgp_branch_allocation_duration_seconds',
  help: 'Time from pod creation to the vpc.amazonaws.com/pod-eni annotation being written (branch ENI ready).',
  buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
  registers: [registry],
});
export const BRANCH_PHASES = ['Pending', 'Creating', 'Associating', 'Ready', 'CoolingDown', 'Releasing'] as const;
export const branchInterfaces = new Gauge({
  name: 'sgp_branch_interfaces',
  help: 'BranchInterface objects (one per pod with a branch ENI) by status.phase.',
  labelNames: ['phase'] as const,
  registers: [registry],
});
for (const phase of BRANCH_PHASES) branchInterfaces.set({ phase }, 0);
export const branchVlansInUse = new Gauge({
  name: 'sgp_branch_vlans_in_use',
  help: 'VLAN ids held by branch ENIs (in use or cooling down), summed over all trunks.',
  registers: [registry],
});
branchVlansInUse.set(0);
export const branchVlansInUseMaxPerTrunk = new Gauge({
  name: 'sgp_branch_vlans_in_use_max_per_trunk',
  help: 'VLAN ids held on the busiest trunk (compare with the instance type branch limit, at most 120).',
  registers: [registry],
});
branchVlansInUseMaxPerTrunk.set(0);
export const branchEnisCoolingDown = new Gauge({
  name: 'sgp_branch_enis_cooling_down',
  help: 'Branch ENIs whose pod is gone, waiting out the cooldown before release (they count against capacity).',
  registers: [registry],
});
branchEnisCoolingDown.set(0);
export const branchCooldownSeconds = new Gauge({
  name: 'sgp_branch_cooldown_seconds',
  help: 'Current branch ENI cooldown (ConfigMap kube-system/amazon-vpc-cni key branch-eni-cooldown).',
  registers: [registry],
});
export const BRANCH_OPERATIONS = [
  'adopt',
  'allocate_vlan',
  'create',
  'associate',
  'annotate',
  'modify_groups',
  'release',
] as const;
export const branchOperationsTotal = new Counter({
  name: 'sgp_branch_operations_total',
  help: 'Branch ENI lifecycle steps carried out, by operation and result (success or error).',
  labelNames: ['operation', 'result'] as const,
  registers: [registry],
});
for (const operation of BRANCH_OPERATIONS) {
  for (const result of ['success', 'error']) branchOperationsTotal.inc({ operation, result }, 0);
}
export const branchCapacityWaitsTotal = new Counter({
  name: 'sgp_branch_capacity_waits_total',
  help: 'Times a pod had to wait because its node held as many branch ENIs (in use or cooling down) as it may.',
  registers: [registry],
});
branchCapacityWaitsTotal.inc(0);
export const branchPodsWaitingForCapacity = new Gauge({
  name: 'sgp_branch_pods_waiting_for_capacity',
  help: 'Pods whose branch ENI waits because their node holds as many branch ENIs as it may (Ready reason NodeAtCapacity).',
  registers: [registry],
});
branchPodsWaitingForCapacity.set(0);
export const policyValidationsTotal = new Counter({
  name: 'sgp_policy_validations_total',
  help: 'SecurityGroupPolicy validations against EC2, by result (valid, invalid, error).',
  labelNames: ['result'] as const,
  registers: [registry],
});
for (const result of ['valid', 'invalid', 'error']) policyValidationsTotal.inc({ result }, 0);
