/**
 * What other folders may use from the framework (controller-runtime semantics on a small client of our own:
 * kubeconfig.ts, credentials.ts and transport.ts).
 *
 * Composition (operator/operator.ts):
 *   const access = await loadClusterAccess({ kubeconfig, env });   // a kubeconfig, or the pod's service account
 *   const client = createKubeClient(access);
 *   const manager = createManager({ client, log, leaderElection: { enabled, namespace, name, identity } });
 *   const recorder = createEventRecorder({ client, component: 'sgp-operator', log });
 *   const pods = manager.informer<Pod>({ kind: Kinds.Pod, transform: leanPod, indexers: { node: (p) => [p.spec.nodeName] } });
 *   const controller = manager.controller({ name: 'pod', reconciler, workers: 4 });
 *   controller.watch(pods);                       // or controller.watch(policies, (p) => keysOfPodsIn(p))
 *   stopOnSignals(manager, log);
 *   await manager.start(signal);                  // rejects with LeaderElectionLostError → exit(1)
 *
 * Health: the run helper serves `healthChecks(manager)` from its own HTTP server via `serveHealth(checks,
 * path, respond)` (/healthz = liveness, /readyz = caches synced); `startHealthServer` is the stand-alone
 * equivalent. Both run on every replica, leader or not.
 */
export type * from './meta.ts';
export type * from './types.ts';

export { createKubeClient, listPage } from './client.ts';
export type { TransportClient } from './client.ts';
export { createKubeTransport, resourcePath, apiVersionFor, CONTENT_TYPE } from './transport.ts';
export type { KubeTransport, KubeTransportOptions } from './transport.ts';
export {
  clusterAccessFromKubeconfig,
  inClusterAccess,
  KubeconfigError,
  loadClusterAccess,
  loadKubeconfigFiles,
  SERVICE_ACCOUNT_DIR,
} from './kubeconfig.ts';
export type { ClusterAccess, ExecPluginConfig, KubeconfigDocument, PemSource } from './kubeconfig.ts';
export { ClusterCredentials, CREDENTIAL_FILE_REFRESH_MS } from './credentials.ts';
export { ExecPluginError } from './exec-plugin.ts';
export { KubeApiError, KubeConflictError, KubeGoneError, KubeNotFoundError, isConflict, isNotFound } from './errors.ts';

export { createManager, stopOnSignals, LeaderElectionLostError } from './manager.ts';
export type { FrameworkManager, ManagerOptions } from './manager.ts';
export { ControllerRunner, classifyOutcome } from './controller.ts';
export type { ControllerRunnerOptions, ReconcileOutcome } from './controller.ts';
export { SharedInformer } from './informer.ts';
export { ObjectStore, diffRelist, NAMESPACE_INDEX, OWNER_UID_INDEX } from './cache.ts';
export { WorkQueue } from './workqueue.ts';
export { ItemExponentialBackoff, TokenBucket, MaxOfRateLimiter, defaultControllerRateLimiter } from './rate-limit.ts';
export type { RateLimiter } from './rate-limit.ts';
export { LeaderElector, decideLease, LEASE_KIND } from './leader-election.ts';
export type { LeaderElectionOptions, Lease, LeaseDecision } from './leader-election.ts';

export { ChangedEventSender, createEventRecorder, nodeEventTarget } from './events.ts';
export type { EventRecorderOptions, FlushableEventRecorder } from './events.ts';

export { keyOf, keyFor, splitKey } from './keys.ts';
export { StatusCheckpoints } from './status-checkpoints.ts';
export { setCondition, findCondition, isConditionTrue } from './conditions.ts';
export { ensureFinalizer, removeFinalizer, hasFinalizer } from './finalizers.ts';
export { patchStatusIfChanged, statusMergePatch } from './status.ts';
export { retryOnConflict } from './retry.ts';
export { systemClock, FakeClock } from './clock.ts';
export type { TimerClock } from './clock.ts';

export { healthChecks, serveHealth, startHealthServer } from './health.ts';
export type { HealthChecks, HealthCheckResult, HealthServer } from './health.ts';
export { bearerToken, createDelegatedAuth, SUBJECT_ACCESS_REVIEW_KIND, TOKEN_REVIEW_KIND } from './delegated-auth.ts';
export type { AccessDecision, AccessRequest, DelegatedAuth, DelegatedAuthOptions } from './delegated-auth.ts';
