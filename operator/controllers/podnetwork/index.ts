/** The pod network (IP family, dual-stack, custom networking): settings, detection, ENIConfig decisions. */
export {
  DEFAULT_POD_NETWORK,
  needsIpv6,
  readsEniConfigs,
  resolvePodNetwork,
  type CustomNetworking,
  type EniConfigSelection,
  type IpFamily,
  type PodNetwork,
  type PodNetworkOptions,
  type ResolvedPodNetwork,
  type VpcCniEnvironment,
} from './settings.ts';
export { detectPodNetwork, vpcCniEnvironment } from './vpc-cni.ts';
export {
  describeSource,
  eniConfigNameOf,
  nodePodNetwork,
  type EniConfigNameSource,
  type NodeEniConfigName,
  type NodePodNetwork,
} from './eniconfig.ts';
