/**
 * The cluster VPC as the operator knows it: CIDR blocks and subnets tagged for pods, and (while policies name
 * groups by name or tags) its security groups, refreshed by the leader.
 */
import { DEFAULT_POD_SUBNET_TAG_KEY } from '../../api/constants.ts';
import type { ControllerDeps } from '../deps.ts';
import { VpcNetworkDirectory } from './directory.ts';

export { VpcNetworkDirectory } from './directory.ts';
export type {
  NetworkListener,
  SecurityGroupDirectory,
  SecurityGroupsSnapshot,
  SubnetDirectory,
  VpcNetworkDirectoryOptions,
} from './directory.ts';
export { describeChange, diffNetwork, podSubnetsInZone } from './snapshot.ts';
export type { NetworkChange, PodSubnet, VpcNetworkSnapshot } from './snapshot.ts';

/** Default --vpc-refresh-interval-seconds: two describes a minute, next to nothing in the Describe bucket. */
export const DEFAULT_VPC_REFRESH_INTERVAL_MS = 60_000;

export function registerVpcNetwork(deps: ControllerDeps): VpcNetworkDirectory {
  const directory = new VpcNetworkDirectory({
    ec2: deps.ec2,
    vpcId: deps.cluster.vpcId,
    tagKey: deps.settings?.podSubnetTagKey ?? DEFAULT_POD_SUBNET_TAG_KEY,
    intervalMs: deps.settings?.vpcRefreshIntervalMs ?? DEFAULT_VPC_REFRESH_INTERVAL_MS,
    clock: deps.clock,
    log: deps.log.child({ controller: 'vpc-network' }),
  });
  deps.manager.add({ name: 'vpc-network', needLeaderElection: true, start: (signal) => directory.run(signal) });
  return directory;
}
