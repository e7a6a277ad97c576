/**
 * The world an operator benchmark runs in: the integration tests' world (test/kit/world.ts: a private
 * kube-apiserver + etcd with crds/ installed, the EC2 emulator over HTTP) with AWS's default throttling buckets
 * and realistic per-action latencies on (both knobs can be switched off while seeding). Nodes and pods are
 * created as kubelet and the scheduler would leave them (there is neither here): Nodes with a kubelet's full
 * status (images, system info: what the operator's lean Node projection has to cope with) and, unless asked
 * not to, the legacy trunk opt-in label; Pods already bound and naming their namespace's `default` ServiceAccount, which
 * the world creates as kube-controller-manager would.
 */
import type { KubeConfig } from '@kubernetes/client-node';

import type { ControlPlane } from '../../hack/control-plane/control-plane.ts';
import type { ActionCounters, RunningEc2Emulator } from '../../hack/ec2-emulator/index.ts';
import { POD_ENI_RESOURCE } from '../../operator/api/constants.ts';
import { Kinds } from '../../operator/api/kinds.ts';
import type { SecurityGroupPolicy } from '../../operator/api/types.ts';
import type { ClusterAccess, KubeClient, KubeObject } from '../../operator/framework/index.ts';
import { AZ, REGION, startWorld as startKitWorld } from '../../test/kit/world.ts';
import { mapBounded } from './stats.ts';

export { AZ, REGION };
/** Label every benchmark pod carries; the benchmark's SecurityGroupPolicy selects it. */
export const POD_LABEL = { 'bench.sgp-operator.io/app': 'sgp' };

/** Actions that change EC2 state (what EC2's mutating buckets count). */
export const MUTATING_ACTIONS = [
  'CreateNetworkInterface',
  'DeleteNetworkInterface',
  'ModifyNetworkInterfaceAttribute',
  'AttachNetworkInterface',
  'DetachNetworkInterface',
  'AssociateTrunkInterface',
  'DisassociateTrunkInterface',
  'CreateTags',
  'DeleteTags',
  'CreateNetworkInterfacePermission',
] as const;

export type Counters = Record<string, ActionCounters>;

export interface CounterDelta {
  calls: number;
  mutatingCalls: number;
  throttled: number;
  errors: number;
  byAction: Record<string, number>;
}

export interface BenchWorld {
  plane: ControlPlane;
  /** @kubernetes/client-node's view of the control plane, for its generated APIs and Watch. */
  kubeConfig: KubeConfig;
  /** The operator's view of the same kubeconfig. */
  clusterAccess: ClusterAccess;
  client: KubeClient;
  emulator: RunningEc2Emulator;
  vpcId: string;
  subnetId: string;
  nodeGroupId: string;
  podGroupId: string;
  counters(): Counters;
  /**
   * Launches `count` instances and registers their Nodes, opted in through the legacy label unless `optIn` is
   * false (the label's presence opts in, whatever its value: the VPC CNI sets it to "false" to ask for a trunk).
   */
  addNodes(
    count: number,
    options?: { instanceType?: string; prefix?: string; concurrency?: number; optIn?: boolean },
  ): Promise<string[]>;
  /** A namespace with a SecurityGroupPolicy selecting POD_LABEL, resolved once the operator validated it. */
  createPolicyNamespace(name: string, options?: { waitValid?: boolean }): Promise<void>;
  /** Deletes a pod as kubelet finishes it: grace period 0 (no kubelet here to confirm termination). */
  deletePod(namespace: string, name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** AWS's default buckets on the emulator (default true). */
  throttling?: boolean;
  /** Realistic per-action latencies on the emulator (default true). */
  latency?: boolean;
}

export async function startWorld(options: WorldOptions = {}): Promise<BenchWorld> {
  const base = await startKitWorld({
    emulator: {
      throttling: { enabled: options.throttling ?? true },
      latency: options.latency ?? true,
      quotas: { networkInterfacesPerAz: 1_000_000 },
    },
    seed: {
      vpcs: [
        {
          cidrBlocks: ['10.0.0.0/16'],
          subnets: [{ cidrBlock: '10.0.0.0/16', availabilityZone: AZ, tags: { Name: 'bench' } }],
          securityGroups: [{ name: 'node-group' }, { name: 'pod-group' }],
        },
      ],
    },
  });
  const { client, emulator } = base;
  const world: BenchWorld = {
    plane: base.plane,
    kubeConfig: base.kubeConfig,
    clusterAccess: base.clusterAccess,
    client,
    emulator,
    vpcId: base.vpcId,
    subnetId: base.subnetId,
    nodeGroupId: base.groups['node-group'] ?? '',
    podGroupId: base.groups['pod-group'] ?? '',
    counters: () => structuredClone(emulator.control.counters()),
    async addNodes(count, nodeOptions = {}) {
      const instanceType = nodeOptions.instanceType ?? 'm5.xlarge';
      const prefix = nodeOptions.prefix ?? 'node';
      const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
      await mapBounded(names, nodeOptions.concurrency ?? 16, (name) =>
        base.addNode(name, {
          instanceType,
          optIn: (nodeOptions.optIn ?? true) ? 'legacy-label' : 'none',
          status: kubeletNodeStatus(name),
        }),
      );
      return names;
    },
    async createPolicyNamespace(name, policyOptions = {}) {
      await client.create(Kinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      await createDefaultServiceAccount(client, name);
      const policy: SecurityGroupPolicy = {
        apiVersion: 'vpcresources.k8s.aws/v1beta1',
        kind: 'SecurityGroupPolicy',
        metadata: { name: 'bench', namespace: name },
        spec: { podSelector: { matchLabels: POD_LABEL }, securityGroups: { groupIds: [world.podGroupId] } },
      } as SecurityGroupPolicy;
      await client.create(Kinds.SecurityGroupPolicy, policy);
      if (policyOptions.waitValid ?? true) await waitFor(() => policyIsValid(client, name), 60_000, 'policy valid');
    },
    deletePod: (namespace, name) => base.deletePod(namespace, name),
    stop: () => base.stop(),
  };
  return world;
}

/**
 * The namespace's `default` ServiceAccount, as kube-controller-manager creates it in a real cluster (the local
 * control plane runs none). EKS's controller looks up each pod's ServiceAccount to match policies and fails a pod
 * whose account does not exist, so benchmark pods name it, as the ServiceAccount admission plugin would.
 */
export async function createDefaultServiceAccount(client: KubeClient, namespace: string): Promise<void> {
  await client.create(Kinds.ServiceAccount, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default', namespace },
  } as KubeObject);
}

async function policyIsValid(client: KubeClient, namespace: string): Promise<boolean> {
  const policy = await client.get<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `${namespace}/bench`);
  const valid = policy?.status?.conditions?.find((condition) => condition.type === 'Valid');
  return valid?.status === 'True' && policy?.status?.observedGeneration === policy?.metadata.generation;
}

