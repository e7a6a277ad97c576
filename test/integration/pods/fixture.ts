/**
 * A private world for the pod tests: its own kube-apiserver + etcd (the operator watches every Node and Pod
 * in the cluster, so sharing the run's control plane with other operators under test would make them
 * fight over the same objects), an EC2 emulator over HTTP, and the whole operator built by the real
 * composition root (createOperator) with a short cooldown.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

import { startControlPlane, type ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { installCrds } from '../../../hack/control-plane/crds.ts';
import { startEc2Emulator, type RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type {
  CNINode,
  PodEniAnnotationEntry,
  SecurityGroupPolicy,
  TrunkInterface,
} from '../../../operator/api/types.ts';
import { createEc2Api } from '../../../operator/aws/index.ts';
import { createKubeClient, type KubeClient, type KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { createOperator, type Operator } from '../../../operator/operator.ts';
import { parseOptions, type Options } from '../../../operator/options.ts';
import { eventually, uniqueName } from '../harness/index.ts';

export const AZ = 'us-west-2a';
/** Short, so release tests finish quickly; the product's floor is 30 s. */
export const TEST_COOLDOWN_MS = 1_000;

export interface PodWorld {
  kubeConfig: KubeConfig;
  plane: ControlPlane;
  emulator: RunningEc2Emulator;
  client: KubeClient;
  vpcId: string;
  subnetId: string;
  /** Security group ids by seed name (rds-access, cache-access, payments, node-group, elsewhere). */
  groups: Record<string, string>;
  /**
   * Launches an instance (in the seeded node subnet unless `placement` names another), creates its Node, opts
   * it in (CNINode feature) and waits for a Ready trunk.
   */
  addManagedNode(prefix: string, instanceType?: string, placement?: NodePlacement): Promise<string>;
  namespace(prefix: string): Promise<string>;
  /**
   * Deletes a pod at once. A bound pod's graceful deletion waits for kubelet to confirm, and no kubelet
   * runs here, so tests do what kubelet would end with: remove the object (grace period 0).
   */
  deletePod(namespace: string, name: string): Promise<void>;
  /**
   * Stops the operator as a crash would leave things for its successor: nothing of its memory (caches,
   * claims, checkpoints) survives; only what it wrote to the API server and to EC2 does.
   */
  stopOperator(): Promise<void>;
  /** Starts a fresh operator (new identity, empty memory) with the same options; waits for its caches. */
  startOperator(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodePlacement {
  subnetId: string;
  availabilityZone: string;
}

/**
 * `options` overrides the operator's parsed options; it receives the seeded groups' ids (by seed name),
 * which exist only once the emulator runs.
 */
export async function startPodWorld(
  options: (groups: Record<string, string>) => Partial<Options> = () => ({}),
): Promise<PodWorld> {
  const plane = await startControlPlane();
  await installCrds(plane.kubeconfigPath);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  const client = createKubeClient(kubeConfig);

  const emulator = await startEc2Emulator({
    port: 0,
    seed: {
      vpcs: [
        {
          cidrBlocks: ['10.0.0.0/16'],
          subnets: [{ cidrBlock: '10.0.0.0/24', availabilityZone: AZ, tags: { Name: 'nodes' } }],
          securityGroups: [
            { name: 'node-group' },
            { name: 'rds-access' },
            { name: 'cache-access' },
            { name: 'payments' },
          ],
        },
        {
          cidrBlocks: ['10.9.0.0/16'],
          subnets: [{ cidrBlock: '10.9.0.0/24', availabilityZone: AZ, tags: { Name: 'elsewhere' } }],
          securityGroups: [{ name: 'elsewhere' }],
        },
      ],
    },
  });
  const dump = emulator.control.dump();
  const vpcId = dump.vpcs[0]?.id ?? '';
  const subnetId = dump.subnets[0]?.id ?? '';
  const groups = Object.fromEntries(dump.securityGroups.map((group) => [group.name, group.id]));

  const parsed = parseOptions(['--cluster-name', uniqueName('pods-it'), '--region', 'us-west-2'], {});
  if (parsed.kind !== 'options') throw new Error('unreachable: no --help given');
  const operatorOptions = Object.freeze({
    ...parsed.options,
    enableWebhooks: false,
    metricsBindAddress: undefined,
    healthProbeBindAddress: undefined,
    vpcId,
    ...options(groups),
  });
  const ec2 = createEc2Api({
    endpoint: emulator.endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  let current: { operator: Operator; running: Promise<void> } | undefined;
  const startOperator = async () => {
    const operator = await createOperator(operatorOptions, {
      kubeConfig,
      ec2,
      log: silentLogger,
      cooldown: { currentMs: () => TEST_COOLDOWN_MS },
      identity: uniqueName('pods-operator'),
    });
    const running = operator.start(new AbortController().signal);
    running.catch(() => undefined);
    current = { operator, running };
    await eventually(
      () => {
        if (!operator.manager.isReady()) throw new Error('caches not synced');
      },
      { waitingFor: 'operator caches synced', timeoutMs: 60_000 },
    );
  };
  const stopOperator = async () => {
    if (!current) return;
    await current.operator.stop();
    await current.running.catch(() => undefined);
    current = undefined;
  };
  await startOperator();

  return {
    kubeConfig,
    plane,
    emulator,
    client,
    vpcId,
    subnetId,
    groups,
    async addManagedNode(prefix, instanceType = 'm5.large', placement = { subnetId, availabilityZone: AZ }) {
      const name = uniqueName(prefix);
      const instance = emulator.control.launchInstance({
        instanceType,
        subnet: placement.subnetId,
        securityGroups: [groups['node-group'] ?? ''],
      });
      await client.create(Kinds.Node, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': instanceType } },
        spec: { providerID: `aws:///${placement.availabilityZone}/${instance.id}` },
      } as KubeObject);
      await client.mergePatchStatus(Kinds.Node, name, {
        capacity: { cpu: '2', pods: '29' },
        allocatable: { cpu: '2', pods: '29' },
      });
      // What the VPC CNI's ipamd does with ENABLE_POD_ENI=true: patch the feature into the CNINode.
      await eventually(
        () => client.get<CNINode>(Kinds.CNINode, name).then((c) => (c ? c : Promise.reject(new Error('no CNINode')))),
        {
          waitingFor: `CNINode ${name}`,
        },
      );
      await client.mergePatch(Kinds.CNINode, name, { spec: { features: [{ name: 'SecurityGroupsForPods' }] } });
      await eventually(
        async () => {
          const trunk = await client.get<TrunkInterface>(Kinds.TrunkInterface, name);
          if (trunk?.status?.state !== 'Ready') throw new Error(`trunk ${trunk?.status?.state ?? 'missing'}`);
        },
        { waitingFor: `TrunkInterface ${name} Ready`, timeoutMs: 60_000 },
      );
      return name;
    },
    async namespace(prefix) {
      const name = uniqueName(prefix);
      await client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      return name;
    },
    async deletePod(namespace, name) {
      await kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
    },
    stopOperator,
    startOperator,
    async stop() {
      await stopOperator();
      await emulator.stop();
      await plane.stop();
    },
  };
}

export interface TestPodOptions {
  nodeName: string;
  labels?: Record<string, string>;
  serviceAccountName?: string;
  annotations?: Record<string, string>;
  /** Requests vpc.amazonaws.com/pod-eni on containers[0] (what the webhook would add). Default true. */
  podEni?: boolean;
}

export async function createTestPod(
  client: KubeClient,
  namespace: string,
  name: string,
  options: TestPodOptions,
): Promise<KubeObject> {
  const resources = options.podEni === false ? undefined : { 'vpc.amazonaws.com/pod-eni': '1' };
  return client.create(Kinds.Pod, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: options.labels, annotations: options.annotations },
    spec: {
      nodeName: options.nodeName,
      serviceAccountName: options.serviceAccountName,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.10',
          resources: resources ? { limits: resources, requests: resources } : undefined,
        },
      ],
    },
  } as KubeObject);
}

