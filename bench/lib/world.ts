/**
 * The world an operator benchmark runs in: the integration tests' world (test/kit/world.ts: a private
 * kube-apiserver + etcd with crds/ installed, the EC2 emulator over HTTP) with AWS's default throttling buckets
 * and realistic per-action latencies on (both knobs can be switched off while seeding). Nodes and pods are
 * created as kubelet and the scheduler would leave them (there is neither here): Nodes with status and the
 * legacy trunk opt-in label, Pods already bound and naming their namespace's `default` ServiceAccount, which
 * the world creates as kube-controller-manager would.
 */
import type { KubeConfig } from '@kubernetes/client-node';

import type { ControlPlane } from '../../hack/control-plane/control-plane.ts';
import type { ActionCounters, RunningEc2Emulator } from '../../hack/ec2-emulator/index.ts';
import { POD_ENI_RESOURCE } from '../../operator/api/constants.ts';
import { Kinds } from '../../operator/api/kinds.ts';
import type { SecurityGroupPolicy } from '../../operator/api/types.ts';
import type { KubeClient, KubeObject } from '../../operator/framework/index.ts';
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
  kubeConfig: KubeConfig;
  client: KubeClient;
  emulator: RunningEc2Emulator;
  vpcId: string;
  subnetId: string;
  nodeGroupId: string;
  podGroupId: string;
  counters(): Counters;
  /** Launches `count` instances and registers their Nodes (opted in through the legacy label). */
  addNodes(
    count: number,
    options?: { instanceType?: string; prefix?: string; concurrency?: number },
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
        base.addNode(name, { instanceType, optIn: 'legacy-label' }),
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
