/**
 * The composition root: builds each provider once, in dependency order, and hands them to the controllers.
 * No logic lives here beyond choosing implementations; everything it builds is passed on explicitly.
 *
 *   kubeConfig → client → manager (informers, leader election) → event recorder
 *   options    → EC2 (SDK + per-action rate limits) → limits provider
 *   cluster settings (VPC discovered when not given) + cooldown source → ControllerDeps
 *   ControllerDeps → registerControllers (every controller) + webhooks (when enabled)
 *
 * Tests build the real operator in-process with overrides (a KubeConfig of the test control plane, a fake
 * clock, a logger, a short cooldown) — see test/integration/harness/operator.ts.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { Kinds } from './api/kinds.ts';
import { REPORTING_COMPONENT } from './api/constants.ts';
import { createEc2Api, type BucketName, type Ec2Api } from './aws/index.ts';
import { controllerSettings, type ControllerDeps, type CooldownSource } from './controllers/deps.ts';
import { createCooldownSource } from './controllers/branchinterface/index.ts';
import { registerControllers } from './controllers/index.ts';
import { detectPodNetwork } from './controllers/podnetwork/index.ts';
import { OperatorError } from './errors.ts';
import {
  createEventRecorder,
  createKubeClient,
  createManager,
  systemClock,
  type FrameworkManager,
  type KubeClient,
  type KubeObject,
  type TimerClock,
} from './framework/index.ts';
import { LIMITS_OVERRIDE_CONFIGMAP, createLimitsProvider, parseBranchCapacityOverrides } from './limits/index.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import type { Options } from './options.ts';
import {
  createDirectoryCertificateSource,
  createSelfSignedCertificateSource,
  defaultConfigurationSettings,
  EKS_CONTROLLER_USERNAMES,
  setupWebhook,
  type CertificateSource,
} from './webhook/index.ts';

export interface OperatorOverrides {
  kubeConfig?: KubeConfig;
  ec2?: Ec2Api;
  clock?: TimerClock;
  log?: Logger;
  /** The live branch ENI cooldown; tests pass a short fixed one (below the 30 s the options allow). */
  cooldown?: CooldownSource;
  /** Leader-election identity and event reporting instance; default hostname (the pod name) + random suffix. */
  identity?: string;
  /**
   * Tests only: the API server calls the webhooks at this base URL (https://127.0.0.1:<port>, the port of
   * --webhook-bind-address) instead of through the webhook Service, which a control plane without a cluster
   * network cannot reach. The self-signed certificate then covers the URL's host.
   */
  webhookBaseUrl?: string;
}

export interface Operator {
  readonly manager: FrameworkManager;
  readonly deps: ControllerDeps;
  /** Runs until `signal` aborts or `stop()`; rejects with LeaderElectionLostError when leadership is lost. */
  start(signal: AbortSignal): Promise<void>;
  /** Releases the Lease, drains the queues and stops every informer; idempotent. */
  stop(): Promise<void>;
}

export async function createOperator(options: Readonly<Options>, overrides: OperatorOverrides = {}): Promise<Operator> {
  const log = overrides.log ?? createLogger({ level: options.logLevel });
  const clock = overrides.clock ?? systemClock;
  const identity = overrides.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;

  const kubeConfig = overrides.kubeConfig ?? loadKubeConfig(options.kubeconfig);
  const client = createKubeClient(kubeConfig);
  const manager = createManager({
    kubeConfig,
    client,
    log,
    clock,
    leaderElection: {
      enabled: options.leaderElect,
      namespace: options.leaderElectionNamespace,
      name: options.leaderElectionId,
      identity,
      leaseDurationMs: options.leaseDurationSeconds * 1000,
      renewDeadlineMs: options.renewDeadlineSeconds * 1000,
      retryPeriodMs: options.retryPeriodSeconds * 1000,
    },
  });
  const recorder = createEventRecorder({ client, component: REPORTING_COMPONENT, instance: identity, clock, log });

  const ec2 =
    overrides.ec2 ??
    createEc2Api({
      region: options.region,
      ...(options.ec2Endpoint === undefined ? {} : { endpoint: options.ec2Endpoint }),
      maxAttempts: options.ec2MaxAttempts,
      buckets: { buckets: bucketOverrides(options) },
      ...(options.trunkAssociationRoleArn === undefined
        ? {}
        : { trunkAssociationRoleArn: options.trunkAssociationRoleArn }),
    });
  const limits = createLimitsProvider({
    ec2,
    overrides: watchBranchCapacityOverrides(manager, options.leaderElectionNamespace, log),
  });

  const vpcId = options.vpcId ?? (await discoverVpcId(client, ec2, log));
  // IPv6, dual-stack, custom networking: the options, and for `auto` the VPC CNI's aws-node DaemonSet.
  const podNetwork = await detectPodNetwork(client, options, log);
  // The ConfigMap kube-system/amazon-vpc-cni (key branch-eni-cooldown) sets the live value, as on EKS.
  const cooldown =
    overrides.cooldown ??
    createCooldownSource({ manager, recorder, log, defaultMs: options.branchCooldownSeconds * 1000 });

  const settings = controllerSettings(options);
  const deps: ControllerDeps = {
    manager,
    client,
    ec2,
    limits,
    recorder,
    clock,
    log,
    cluster: {
      clusterName: options.clusterName,
      vpcId,
      ...(options.trunkAssociationAccountId === undefined
        ? {}
        : { trunkAssociationAccountId: options.trunkAssociationAccountId }),
      podNetwork,
    },
    cooldown,
    settings,
  };
  registerControllers(deps);
  if (options.enableWebhooks) {
    const operatorUsername = await ownUsername(client);
    setupWebhook(deps, {
      address: options.webhookBindAddress,
      certificates: await webhookCertificates(options, identity, clock, log, overrides.webhookBaseUrl),
      // With a mounted certificate, cert-manager's CA injector owns the caBundle of the configurations.
      configuration:
        options.webhookCertDir === undefined
          ? {
              ...defaultConfigurationSettings,
              operatorUsername,
              target:
                overrides.webhookBaseUrl === undefined
                  ? {
                      service: {
                        namespace: options.webhookServiceNamespace,
                        name: options.webhookServiceName,
                        port: 443,
                      },
                    }
                  : { baseUrl: overrides.webhookBaseUrl },
            }
          : undefined,
      operatorUsernames: [operatorUsername, ...EKS_CONTROLLER_USERNAMES],
    });
  }
  log.info('operator built', {
    cluster: options.clusterName,
    vpc: vpcId,
    region: options.region,
    ipFamily: podNetwork.ipFamily,
    dualStack: podNetwork.isDualStack,
    customNetworking: podNetwork.customNetworking.mode,
    leaderElection: options.leaderElect,
    webhooks: options.enableWebhooks,
    identity,
  });

  const controller = new AbortController();
  return {
    manager,
    deps,
    start: (signal) => {
      signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
      return manager.start(controller.signal);
    },
    stop: async () => {
      controller.abort(new Error('operator stopped'));
      await manager.stop();
      await recorder.flush();
    },
  };
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path === undefined) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromFile(path);
  return kubeConfig;
}

