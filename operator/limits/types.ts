import type { CallOptions } from '../aws/ec2-api.ts';

/** What the operator needs to know about an EC2 instance type. */
export interface InstanceTypeLimits {
  instanceType: string;
  /** Maximum ENIs on the instance (default network card). */
  maxEnis: number;
  ipv4PerEni: number;
  isTrunkingCompatible: boolean;
  /** Branch ENI limit: the `vpc.amazonaws.com/pod-eni` capacity. 0 when not trunking-compatible. */
  branchEnis: number;
  defaultNetworkCardIndex: number;
  networkCards: { networkCardIndex: number; maximumNetworkInterfaces: number }[];
  /** Where the figures came from: the generated table, or DescribeInstanceTypes plus the override ConfigMap. */
  source: 'table' | 'describe-and-override';
}

export interface LimitsProvider {
  /**
   * Limits for a type: from the generated table; for a type missing from it, DescribeInstanceTypes for
   * ENIs and IPs plus the branch capacity from the override ConfigMap. `undefined` when neither knows the
   * type (the node is then reported Unsupported, never guessed).
   */
  get(instanceType: string, options?: CallOptions): Promise<InstanceTypeLimits | undefined>;
}
