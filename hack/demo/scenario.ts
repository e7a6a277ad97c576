/**
 * The EKS workshop's "Security Groups for Pods" lab as objects: three m5.large nodes (as the kubelet would
 * register them), the VPC CNI's CNINode opt-in, the catalog namespace, its SecurityGroupPolicy and the
 * catalog pods (bound to nodes by hand: the demo runs no scheduler).
 */
import { Kinds } from '../../operator/api/kinds.ts';
import { POD_ENI_RESOURCE, SECURITY_GROUPS_FOR_PODS_FEATURE } from '../../operator/api/constants.ts';
import type { CNINode, SecurityGroupPolicy } from '../../operator/api/types.ts';
import { KubeConflictError, type KubeClient, type KubeObject } from '../../operator/framework/index.ts';
import type { DumpInstance } from '../ec2-emulator/index.ts';

export const CLUSTER_NAME = 'eks-workshop';
export const CATALOG_NAMESPACE = 'catalog';
export const POLICY_NAME = 'catalog-rds-access';
/** Catalog service pods the demo creates: two per node. */
export const CATALOG_PODS = 6;

export interface WorkshopGroups {
  /** The node group's security group (what pods get without a policy). */
  nodeGroupId: string;
  /** The group the RDS database admits. */
  rdsAccessGroupId: string;
}

/** What the SecurityGroupPolicy asks for, sorted as the operator applies it. */
export function expectedGroups(groups: WorkshopGroups): string[] {
  return [groups.rdsAccessGroupId, groups.nodeGroupId].sort();
}

/** `ip-10-42-96-10.us-west-2.compute.internal`, as EKS names nodes. */
export function nodeNameOf(instance: DumpInstance, region: string): string {
  return `ip-${instance.privateIpAddress.replaceAll('.', '-')}.${region}.compute.internal`;
}

export async function registerNode(client: KubeClient, instance: DumpInstance, region: string): Promise<string> {
  const name = nodeNameOf(instance, region);
  await createOrKeep(client, Kinds.Node, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': instance.instanceType,
        'topology.kubernetes.io/zone': instance.availabilityZone,
        'topology.kubernetes.io/region': region,
        'eks.amazonaws.com/nodegroup': 'default',
      },
    },
    spec: { providerID: `aws:///${instance.availabilityZone}/${instance.id}` },
  } as KubeObject);
  const resources = { cpu: '2', memory: '7869Mi', pods: '29', 'ephemeral-storage': '83873772Ki' };
  await client.mergePatchStatus(Kinds.Node, name, {
    capacity: resources,
    allocatable: resources,
    addresses: [
      { type: 'InternalIP', address: instance.privateIpAddress },
      { type: 'Hostname', address: name },
    ],
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status (demo)',
        lastHeartbeatTime: new Date().toISOString(),
        lastTransitionTime: new Date().toISOString(),
      },
    ],
    nodeInfo: { kubeletVersion: 'v1.36.3-eks', containerRuntimeVersion: 'containerd://2.1.4' },
  });
  return name;
}

/**
 * What the VPC CNI does with ENABLE_POD_ENI=true: adds the SecurityGroupsForPods feature to the node's
 * CNINode (creating it if the operator has not yet).
 */
export async function enablePodEni(client: KubeClient, nodeName: string): Promise<void> {
  const feature = { name: SECURITY_GROUPS_FOR_PODS_FEATURE };
  const current = await client.get<CNINode>(Kinds.CNINode, nodeName);
  if (current === undefined) {
    await createOrKeep(client, Kinds.CNINode, {
      apiVersion: 'vpcresources.k8s.aws/v1alpha1',
      kind: 'CNINode',
      metadata: { name: nodeName },
      spec: { features: [feature] },
    } as KubeObject);
    const created = await client.get<CNINode>(Kinds.CNINode, nodeName);
    if (created?.spec?.features?.some((f) => f.name === feature.name)) return;
    return enablePodEni(client, nodeName);
  }
  const features = current.spec?.features ?? [];
  if (features.some((f) => f.name === feature.name)) return;
  await client.mergePatch(Kinds.CNINode, nodeName, { spec: { features: [...features, feature] } });
}

export async function applyCatalog(
  client: KubeClient,
  groups: WorkshopGroups,
  nodeNames: readonly string[],
): Promise<string[]> {
  await createOrKeep(client, Kinds.Namespace, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: CATALOG_NAMESPACE },
  } as KubeObject);
  await createOrKeep(client, Kinds.ServiceAccount, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'catalog', namespace: CATALOG_NAMESPACE },
  } as KubeObject);
  const policy: SecurityGroupPolicy = {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: POLICY_NAME, namespace: CATALOG_NAMESPACE },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'service' } },
      securityGroups: { groupIds: [groups.rdsAccessGroupId, groups.nodeGroupId] },
    },
  };
  await createOrKeep(client, Kinds.SecurityGroupPolicy, policy as unknown as KubeObject);
  const names: string[] = [];
  for (let index = 0; index < CATALOG_PODS; index++) {
    const name = `catalog-${index + 1}`;
    const nodeName = nodeNames[index % nodeNames.length] ?? '';
    await createOrKeep(client, Kinds.Pod, catalogPod(name, nodeName));
    names.push(name);
  }
  return names;
}

function catalogPod(name: string, nodeName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: CATALOG_NAMESPACE,
      labels: {
        'app.kubernetes.io/name': 'catalog',
        'app.kubernetes.io/instance': 'catalog',
        'app.kubernetes.io/component': 'service',
      },
    },
    spec: {
      nodeName,
      serviceAccountName: 'catalog',
      containers: [
        {
          name: 'catalog',
          image: 'public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.1',
          ports: [{ name: 'http', containerPort: 8080 }],
          // What the mutating webhook adds; the demo runs without webhooks, so the pod asks for it itself.
          resources: {
            requests: { cpu: '250m', memory: '512Mi', [POD_ENI_RESOURCE]: '1' },
            limits: { memory: '512Mi', [POD_ENI_RESOURCE]: '1' },
          },
        },
      ],
    },
  } as KubeObject;
}

async function createOrKeep(
  client: KubeClient,
  kind: Parameters<KubeClient['create']>[0],
  object: KubeObject,
): Promise<void> {
  try {
    await client.create(kind, object);
  } catch (error) {
    if (!(error instanceof KubeConflictError)) throw error;
  }
}