/** Options carry qps/burst per bucket; the AWS layer's buckets are refill/capacity. */
function bucketOverrides(
  options: Readonly<Options>,
): Partial<Record<BucketName, { capacity: number; refillPerSecond: number }>> {
  return Object.fromEntries(
    Object.entries(options.ec2RateLimits).map(([name, limit]) => [
      name,
      { capacity: limit.burst, refillPerSecond: limit.qps },
    ]),
  );
}

/**
 * --vpc-id not given: the VPC of the first Node whose providerID names an EC2 instance. A cluster's nodes
 * share one VPC (the VPC CNI requires it), so any node will do.
 */
async function discoverVpcId(client: KubeClient, ec2: Ec2Api, log: Logger): Promise<string> {
  const nodes = await client.list<KubeObject & { spec?: { providerID?: string } }>(Kinds.Node);
  for (const node of nodes) {
    const instanceId = /^aws:\/\/\/[^/]+\/(i-[0-9a-f]+)$/.exec(node.spec?.providerID ?? '')?.[1];
    if (instanceId === undefined) continue;
    const instance = await ec2.describeInstance(instanceId, { priority: 'critical' });
    log.info('discovered vpc', { vpc: instance.vpcId, node: node.metadata.name, instance: instanceId });
    return instance.vpcId;
  }
  throw new OperatorError(
    `--vpc-id is not set and no Node has an aws:///<zone>/<instance-id> providerID to discover it from; set --vpc-id (or SGP_VPC_ID)`,
  );
}

async function webhookCertificates(
  options: Readonly<Options>,
  identity: string,
  clock: TimerClock,
  log: Logger,
  baseUrl: string | undefined,
): Promise<CertificateSource> {
  if (options.webhookCertDir !== undefined)
    return createDirectoryCertificateSource({ dir: options.webhookCertDir, log });
  const service = `${options.webhookServiceName}.${options.webhookServiceNamespace}`;
  return createSelfSignedCertificateSource({
    hosts: [
      options.webhookServiceName,
      service,
      `${service}.svc`,
      `${service}.svc.cluster.local`,
      ...(baseUrl === undefined ? [] : [new URL(baseUrl).hostname]),
    ],
    identity,
    clock,
    log,
  });
}

/**
 * The username the API server knows us by (SelfSubjectReview, GA since Kubernetes 1.28): the validating
 * webhook lets only this identity write the pod-eni annotation, whatever the ServiceAccount is called, and
 * the configuration sync writes it into vpod's matchConditions so our own writes skip the webhook.
 */
async function ownUsername(client: KubeClient): Promise<string> {
  const review = await client.create<KubeObject & { status?: { userInfo?: { username?: string } } }>(
    SELF_SUBJECT_REVIEW,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} } as KubeObject,
  );
  const username = review.status?.userInfo?.username;
  if (!username)
    throw new OperatorError(
      'the API server did not say who the operator is (SelfSubjectReview); cannot guard the pod-eni annotation',
    );
  return username;
}

const SELF_SUBJECT_REVIEW = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  plural: 'selfsubjectreviews',
  namespaced: false,
};

/**
 * Branch capacity for instance types missing from the generated table comes from the ConfigMap
 * `sgp-operator-config` in the operator's namespace (the Lease's), watched so edits apply without a restart.
 * A rejected entry is logged once with the key and the fix; the type then stays unsupported.
 */
function watchBranchCapacityOverrides(
  manager: ControllerDeps['manager'],
  namespace: string,
  log: Logger,
): () => Record<string, number> {
  const configMaps = manager.informer<{ metadata: { name: string }; data?: Record<string, string> }>({
    kind: Kinds.ConfigMap,
    namespace,
    fieldSelector: `metadata.name=${LIMITS_OVERRIDE_CONFIGMAP}`,
  });
  const reported = new Set<string>();
  return () => {
    const parsed = parseBranchCapacityOverrides(configMaps.get(`${namespace}/${LIMITS_OVERRIDE_CONFIGMAP}`)?.data);
    for (const problem of parsed.problems) {
      if (reported.has(problem)) continue;
      reported.add(problem);
      log.warn('ignored branch capacity override', { problem });
    }
    return parsed.capacities;
  };
}
