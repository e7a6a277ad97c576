/**
 * The cluster VPC as the operator knows it: CIDR blocks and subnets tagged for pods, and (while policies name
 * groups by name or tags) its security groups, refreshed by the leader.
 */
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

export function registerVpcNetwork(deps: ControllerDeps): VpcNetworkDirectory {
  const directory = new VpcNetworkDirectory({
    ec2: deps.ec2,
    vpcId: deps.cluster.vpcId,
    tagKey: deps.settings.podSubnetTagKey,
    intervalMs: deps.settings.vpcRefreshIntervalMs,
    clock: deps.clock,
    log: deps.log.child({ controller: 'vpc-network' }),
  });
  deps.manager.add({ name: 'vpc-network', needLeaderElection: true, start: (signal) => directory.run(signal) });
  return directory;
}
