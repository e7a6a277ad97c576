/**
 * Stand-ins for what kubelet and the scheduler would do on a real cluster: the control plane here is
 * kube-apiserver + etcd only, so tests create Nodes with their status and Pods already bound (spec.nodeName).
 */
import { CoreV1Api, type V1Node, type V1Pod, type V1ServiceAccount } from '@kubernetes/client-node';

import { kubeConfig } from './index.ts';

export interface NodeOptions {
  /** `aws:///<az>/<instance-id>`, as the AWS cloud provider writes it; default a made-up id in us-west-2a. */
  providerId?: string;
  /** Label node.kubernetes.io/instance-type; default m5.large. */
  instanceType?: string;
  labels?: Record<string, string>;
  /** status.capacity and status.allocatable, e.g. { 'vpc.amazonaws.com/pod-eni': '9' }; cpu/memory/pods added. */
  capacity?: Record<string, string>;
  internalIp?: string;
}

/** Creates a Ready Linux Node and writes its status (kubelet's job) through the status subresource. */
export async function createNode(name: string, options: NodeOptions = {}): Promise<V1Node> {
  const api = kubeConfig().makeApiClient(CoreV1Api);
  const instanceType = options.instanceType ?? 'm5.large';
  const created = await api.createNode({
    body: {
      metadata: {
        name,
        labels: {
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name,
          'node.kubernetes.io/instance-type': instanceType,
          'topology.kubernetes.io/zone': 'us-west-2a',
          ...options.labels,
        },
      },
      spec: {
        providerID:
          options.providerId ??
          `aws:///us-west-2a/i-${name
            .replace(/[^a-f0-9]/g, '')
            .padEnd(17, '0')
            .slice(0, 17)}`,
      },
    },
  });
  const capacity = { cpu: '2', memory: '8Gi', pods: '29', ...options.capacity };
  return await api.replaceNodeStatus({
    name,
    body: {
      ...created,
      status: {
        capacity,
        allocatable: capacity,
        addresses: [
          { type: 'InternalIP', address: options.internalIp ?? '192.168.0.10' },
          { type: 'Hostname', address: name },
        ],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'set by the test harness',
            lastHeartbeatTime: new Date(),
            lastTransitionTime: new Date(),
          },
        ],
      },
    },
  });
}

export interface PodOptions {
  /** Bound at creation (no scheduler here). */
  nodeName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName?: string;
  /** Resources of containers[0], e.g. { 'vpc.amazonaws.com/pod-eni': '1' }, as limits and requests. */
  resources?: Record<string, string>;
  hostNetwork?: boolean;
}

/** Creates a one-container Pod (pause image; nothing runs it). */
export async function createPod(namespace: string, name: string, options: PodOptions = {}): Promise<V1Pod> {
  const api = kubeConfig().makeApiClient(CoreV1Api);
  return await api.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, namespace, labels: options.labels, annotations: options.annotations },
      spec: {
        nodeName: options.nodeName,
        serviceAccountName: options.serviceAccountName,
        hostNetwork: options.hostNetwork,
        // No ServiceAccount admission here and no token controller: never try to mount a token.
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'app',
            image: 'registry.k8s.io/pause:3.10',
            resources: options.resources ? { limits: options.resources, requests: options.resources } : undefined,
          },
        ],
      },
    },
  });
}

/** Sets the pod Running with an IP, as kubelet would once the CNI wired it. */
export async function markPodRunning(namespace: string, name: string, podIp = '192.168.1.10'): Promise<V1Pod> {
  const api = kubeConfig().makeApiClient(CoreV1Api);
  const pod = await api.readNamespacedPod({ namespace, name });
  return await api.replaceNamespacedPodStatus({
    namespace,
    name,
    body: {
      ...pod,
      status: {
        ...pod.status,
        phase: 'Running',
        podIP: podIp,
        podIPs: [{ ip: podIp }],
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }],
      },
    },
  });
}

export async function createServiceAccount(
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<V1ServiceAccount> {
  return await kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace, labels } } });
}
