/**
 * A private world for integration tests and benchmarks: its own kube-apiserver + etcd with crds/ installed (an
 * operator watches every Node and Pod in the cluster, so two operators under test on one control plane would
 * fight over the same objects), the EC2 emulator over HTTP with the caller's seed and knobs, and what kubelet,
 * the scheduler and the VPC CNI would do, which none of them is here to do: register Nodes with a status,
 * opt them in, delete pods without a grace period. The operator itself is started on top, in process
 * (`startOperator`, the real composition root) or however the caller needs (a subset of controllers, replicas
 * in child processes).
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../hack/control-plane/control-plane.ts';
import { installCrds } from '../../hack/control-plane/crds.ts';
import {
  startEc2Emulator,
  type Ec2EmulatorOptions,
  type RunningEc2Emulator,
  type Seed,
} from '../../hack/ec2-emulator/index.ts';
import { HAS_TRUNK_ATTACHED_LABEL, SECURITY_GROUPS_FOR_PODS_FEATURE } from '../../operator/api/constants.ts';
import { Kinds } from '../../operator/api/kinds.ts';
import type { CNINode } from '../../operator/api/types.ts';
import { createEc2Api, type CreateEc2ApiOptions, type ThrottledEc2Api } from '../../operator/aws/index.ts';
import type { WarmSettingsSource } from '../../operator/controllers/branchinterface/index.ts';
import {
  createKubeClient,
  loadKubeconfigFiles,
  type ClusterAccess,
  type KubeObject,
  type TimerClock,
  type TransportClient,
} from '../../operator/framework/index.ts';
import { silentLogger, type Logger } from '../../operator/observability/logger.ts';
import { createOperator, type Operator } from '../../operator/operator.ts';
import { defaultOptions, type Options } from '../../operator/options/options.ts';
import { eventually, uniqueName } from '../integration/harness/index.ts';

export const REGION = 'us-west-2';
export const AZ = 'us-west-2a';

/** The default seed: one VPC, one node subnet (Name `nodes`), the nodes' group `node-group`. */
export const DEFAULT_SEED: Seed = {
  vpcs: [
    {
      cidrBlocks: ['10.0.0.0/16'],
      subnets: [{ cidrBlock: '10.0.0.0/24', availabilityZone: AZ, tags: { Name: 'nodes' } }],
      securityGroups: [{ name: 'node-group' }],
    },
  ],
};

export interface WorldOptions {
  /** Topology; default DEFAULT_SEED. The first VPC is the cluster's and its first subnet the nodes'. */
  seed?: Seed;
  /** Emulator knobs: throttling, latency, eventual consistency, quotas, faults… */
  emulator?: Omit<Ec2EmulatorOptions, 'seed' | 'port' | 'host'>;
  /** Install crds/ (default true); false leaves the CRDs to the caller, e.g. a previous release's. */
  installCrds?: boolean;
}

/** How a node asks for a trunk, as the VPC CNI would: its CNINode's feature, or the legacy label. */
export type OptIn = 'cninode-feature' | 'legacy-label' | 'none';

export interface AddNodeOptions {
  instanceType?: string;
  /** Default: the seed's node subnet, in AZ. */
  placement?: { subnetId: string; availabilityZone: string };
  /** Default 'none'. */
  optIn?: OptIn;
  labels?: Record<string, string>;
  /** Node annotations (the ENIConfig annotation of custom networking). */
  annotations?: Record<string, string>;
  /** More CNINode features, as ipamd patches them in (CustomNetworking naming the node's ENIConfig). */
  features?: { name: string; value?: string }[];
  /** Connection-tracking timeouts of the instance's primary ENI. */
  connectionTracking?: { tcpEstablishedTimeout?: number; udpStreamTimeout?: number; udpTimeout?: number };
  /** The status kubelet reports; default {@link nodeStatus} (capacity, allocatable, Ready). */
  status?: object;
}

export interface WorldOperatorOptions {
  /** Overrides of the parsed defaults (cluster name unique, webhooks and servers off, the world's VPC). */
  options?: Partial<Options>;
  /** The live branch ENI cooldown, which may go below the 30 s the binary allows; default 1 s. */
  cooldownMs?: number;
  /** Live warm-branch limits the caller switches at will; default: the options', overridden by the ConfigMap. */
  warmSettings?: WarmSettingsSource;
  /** SDK attempts and rate-limiter knobs of the operator's EC2 client. */
  ec2?: Omit<CreateEc2ApiOptions, 'endpoint' | 'region' | 'credentials'>;
  log?: Logger;
  clock?: TimerClock;
  /**
   * With webhooks on: the API server calls them at this base URL (https://127.0.0.1:<webhook port>), as a
   * control plane without a cluster network cannot reach the webhook Service (OperatorOverrides.webhookBaseUrl).
   */
  webhookBaseUrl?: string;
}