/**
 * What a kubelet reports (v1.36, trimmed only of values that vary by machine): conditions, addresses, daemon
 * endpoints, system info and the node's largest images. Real Node objects are this size or larger, which is
 * what the operator's lean Node projection has to cope with.
 */
function kubeletNodeStatus(name: string): object {
  const capacity = {
    cpu: '4',
    'ephemeral-storage': '83873772Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: '16069540Ki',
    pods: '58',
  };
  const now = new Date().toISOString();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const image = (repository: string, tag: string, sizeBytes: number) => ({
    names: [`${repository}@sha256:${'0123456789abcdef'.repeat(4)}`, `${repository}:${tag}`],
    sizeBytes,
  });
  return {
    capacity,
    allocatable: { ...capacity, cpu: '3920m', 'ephemeral-storage': '76224326324', memory: '15379364Ki' },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: '10.0.0.10' },
      { type: 'Hostname', address: `${name}.us-west-2.compute.internal` },
      { type: 'InternalDNS', address: `${name}.us-west-2.compute.internal` },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: 'ec2a1b2c3d4e5f60718293a4b5c6d7e8',
      systemUUID: 'ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8',
      bootID: '4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
      kernelVersion: '6.1.150-174.273.amzn2023.x86_64',
      osImage: 'Amazon Linux 2023.9.20260101',
      containerRuntimeVersion: 'containerd://2.1.4',
      kubeletVersion: 'v1.36.3-eks-1a2b3c4',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    images: [
      image('602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni', 'v1.21.1-eksbuild.1', 48_000_000),
      image('602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init', 'v1.21.1-eksbuild.1', 35_000_000),
      image('602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy', 'v1.36.3-minimal-eksbuild.1', 30_000_000),
      image('602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns', 'v1.12.4-eksbuild.1', 25_000_000),
      image('public.ecr.aws/eks-distro/kubernetes/pause', '3.10', 300_000),
    ],
  };
}

/** A bound pod that asks for a branch ENI (what the webhook would have added) and matches the benchmark policy. */
export function podObject(namespace: string, name: string, nodeName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { ...POD_LABEL } },
    spec: {
      nodeName,
      serviceAccountName: 'default',
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.10',
          resources: { requests: { [POD_ENI_RESOURCE]: '1' }, limits: { [POD_ENI_RESOURCE]: '1' } },
        },
      ],
    },
  } as KubeObject;
}

/** Calls made between two counter snapshots. */
export function counterDelta(before: Counters, after: Counters): CounterDelta {
  const byAction: Record<string, number> = {};
  let calls = 0;
  let mutatingCalls = 0;
  let throttled = 0;
  let errors = 0;
  for (const [action, now] of Object.entries(after)) {
    const was = before[action] ?? { calls: 0, errors: 0, throttled: 0 };
    const n = now.calls - was.calls;
    if (n > 0) byAction[action] = n;
    calls += n;
    if ((MUTATING_ACTIONS as readonly string[]).includes(action)) mutatingCalls += n;
    throttled += now.throttled - was.throttled;
    errors += now.errors - was.errors;
  }
  return { calls, mutatingCalls, throttled, errors, byAction };
}

/** Refill rate (tokens per second) of EC2's bucket for each mutating action (AWS's published limits). */
const MUTATING_REFILL_PER_SECOND: Record<string, number> = { CreateTags: 10, DeleteTags: 10 };

/**
 * Seconds until every mutating bucket a setup phase drew on is full again (no bucket drew more than its
 * capacity's worth, or the setup itself would have been throttled): the longest of calls / refill per action.
 */
export function refillSeconds(setup: CounterDelta): number {
  return Math.max(
    0,
    ...MUTATING_ACTIONS.map((action) => (setup.byAction[action] ?? 0) / (MUTATING_REFILL_PER_SECOND[action] ?? 5)),
  );
}

/** Polls `check` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`benchmark timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
