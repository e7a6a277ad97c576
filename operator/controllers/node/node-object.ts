/**
 * The parts of a core/v1 Node the node and trunk controllers read. Our own narrow shape (rather than the
 * client library's V1Node, whose metadata name is optional) so decisions can be written against it.
 */
import type { KubeObject } from '../../framework/types.ts';

export interface NodeObject extends KubeObject {
  spec?: {
    /** `aws:///<zone>/<instance-id>` on EC2 nodes. */
    providerID?: string;
  };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
  };
}

/** Well-known labels the kubelet sets (the beta one on old kubelets only). */
export const INSTANCE_TYPE_LABEL = 'node.kubernetes.io/instance-type';
export const LEGACY_INSTANCE_TYPE_LABEL = 'beta.kubernetes.io/instance-type';
export const OS_LABEL = 'kubernetes.io/os';

export function instanceTypeOf(node: NodeObject): string | undefined {
  const labels = node.metadata.labels ?? {};
  return labels[INSTANCE_TYPE_LABEL] ?? labels[LEGACY_INSTANCE_TYPE_LABEL];
}

/**
 * The EC2 instance id from `spec.providerID` (`aws:///us-west-2c/i-0abc…`): the last path segment when it
 * looks like an instance id. Fargate's `aws:///<zone>/<hash>/fargate-ip-…` and other providers give undefined.
 */
export function instanceIdOf(node: NodeObject): string | undefined {
  const providerId = node.spec?.providerID;
  if (!providerId?.startsWith('aws://')) return undefined;
  const last = providerId.split('/').pop() ?? '';
  return /^i-[0-9a-f]{8,17}$/.test(last) ? last : undefined;
}