export interface WorldOperator {
  readonly operator: Operator;
  readonly options: Readonly<Options>;
  /** ms from createOperator until the caches synced. */
  readonly readyAfterMs: number;
  /** Stops the operator (releases its Lease, drains queues); idempotent. */
  stop(): Promise<void>;
}

export interface World {
  plane: ControlPlane;
  /** @kubernetes/client-node's view of the control plane, for tests that use its generated APIs and Watch. */
  kubeConfig: KubeConfig;
  /** The operator's view of the same kubeconfig (framework/kubeconfig.ts). */
  clusterAccess: ClusterAccess;
  /** The operator's client (its transport is what informers and the manager run on). */
  client: TransportClient;
  core: CoreV1Api;
  emulator: RunningEc2Emulator;
  vpcId: string;
  /** The nodes' subnet. */
  subnetId: string;
  /** Security group ids by seed name. */
  groups: Record<string, string>;
  /** An operator-side EC2 client for the emulator (throttled, as createOperator builds it). */
  ec2(options?: Omit<CreateEc2ApiOptions, 'endpoint' | 'region' | 'credentials'>): ThrottledEc2Api;
  /** Launches an instance and registers its Node as kubelet would; opts it in when asked. */
  addNode(name: string, options?: AddNodeOptions): Promise<{ instanceId: string }>;
  /** A namespace with a unique name (they never finish deleting here: no kube-controller-manager). */
  namespace(prefix: string): Promise<string>;
  /** Deletes a pod as kubelet finishes it: grace period 0 (no kubelet here to confirm termination). */
  deletePod(namespace: string, name: string): Promise<void>;
  /** The real operator, in process, once its caches have synced. */
  startOperator(options?: WorldOperatorOptions): Promise<WorldOperator>;
  /** Stops the operators it started, the emulator and the control plane. */
  stop(): Promise<void>;
}

/** Caches of a fresh operator sync in well under a second locally; this only bounds a broken start. */
const READY_TIMEOUT_MS = 60_000;

export async function startWorld(worldOptions: WorldOptions = {}): Promise<World> {
  const plane = await startControlPlane();
  let emulator: RunningEc2Emulator | undefined;
  try {
    if (worldOptions.installCrds !== false) await installCrds(plane.kubeconfigPath);
    emulator = await startEc2Emulator({ ...worldOptions.emulator, port: 0, seed: worldOptions.seed ?? DEFAULT_SEED });
  } catch (error) {
    await emulator?.stop();
    await plane.stop();
    throw error;
  }
  const running = emulator;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  const clusterAccess = await loadKubeconfigFiles([plane.kubeconfigPath]);
  const client = createKubeClient(clusterAccess);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const dump = running.control.dump();
  const vpcId = dump.vpcs[0]?.id ?? '';
  const subnetId = dump.subnets.find((subnet) => subnet.vpcId === vpcId)?.id ?? '';
  const groups = Object.fromEntries(
    dump.securityGroups.filter((group) => group.name !== 'default').map((group) => [group.name, group.id]),
  );
  const operators: WorldOperator[] = [];
  const ec2 = (options: Omit<CreateEc2ApiOptions, 'endpoint' | 'region' | 'credentials'> = {}) =>
    createEc2Api({
      ...options,
      endpoint: running.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });

  return {
    plane,
    kubeConfig,
    clusterAccess,
    client,
    core,
    emulator: running,
    vpcId,
    subnetId,
    groups,
    ec2,
    async addNode(name, options = {}) {
      const instanceType = options.instanceType ?? 'm5.large';
      const placement = options.placement ?? { subnetId, availabilityZone: AZ };
      const instance = running.control.launchInstance({
        instanceType,
        subnet: placement.subnetId,
        securityGroups: [groups['node-group'] ?? ''],
        ...(options.connectionTracking === undefined ? {} : { connectionTracking: options.connectionTracking }),
      });
      await client.create(
        Kinds.Node,
        nodeObject(
          name,
          instanceType,
          instance.id,
          placement.availabilityZone,
          {
            ...options.labels,
            ...(options.optIn === 'legacy-label' ? { [HAS_TRUNK_ATTACHED_LABEL]: 'false' } : {}),
          },
          options.annotations,
        ),
      );
      await client.mergePatchStatus(Kinds.Node, name, options.status ?? nodeStatus());
      // What the VPC CNI's ipamd does: patch its features into the operator's CNINode (SecurityGroupsForPods with
      // ENABLE_POD_ENI=true, CustomNetworking with the ENIConfig it resolved).
      const features = [
        ...(options.features ?? []),
        ...(options.optIn === 'cninode-feature' ? [{ name: SECURITY_GROUPS_FOR_PODS_FEATURE }] : []),
      ];
      if (features.length > 0) {
        await eventually(
          async () => {
            if (!(await client.get<CNINode>(Kinds.CNINode, name))) throw new Error('no CNINode yet');
          },
          { waitingFor: `CNINode ${name}` },
        );
        await client.mergePatch(Kinds.CNINode, name, { spec: { features } });
      }
      return { instanceId: instance.id };
    },
    async namespace(prefix) {
      const name = uniqueName(prefix);
      await client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as KubeObject);
      return name;
    },
    async deletePod(namespace, name) {
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
    },
    async startOperator(options = {}) {
      const started = await startOperatorOn({ clusterAccess, vpcId, endpoint: running.endpoint }, options);
      operators.push(started);
      return started;
    },
    async stop() {
      for (const operator of operators) await operator.stop();
      await running.stop();
      await plane.stop();
    },
  };
}

