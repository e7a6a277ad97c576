/**
 * The operator's view of the cluster-wide kinds it caches besides Pods (./pod.ts): Nodes, Namespaces and
 * ServiceAccounts, each reduced to what the controllers and webhooks read, and the informer options every
 * controller shares for them (one definition, so the manager builds one informer per kind whoever asks
 * first). A kubelet's Node carries its images, conditions, addresses and system info (often 10–50 KB of JSON);
 * a Namespace or ServiceAccount its annotations (kubectl's last-applied configuration, IRSA's role). None of that
 * is read here, and at 5,000 nodes it would be most of the cache (bench/README.md).
 *
 * Cached objects are never written back whole (every write is a patch), so a projection cannot erase fields
 * on the server. Whoever needs a field not kept here adds it to the projection, not a second informer.
 */
import type { InformerOptions, KubeObject } from '../framework/types.ts';
import { internString } from '../framework/intern.ts';
import { SECURITY_GROUPS_ANNOTATION } from './constants.ts';
import { Kinds } from './kinds.ts';
import type { ObjectMeta } from '../framework/meta.ts';

/** The metadata every projection keeps: identity, version, labels, and what deletion and ownership need. */
function leanMetadata(metadata: ObjectMeta): ObjectMeta {
  return {
    name: metadata.name,
    ...(metadata.namespace === undefined ? {} : { namespace: internString(metadata.namespace) }),
    ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
    ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
    ...(metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: metadata.deletionTimestamp }),
    ...(metadata.labels === undefined ? {} : { labels: internValues(metadata.labels) }),
  };
}

/** Label values repeat across objects (zone, instance type, app); one string each instead of one per object. */
export function internValues(map: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(map)) map[key] = internString(map[key] ?? '');
  return map;
}

/**
 * A Node: labels (instance type, OS, opt-in), providerID (instance id), whether it is cordoned (a cordoned node
 * parks no warm branch ENI, docs/warm-branches.md), and the pod-eni capacity fields.
 */
export interface LeanNode extends KubeObject {
  spec?: { providerID?: string; unschedulable?: boolean };
  status?: { capacity?: Record<string, string>; allocatable?: Record<string, string> };
}

/** `keptAnnotations`: the annotations a controller reads (custom networking's ENIConfig annotation). */
export function toLeanNode(node: LeanNode, keptAnnotations: readonly string[] = []): LeanNode {
  const status = node.status;
  const annotations = Object.entries(node.metadata.annotations ?? {}).filter(([key]) => keptAnnotations.includes(key));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      ...leanMetadata(node.metadata),
      ...(annotations.length === 0 ? {} : { annotations: internValues(Object.fromEntries(annotations)) }),
    },
    spec: {
      ...(node.spec?.providerID === undefined ? {} : { providerID: node.spec.providerID }),
      ...(node.spec?.unschedulable === true ? { unschedulable: true } : {}),
    },
    status: {
      ...(status?.capacity === undefined ? {} : { capacity: internValues(status.capacity) }),
      ...(status?.allocatable === undefined ? {} : { allocatable: internValues(status.allocatable) }),
    },
  };
}

/** A Namespace: its labels (policy and webhook selectors, the namespace opt-in label). */
export function toLeanNamespace(namespace: KubeObject): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: leanMetadata(namespace.metadata) };
}

/** A ServiceAccount: its labels (policy selectors) and the security-groups annotation (opt-in extension). */
export function toLeanServiceAccount(serviceAccount: KubeObject): KubeObject {
  const groups = serviceAccount.metadata.annotations?.[SECURITY_GROUPS_ANNOTATION];
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      ...leanMetadata(serviceAccount.metadata),
      ...(groups === undefined ? {} : { annotations: { [SECURITY_GROUPS_ANNOTATION]: groups } }),
    },
  };
}

const nodeInformerOptionsByAnnotations = new Map<string, InformerOptions<LeanNode>>();

/**
 * The Node informer's options, keeping `keptAnnotations` besides the projection. One options object (and so one
 * transform function) per set of keys: the manager shares an informer only between callers with the same
 * transform, and every controller asks with the same keys (see nodeAnnotationsRead in
 * controllers/podnetwork/settings.ts).
 */
export function nodeInformerOptions(keptAnnotations: readonly string[] = []): InformerOptions<LeanNode> {
  const id = keptAnnotations.join('\n');
  let options = nodeInformerOptionsByAnnotations.get(id);
  if (options === undefined) {
    const kept = [...keptAnnotations];
    options = { kind: Kinds.Node, transform: (node) => toLeanNode(node, kept) };
    nodeInformerOptionsByAnnotations.set(id, options);
  }
  return options;
}
export const namespaceInformerOptions: InformerOptions<KubeObject> = {
  kind: Kinds.Namespace,
  transform: toLeanNamespace,
};
export const serviceAccountInformerOptions: InformerOptions<KubeObject> = {
  kind: Kinds.ServiceAccount,
  transform: toLeanServiceAccount,
};
