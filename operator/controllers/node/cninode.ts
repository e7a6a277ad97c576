/**
 * The CNINode the operator keeps for every Node (docs/compatibility.md#cninode-and-node-opt-in): same name, controller owner reference to
 * the Node (so Kubernetes GC removes it with the Node), our cleanup finalizer (so the node termination cleanup
 * runs before it goes), the tags every ENI of the node carries, and the node's OS label. `spec.features`
 * belongs to the VPC CNI (ipamd patches them in) and is never written here. Pure.
 */
import { CNINODE_FINALIZER, TAG } from '../../api/constants.ts';
import type { CNINode, OwnerReference } from '../../api/types.ts';
import { instanceIdOf, OS_LABEL, type NodeObject } from './node-object.ts';

export function nodeOwnerReference(node: NodeObject): OwnerReference {
  return { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid ?? '', controller: true };
}

/** Tags the CNINode hands to every ENI made for this node (cluster name and, when known, instance id). */
export function cniNodeTags(node: NodeObject, clusterName: string): Record<string, string> {
  const tags: Record<string, string> = { [TAG.clusterName]: clusterName };
  const instanceId = instanceIdOf(node);
  if (instanceId !== undefined) tags[TAG.instanceId] = instanceId;
  return tags;
}

export function desiredCniNode(node: NodeObject, clusterName: string): CNINode {
  const os = node.metadata.labels?.[OS_LABEL];
  return {
    apiVersion: 'vpcresources.k8s.aws/v1alpha1',
    kind: 'CNINode',
    metadata: {
      name: node.metadata.name,
      ...(os !== undefined ? { labels: { [OS_LABEL]: os } } : {}),
      finalizers: [CNINODE_FINALIZER],
      ownerReferences: [nodeOwnerReference(node)],
    },
    spec: { tags: cniNodeTags(node, clusterName) },
  };
}

/**
 * The merge patch that puts back what we keep on an existing CNINode (finalizer, tags, OS label), or
 * undefined when nothing is missing. Finalizers are a list, which a merge patch replaces whole, so the patch
 * carries the full list and the caller sends it with the resourceVersion it read.
 */
export function cniNodeRepairPatch(existing: CNINode, desired: CNINode): object | undefined {
  const metadata: Record<string, unknown> = {};
  const finalizers = existing.metadata.finalizers ?? [];
  if (!finalizers.includes(CNINODE_FINALIZER)) metadata['finalizers'] = [...finalizers, CNINODE_FINALIZER];

  const wantedLabels = desired.metadata.labels ?? {};
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(wantedLabels)) {
    if (existing.metadata.labels?.[key] !== value) labels[key] = value;
  }
  if (Object.keys(labels).length > 0) metadata['labels'] = labels;

  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(desired.spec?.tags ?? {})) {
    if (existing.spec?.tags?.[key] !== value) tags[key] = value;
  }

  const patch: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) patch['metadata'] = metadata;
  if (Object.keys(tags).length > 0) patch['spec'] = { tags };
  return Object.keys(patch).length > 0 ? patch : undefined;
}
