/**
 * Custom networking: which ENIConfig a node's pod ENIs follow, and what that gives its trunk and branches.
 * Pure. The names are found the way the VPC CNI finds them, so the operator and the CNI always agree:
 *
 * 1. the CNINode feature CustomNetworking: the CNI writes the name it resolved there (what EKS's controller
 *    reads), so it wins whenever it is present;
 * 2. EKS's own node label vpc.amazonaws.com/eniConfig;
 * 3. with custom networking on, the CNI's rules: the label vpc.amazonaws.com/externalEniConfig, the annotation
 *    ENI_CONFIG_ANNOTATION_DEF, the label ENI_CONFIG_LABEL_DEF (for example the zone label, with one ENIConfig
 *    per zone), else the ENIConfig named "default".
 *
 * The ENIConfig's subnet is where the trunk (when it is created) and every new branch ENI go; its groups are
 * the trunk's groups, which pods without policy groups get. An empty group list means the node's primary ENI
 * groups, as in the CNI. See docs/networks.md.
 */
import {
  CUSTOM_NETWORKING_FEATURE,
  DEFAULT_ENI_CONFIG_NAME,
  EKS_ENI_CONFIG_LABEL,
  EXTERNAL_ENI_CONFIG_LABEL,
} from '../../api/constants.ts';
import type { CNINode, ENIConfig, ObjectMeta } from '../../api/types.ts';
import type { CustomNetworking } from './settings.ts';

export type EniConfigNameSource =
  'cninode-feature' | 'eks-label' | 'external-label' | 'annotation' | 'label' | 'default';

export type NodeEniConfigName =
  /** The node's pod ENIs live in its own subnet. */
  | { kind: 'none' }
  | { kind: 'named'; name: string; source: EniConfigNameSource }
  /** The CNI marked the node but the operator runs with custom networking off: said once, then ignored. */
  | { kind: 'ignored'; name: string; message: string };

export function eniConfigNameOf(
  node: { metadata: Pick<ObjectMeta, 'name' | 'labels' | 'annotations'> },
  cniNode: CNINode | undefined,
  customNetworking: CustomNetworking,
): NodeEniConfigName {
  const labels = node.metadata.labels ?? {};
  const fromFeature = cniNode?.spec?.features?.find((f) => f.name === CUSTOM_NETWORKING_FEATURE)?.value;
  const marked: { name: string; source: EniConfigNameSource } | undefined = fromFeature
    ? { name: fromFeature, source: 'cninode-feature' }
    : labels[EKS_ENI_CONFIG_LABEL]
      ? { name: labels[EKS_ENI_CONFIG_LABEL], source: 'eks-label' }
      : undefined;

  switch (customNetworking.mode) {
    case 'off':
      if (marked === undefined) return { kind: 'none' };
      return {
        kind: 'ignored',
        name: marked.name,
        message:
          `node ${node.metadata.name} names ENIConfig ${marked.name} (${describeSource(marked.source)}), but the ` +
          'operator runs with custom networking off, so its branch ENIs go to its own subnet; set ' +
          '--custom-networking=auto or enabled to follow the ENIConfig',
      };
    case 'marked-nodes':
      return marked === undefined ? { kind: 'none' } : { kind: 'named', ...marked };
    case 'on': {
      if (marked !== undefined) return { kind: 'named', ...marked };
      const { labelKey, annotationKey } = customNetworking.selection;
      const external = labels[EXTERNAL_ENI_CONFIG_LABEL];
      if (external !== undefined) return { kind: 'named', name: external, source: 'external-label' };
      const annotated = node.metadata.annotations?.[annotationKey];
      if (annotated !== undefined) return { kind: 'named', name: annotated, source: 'annotation' };
      const labelled = labels[labelKey];
      if (labelled !== undefined) return { kind: 'named', name: labelled, source: 'label' };
      return { kind: 'named', name: DEFAULT_ENI_CONFIG_NAME, source: 'default' };
    }
    default: {
      const unknown: never = customNetworking;
      return unknown;
    }
  }
}

export function describeSource(source: EniConfigNameSource): string {
  switch (source) {
    case 'cninode-feature':
      return `its CNINode's ${CUSTOM_NETWORKING_FEATURE} feature`;
    case 'eks-label':
      return `label ${EKS_ENI_CONFIG_LABEL}`;
    case 'external-label':
      return `label ${EXTERNAL_ENI_CONFIG_LABEL}`;
    case 'annotation':
      return 'the ENIConfig annotation';
    case 'label':
      return 'the ENIConfig label';
    case 'default':
      return 'no label, so the ENIConfig named default';
    default: {
      const unknown: never = source;
      return unknown;
    }
  }
}

/** Where a node's pod ENIs go, before its subnet is described. */
export type NodePodNetwork =
  /** The node's own subnet, the trunk's (and primary ENI's) groups. */
  | { kind: 'node-subnet'; warning?: string }
  | { kind: 'eni-config'; name: string; subnetId: string; securityGroups: string[] }
  /** The node asks for an ENIConfig that cannot be used; reason is a Node event reason. */
  | { kind: 'problem'; reason: 'ENIConfigNotFound' | 'ENIConfigInvalid'; message: string };

export function nodePodNetwork(
  node: { metadata: Pick<ObjectMeta, 'name' | 'labels' | 'annotations'> },
  cniNode: CNINode | undefined,
  customNetworking: CustomNetworking,
  eniConfigs: { get(name: string): ENIConfig | undefined },
): NodePodNetwork {
  const named = eniConfigNameOf(node, cniNode, customNetworking);
  if (named.kind === 'none') return { kind: 'node-subnet' };
  if (named.kind === 'ignored') return { kind: 'node-subnet', warning: named.message };
  const eniConfig = eniConfigs.get(named.name);
  const nodeName = node.metadata.name;
  if (eniConfig === undefined) {
    return {
      kind: 'problem',
      reason: 'ENIConfigNotFound',
      message:
        `node ${nodeName} uses ENIConfig ${named.name} (${describeSource(named.source)}), which does not exist; ` +
        `create it (crd.k8s.amazonaws.com/v1alpha1, spec.subnet in the node's zone) or fix the node's ENIConfig name`,
    };
  }
  const subnetId = eniConfig.spec?.subnet ?? '';
  if (!/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/.test(subnetId)) {
    return {
      kind: 'problem',
      reason: 'ENIConfigInvalid',
      message: `ENIConfig ${named.name} of node ${nodeName} has spec.subnet "${subnetId}", not a subnet id (subnet-…); fix the ENIConfig`,
    };
  }
  return {
    kind: 'eni-config',
    name: named.name,
    subnetId,
    securityGroups: [...new Set(eniConfig.spec?.securityGroups ?? [])].sort(),
  };
}
