/**
 * What every controller is built from. The composition root (operator/operator.ts) builds each of these
 * once and passes them down; controllers never construct clients or read process.env.
 */
import type { Ec2Api } from '../aws/ec2-api.ts';
import type { Clock, EventRecorder, KubeClient, Manager } from '../framework/types.ts';
import type { LimitsProvider } from '../limits/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Options } from '../options.ts';
import type { SecurityGroupAnnotationRule } from './pod/annotation-groups.ts';
import type { PodNetwork } from './podnetwork/settings.ts';

export interface ClusterSettings {
  /** Cluster name: in ENI tags and sweep filters. */
  clusterName: string;
  vpcId: string;
  /** Account to grant INSTANCE-ATTACH on trunks and branches (two-identity mode); undefined with one identity. */
  trunkAssociationAccountId?: string;
  /** IP family, dual-stack and custom networking, decided at start (podnetwork/resolvePodNetwork). */
  podNetwork: PodNetwork;
}

/** The live branch ENI cooldown (ConfigMap kube-system/amazon-vpc-cni key branch-eni-cooldown, min 30 s). */
export interface CooldownSource {
  currentMs(): number;
}

/**
 * Tuning from the options (operator/options.ts), every field required: the option definitions
 * (operator/option-definitions.ts) are the one place that holds the defaults. Build it with
 * {@link controllerSettings}.
 */
export interface ControllerSettings {
  /** Concurrent reconciles of the pod controller (--pod-workers). */
  podWorkers: number;
  /** Concurrent reconciles of the BranchInterface controller (--branch-workers). */
  branchWorkers: number;
  /** Concurrent reconciles of the Node and TrunkInterface controllers (--node-workers). */
  nodeWorkers: number;
  /** Delete pods that match a policy but lack the pod-eni request (--strict-pod-eni-resource). */
  strictPodEniResource: boolean;
  /** Tag key of subnets for pods (--pod-subnet-tag-key); '' keeps branch ENIs in the node's subnet. */
  podSubnetTagKey: string;
  /** How often the VPC's CIDR blocks and pod subnets are re-read (--vpc-refresh-interval-seconds). */
  vpcRefreshIntervalMs: number;
  /** Time between leak sweeps (--leak-sweep-interval-seconds). */
  leakSweepIntervalMs: number;
  /** Security groups by annotation (--enable-security-group-annotations, its allow-list). */
  securityGroupAnnotations: SecurityGroupAnnotationRule;
}

/** The controllers' share of the options, in the units the controllers count in. */
export function controllerSettings(options: Readonly<Options>): ControllerSettings {
  return {
    podWorkers: options.podWorkers,
    branchWorkers: options.branchWorkers,
    nodeWorkers: options.nodeWorkers,
    strictPodEniResource: options.strictPodEniResource,
    podSubnetTagKey: options.podSubnetTagKey,
    vpcRefreshIntervalMs: options.vpcRefreshIntervalSeconds * 1000,
    leakSweepIntervalMs: options.leakSweepIntervalSeconds * 1000,
    securityGroupAnnotations: {
      isEnabled: options.enableSecurityGroupAnnotations,
      allowList: options.securityGroupAnnotationAllowList,
    },
  };
}

export interface ControllerDeps {
  manager: Manager;
  client: KubeClient;
  ec2: Ec2Api;
  limits: LimitsProvider;
  recorder: EventRecorder;
  clock: Clock;
  log: Logger;
  cluster: ClusterSettings;
  cooldown: CooldownSource;
  /** Worker counts and switches from the options. */
  settings: ControllerSettings;
}
