/**
 * How the cluster's pods are networked, as the VPC CNI runs them: the IP family, whether IPv4 branch ENIs
 * also get an IPv6 address, and whether custom networking puts pod ENIs in the subnet of each node's
 * ENIConfig. Decided once at start from the options and, where they say `auto`, from the environment of the
 * VPC CNI's aws-node DaemonSet (./vpc-cni.ts). Pure. docs/networks.md describes each mode.
 */
import {
  DEFAULT_ENI_CONFIG_ANNOTATION_KEY,
  DEFAULT_ENI_CONFIG_LABEL_KEY,
  VPC_CNI_DAEMONSET_NAME,
  VPC_CNI_DAEMONSET_NAMESPACE,
} from '../../api/constants.ts';

export type IpFamily = 'ipv4' | 'ipv6';

/** How a node's ENIConfig is named when custom networking is on (besides the name the CNI writes to CNINode). */
export interface EniConfigSelection {
  /** The node label holding the name (the CNI's ENI_CONFIG_LABEL_DEF). */
  labelKey: string;
  /** The node annotation holding the name, read before the label (the CNI's ENI_CONFIG_ANNOTATION_DEF). */
  annotationKey: string;
}

/** Which nodes take their pod subnet and groups from an ENIConfig. */
export type CustomNetworking =
  /** None: every pod ENI lives in its node's subnet (--custom-networking=disabled, IPv6, no ENIConfig CRD). */
  | { mode: 'off' }
  /**
   * Nodes the VPC CNI marked, as EKS's controller does: the CNINode feature CustomNetworking (its value names
   * the ENIConfig) or EKS's vpc.amazonaws.com/eniConfig label. What `auto` means when aws-node does not say
   * custom networking is on.
   */
  | { mode: 'marked-nodes' }
  /** Every node, its ENIConfig named the way the CNI names it (./eniconfig.ts). */
  | { mode: 'on'; selection: EniConfigSelection };

export interface PodNetwork {
  ipFamily: IpFamily;
  /** An IPv4 cluster whose branch ENIs also carry one IPv6 address (--dual-stack-branch-enis). */
  isDualStack: boolean;
  customNetworking: CustomNetworking;
}

/** Without options or a readable aws-node: IPv4, and ENIConfigs only for nodes the CNI marked, as on EKS. */
export const DEFAULT_POD_NETWORK: PodNetwork = {
  ipFamily: 'ipv4',
  isDualStack: false,
  customNetworking: { mode: 'marked-nodes' },
};

/** ENIConfigs are read (an informer runs) in this mode. */
export function readsEniConfigs(network: PodNetwork): boolean {
  return network.customNetworking.mode !== 'off';
}

/** Branch ENIs need one IPv6 address (and so an IPv6 block in their subnet). */
export function needsIpv6(network: PodNetwork): boolean {
  return network.ipFamily === 'ipv6' || network.isDualStack;
}

/** The options that decide the pod network (operator/options.ts). */
export interface PodNetworkOptions {
  ipFamily: 'auto' | IpFamily;
  dualStackBranchEnis: boolean;
  customNetworking: 'auto' | 'enabled' | 'disabled';
  eniConfigLabelKey: string | undefined;
  eniConfigAnnotationKey: string | undefined;
}

/** The aws-node container's environment (name → value), or why it could not be read. */
export type VpcCniEnvironment = { readable: true; env: ReadonlyMap<string, string> } | { readable: false; why: string };

export interface ResolvedPodNetwork {
  network: PodNetwork;
  /** One line per choice that was not given explicitly, saying where it came from (for the start-up log). */
  notes: string[];
  /** An explicit option that cannot be honoured: the operator does not start. */
  problem?: string;
}

const AWS_NODE = `${VPC_CNI_DAEMONSET_NAMESPACE}/${VPC_CNI_DAEMONSET_NAME}`;

/**
 * @param hasEniConfigCrd whether the API server serves ENIConfigs; without the CRD custom networking is off
 *   (an informer on a kind that does not exist would keep the operator from ever becoming ready).
 */
export function resolvePodNetwork(
  options: PodNetworkOptions,
  cni: VpcCniEnvironment,
  hasEniConfigCrd: boolean,
): ResolvedPodNetwork {
  const notes: string[] = [];
  const fromCni = (name: string): string | undefined => (cni.readable ? cni.env.get(name) : undefined);

  let ipFamily: IpFamily;
  if (options.ipFamily !== 'auto') {
    ipFamily = options.ipFamily;
  } else if (!cni.readable) {
    ipFamily = 'ipv4';
    notes.push(`ip family ipv4: ${AWS_NODE} could not be read (${cni.why}); set --ip-family if the cluster is IPv6`);
  } else {
    ipFamily = fromCni('ENABLE_IPv6') === 'true' ? 'ipv6' : 'ipv4';
    notes.push(`ip family ${ipFamily}: ENABLE_IPv6=${fromCni('ENABLE_IPv6') ?? '(unset)'} in ${AWS_NODE}`);
  }

  const isDualStack = options.dualStackBranchEnis && ipFamily === 'ipv4';
  if (options.dualStackBranchEnis && ipFamily === 'ipv6') {
    notes.push('--dual-stack-branch-enis has no effect: IPv6 branch ENIs carry an IPv4 address as well');
  }

  let customNetworking: CustomNetworking;
  const cniCustom = fromCni('AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG');
  if (options.customNetworking === 'disabled') {
    customNetworking = { mode: 'off' };
  } else if (options.customNetworking === 'enabled' || cniCustom === 'true') {
    customNetworking = {
      mode: 'on',
      selection: {
        labelKey: options.eniConfigLabelKey || fromCni('ENI_CONFIG_LABEL_DEF') || DEFAULT_ENI_CONFIG_LABEL_KEY,
        annotationKey:
          options.eniConfigAnnotationKey || fromCni('ENI_CONFIG_ANNOTATION_DEF') || DEFAULT_ENI_CONFIG_ANNOTATION_KEY,
      },
    };
    if (options.customNetworking === 'auto') {
      notes.push(`custom networking on: AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true in ${AWS_NODE}`);
    }
  } else {
    customNetworking = { mode: 'marked-nodes' };
    notes.push(
      `custom networking only for nodes the VPC CNI marks (CNINode feature CustomNetworking): ` +
        (cni.readable ? `AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=${cniCustom ?? '(unset)'} in ${AWS_NODE}` : cni.why),
    );
  }
  if (customNetworking.mode !== 'off' && ipFamily === 'ipv6') {
    // The VPC CNI runs custom networking for IPv4 only; the options refuse the explicit combination.
    customNetworking = { mode: 'off' };
    notes.push('custom networking off: the VPC CNI does not run it in IPv6 clusters');
  }
  let problem: string | undefined;
  if (customNetworking.mode !== 'off' && !hasEniConfigCrd) {
    if (options.customNetworking === 'enabled') {
      problem =
        '--custom-networking=enabled, but the API server does not serve ENIConfigs (crd.k8s.amazonaws.com/v1alpha1): ' +
        'install the VPC CNI (or crds/crd.k8s.amazonaws.com_eniconfigs.yaml), or turn custom networking off';
    }
    customNetworking = { mode: 'off' };
    notes.push('custom networking off: the API server does not serve ENIConfigs (crd.k8s.amazonaws.com)');
  }

  return { network: { ipFamily, isDualStack, customNetworking }, notes, ...(problem ? { problem } : {}) };
}
