/**
 * The pod tests' world (test/kit/world.ts): a private control plane and EC2 emulator seeded with the groups the
 * pod tests use, and the whole operator built by the real composition root with a short cooldown.
 */
import type { KubeConfig } from '@kubernetes/client-node';

import type { ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import type { RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { PodEniAnnotationEntry, SecurityGroupPolicy, TrunkInterface } from '../../../operator/api/types.ts';
import type { KubeClient, KubeObject } from '../../../operator/framework/index.ts';
import type { Options } from '../../../operator/options.ts';
import { AZ, startWorld, type AddNodeOptions } from '../../kit/world.ts';
import { eventually, uniqueName } from '../harness/index.ts';

export { AZ };
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
  addManagedNode(prefix: string, instanceType?: string, placement?: NodePlacement, extra?: NodeExtras): Promise<string>;
  namespace(prefix: string): Promise<string>;
  /**
   * Deletes a pod at once. A bound pod's graceful deletion waits for kubelet to confirm, and no kubelet
   * runs here, so tests do what kubelet would end with: remove the object (grace period 0).
   */
  deletePod(namespace: string, name: string): Promise<void>;
  stop(): Promise<void>;
}

export type NodePlacement = NonNullable<AddNodeOptions['placement']>;

/** Labels, CNINode features and the primary ENI's connection tracking (test/kit/world.ts), and whether to wait. */
export interface NodeExtras extends Pick<AddNodeOptions, 'labels' | 'features' | 'connectionTracking'> {
  /** Wait for the trunk to be Ready (default true). */
  waitReady?: boolean;
}

/**
 * `options` overrides the operator's parsed options; it receives the seeded groups' ids (by seed name),
 * which exist only once the emulator runs.
 */
export async function startPodWorld(
  options: (groups: Record<string, string>) => Partial<Options> = () => ({}),
): Promise<PodWorld> {
  const world = await startWorld({
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
  const { client, groups } = world;
  try {
    await world.startOperator({
      options: { clusterName: uniqueName('pods-it'), ...options(groups) },
      cooldownMs: TEST_COOLDOWN_MS,
    });
  } catch (error) {
    await world.stop();
    throw error;
  }

  return {
    kubeConfig: world.kubeConfig,
    plane: world.plane,
    emulator: world.emulator,
    client,
    vpcId: world.vpcId,
    subnetId: world.subnetId,
    groups,
    async addManagedNode(prefix, instanceType = 'm5.large', placement, extra = {}) {
      const name = uniqueName(prefix);
      const { waitReady = true, ...node } = extra;
      await world.addNode(name, {
        instanceType,
        optIn: 'cninode-feature',
        ...(placement ? { placement } : {}),
        ...node,
      });
      if (!waitReady) return name;
      await eventually(
        async () => {
          const trunk = await client.get<TrunkInterface>(Kinds.TrunkInterface, name);
          if (trunk?.status?.state !== 'Ready') throw new Error(`trunk ${trunk?.status?.state ?? 'missing'}`);
        },
        { waitingFor: `TrunkInterface ${name} Ready`, timeoutMs: 60_000 },
      );
      return name;
    },
    namespace: (prefix) => world.namespace(prefix),
    deletePod: (namespace, name) => world.deletePod(namespace, name),
    stop: () => world.stop(),
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