export function testPolicy(
  namespace: string,
  name: string,
  groupIds: string[],
  selectors: Pick<SecurityGroupPolicy['spec'], 'podSelector' | 'serviceAccountSelector'>,
): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace },
    spec: { ...selectors, securityGroups: { groupIds } },
  };
}

const POD_ENI_ANNOTATION = 'vpc.amazonaws.com/pod-eni';

/** Waits for the pod's pod-eni annotation and returns its single entry, as the VPC CNI parses it. */
export async function waitAnnotated(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<PodEniAnnotationEntry> {
  return eventually(
    async () => {
      const pod = await client.get<KubeObject>(Kinds.Pod, `${namespace}/${name}`);
      const raw = pod?.metadata.annotations?.[POD_ENI_ANNOTATION];
      if (raw === undefined) throw new Error('not annotated yet');
      const parsed = JSON.parse(raw) as PodEniAnnotationEntry[];
      if (parsed.length !== 1) throw new Error(`annotation has ${parsed.length} entries`);
      return parsed[0] as PodEniAnnotationEntry;
    },
    { waitingFor: `pod ${namespace}/${name} annotated with ${POD_ENI_ANNOTATION}`, timeoutMs: 60_000 },
  );
}

export interface ObjectEvent {
  reason?: string;
  type?: string;
  message?: string;
}

/** Events about one object (by name) in a namespace ('' for cluster-scoped objects such as Nodes: "default"). */
export async function eventsOf(client: KubeClient, namespace: string, name: string): Promise<ObjectEvent[]> {
  const events = await client.list<KubeObject & ObjectEvent & { involvedObject?: { name?: string } }>(Kinds.Event, {
    namespace,
  });
  return events.filter((event) => event.involvedObject?.name === name);
}
