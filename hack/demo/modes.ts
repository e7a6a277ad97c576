/**
 * The demo's pod networks (`make demo MODE=…`, docs/networks.md): what each adds to the workshop VPC before
 * the nodes come, the operator flags it runs with, the cluster objects the VPC CNI would bring (ENIConfigs),
 * and what every pod's branch ENI must look like for `--once` to pass.
 */
import { Kinds } from '../../operator/api/kinds.ts';
import type { ENIConfig } from '../../operator/api/types.ts';
import { KubeConflictError, type KubeClient } from '../../operator/framework/index.ts';
import type { EmulatorControl } from '../ec2-emulator/index.ts';

export const DEMO_MODES = ['ipv4', 'ipv6', 'dual-stack', 'custom-networking'] as const;
export type DemoMode = (typeof DEMO_MODES)[number];

/** What the summary knows of one pod's ENI, for the mode's check. */
export interface ModeFacts {
  privateIp: string | undefined;
  ipv6Addr: string | undefined;
  subnetCidr: string | undefined;
  subnetV6Cidr: string | undefined;
  /** The subnet EC2 placed the ENI in. */
  eniSubnetId: string | undefined;
  /** The pod's node's zone. */
  zone: string | undefined;
}

export interface DemoNetwork {
  title: string;
  /** Operator flags. */
  flags: string[];
  /** Shapes the VPC before any node or ENI exists (IPv6 blocks, pod subnets). */
  prepareVpc(control: EmulatorControl, vpcId: string): void;
  /** Cluster objects the VPC CNI would bring (ENIConfigs); runs before the operator starts. */
  prepareCluster(client: KubeClient): Promise<void>;
  /** A problem with the pod's ENI in this mode, or undefined. */
  check(facts: ModeFacts): string | undefined;
}

const VPC_V6 = '2600:1f14:42::/56';
/** One /64 per workshop subnet, by its zone letter (a → …:1::/64). */
const subnetV6 = (zone: string): string => `2600:1f14:42:${zone.charCodeAt(zone.length - 1) - 96}::/64`;
const POD_CIDR = '100.64.0.0/16';
/** Custom networking: a pod subnet per zone in the secondary CIDR, as the EKS docs lay it out. */
const podSubnets: Record<string, { cidrBlock: string; id?: string }> = {
  'us-west-2a': { cidrBlock: '100.64.0.0/19' },
  'us-west-2b': { cidrBlock: '100.64.32.0/19' },
  'us-west-2c': { cidrBlock: '100.64.64.0/19' },
};

function addIpv6Blocks(control: EmulatorControl, vpcId: string): void {
  control.addVpcIpv6Cidr(vpcId, VPC_V6);
  for (const subnet of control.dump().subnets.filter((s) => s.vpcId === vpcId)) {
    control.addSubnetIpv6Cidr(subnet.id, subnetV6(subnet.availabilityZone));
  }
}

function inV6Block(address: string | undefined, block: string | undefined): boolean {
  const prefix = block?.replace(/::\/64$/, ':');
  return address !== undefined && address !== '' && prefix !== undefined && address.startsWith(prefix);
}

export function demoNetwork(mode: DemoMode): DemoNetwork {
  switch (mode) {
    case 'ipv4':
      return {
        title: 'IPv4, pods in their node’s subnet (as on EKS)',
        flags: ['--ip-family=ipv4', '--custom-networking=disabled'],
        prepareVpc: () => undefined,
        prepareCluster: async () => undefined,
        check: (facts) => (facts.privateIp ? undefined : 'no IPv4 address in the annotation'),
      };
    case 'ipv6':
      return {
        title: 'IPv6 cluster: every branch ENI gets an IPv6 address of its subnet’s /64',
        flags: ['--ip-family=ipv6'],
        prepareVpc: addIpv6Blocks,
        prepareCluster: async () => undefined,
        check: (facts) =>
          inV6Block(facts.ipv6Addr, facts.subnetV6Cidr)
            ? undefined
            : `ipv6Addr ${facts.ipv6Addr || '(none)'} is not in subnetV6Cidr ${facts.subnetV6Cidr || '(none)'}`,
      };
    case 'dual-stack':
      return {
        title: 'IPv4 cluster with dual-stack branch ENIs: an IPv4 and an IPv6 address on each',
        flags: ['--ip-family=ipv4', '--dual-stack-branch-enis'],
        prepareVpc: addIpv6Blocks,
        prepareCluster: async () => undefined,
        check: (facts) =>
          !facts.privateIp
            ? 'no IPv4 address in the annotation'
            : inV6Block(facts.ipv6Addr, facts.subnetV6Cidr)
              ? undefined
              : `ipv6Addr ${facts.ipv6Addr || '(none)'} is not in subnetV6Cidr ${facts.subnetV6Cidr || '(none)'}`,
      };
    case 'custom-networking':
      return {
        title: 'custom networking: pods in 100.64.0.0/16, one ENIConfig per zone (named by the zone label)',
        flags: ['--custom-networking=enabled', '--eni-config-label-key=topology.kubernetes.io/zone'],
        prepareVpc(control, vpcId) {
          control.addVpcCidr(vpcId, POD_CIDR);
          for (const [zone, subnet] of Object.entries(podSubnets)) {
            subnet.id = control.addSubnet({
              vpcId,
              cidrBlock: subnet.cidrBlock,
              availabilityZone: zone,
              tags: { Name: `eks-workshop-pods-${zone}` },
            }).id;
          }
        },
        async prepareCluster(client) {
          for (const [zone, subnet] of Object.entries(podSubnets)) {
            const eniConfig: ENIConfig = {
              apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
              kind: 'ENIConfig',
              metadata: { name: zone },
              // No groups: the trunk keeps the node's primary ENI groups; pods get their policy's.
              spec: { subnet: subnet.id ?? '' },
            };
            await client.create(Kinds.ENIConfig, eniConfig).catch((error: unknown) => {
              if (!(error instanceof KubeConflictError)) throw error;
            });
          }
        },
        check(facts) {
          const expected = facts.zone === undefined ? undefined : podSubnets[facts.zone];
          if (expected === undefined) return `no ENIConfig for zone ${facts.zone ?? '(unknown)'}`;
          if (facts.eniSubnetId !== expected.id || facts.subnetCidr !== expected.cidrBlock) {
            return `ENI in ${facts.eniSubnetId ?? '?'} (${facts.subnetCidr ?? '?'}), not ENIConfig ${facts.zone}'s ${expected.id} (${expected.cidrBlock})`;
          }
          return undefined;
        },
      };
    default: {
      const unknown: never = mode;
      throw new Error(`unknown demo mode ${String(unknown)}`);
    }
  }
}