/** Where an operator runs: a control plane (how to reach it), the cluster's VPC and the EC2 emulator's endpoint. */
export interface OperatorTarget {
  clusterAccess: ClusterAccess;
  vpcId: string;
  endpoint: string;
}

/**
 * The real operator built by the composition root (createOperator) with the product's option defaults, webhooks
 * and servers off, in process; resolves once its caches have synced, and rejects (stopping it) if it fails or
 * does not sync in time.
 */
export async function startOperatorOn(
  target: OperatorTarget,
  {
    options: overrides = {},
    cooldownMs = 1_000,
    warmSettings,
    ec2: ec2Options = {},
    log = silentLogger,
    clock,
    webhookBaseUrl,
  }: WorldOperatorOptions = {},
): Promise<WorldOperator> {
  const options: Readonly<Options> = Object.freeze({
    ...defaultOptions({ clusterName: uniqueName('cluster'), region: REGION }),
    enableWebhooks: false,
    metricsBindAddress: undefined,
    healthProbeBindAddress: undefined,
    vpcId: target.vpcId,
    ec2Endpoint: target.endpoint,
    ...overrides,
  });
  const ec2 = createEc2Api({
    maxAttempts: options.ec2MaxAttempts,
    ...ec2Options,
    endpoint: target.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const started = performance.now();
  const operator = await createOperator(options, {
    clusterAccess: target.clusterAccess,
    ec2,
    log,
    ...(clock === undefined ? {} : { clock }),
    ...(webhookBaseUrl === undefined ? {} : { webhookBaseUrl }),
    cooldown: { currentMs: () => cooldownMs },
    ...(warmSettings === undefined ? {} : { warmSettings }),
    identity: uniqueName('operator'),
  });
  const stopping = new AbortController();
  const running = operator.start(stopping.signal);
  let failure: unknown;
  running.catch((error: unknown) => {
    failure = error;
  });
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const check = setInterval(() => {
      if (Date.now() > deadline) {
        clearInterval(check);
        stopping.abort(new Error('operator never became ready'));
        reject(new Error(`the operator's caches did not sync within ${READY_TIMEOUT_MS / 1000} s`));
      } else if (failure !== undefined) {
        clearInterval(check);
        reject(failure instanceof Error ? failure : new Error(String(failure)));
      } else if (operator.manager.isReady()) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  const readyAfterMs = performance.now() - started;
  let stopped: Promise<void> | undefined;
  return {
    operator,
    options,
    readyAfterMs,
    stop() {
      stopped ??= (async () => {
        stopping.abort(new Error('operator stopped'));
        await operator.stop();
        await running.catch(() => undefined);
        ec2.destroy();
      })();
      return stopped;
    },
  };
}

/** A Node as kubelet registers one on EC2: its providerID names the instance; the well-known labels. */
export function nodeObject(
  name: string,
  instanceType: string,
  instanceId: string,
  availabilityZone = AZ,
  labels: Record<string, string> = {},
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      ...(annotations === undefined ? {} : { annotations }),
      labels: {
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'node.kubernetes.io/instance-type': instanceType,
        'topology.kubernetes.io/zone': availabilityZone,
        ...labels,
      },
    },
    spec: { providerID: `aws:///${availabilityZone}/${instanceId}` },
  } as KubeObject;
}

/** The status kubelet reports: capacity, allocatable and a Ready condition. */
export function nodeStatus(): object {
  const capacity = { cpu: '4', memory: '16Gi', pods: '58' };
  const now = new Date().toISOString();
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
  };
}
