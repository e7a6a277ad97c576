/**
 * {@link Ec2Api} that waits for a token of the call's EC2 bucket (rate-limiter.ts) before passing the call
 * to the wrapped Ec2Api. Controllers cannot tell it from the SDK adapter; they only choose a priority.
 * Retrying is not done here: the SDK retries within a call, and reconcilers retry after it with back-off.
 */
import type {
  CallOptions,
  CreateNetworkInterfaceInput,
  Ec2Api,
  Instance,
  InstanceTypeNetworkInfo,
  NetworkInterface,
  NetworkInterfaceFilter,
  SecurityGroup,
  Subnet,
  Tags,
  TrunkAssociation,
  Vpc,
} from './ec2-api.ts';
import type { BucketName, Ec2RateLimiter } from './rate-limiter.ts';

export class ThrottledEc2Api implements Ec2Api {
  private readonly inner: Ec2Api;
  /** The buckets (exposed for the benchmark, tests and the debug endpoint). */
  readonly limiter: Ec2RateLimiter;

  constructor(inner: Ec2Api, limiter: Ec2RateLimiter) {
    this.inner = inner;
    this.limiter = limiter;
  }

  /** Releases the wrapped adapter's resources when it has any (SDK sockets). */
  destroy(): void {
    const inner = this.inner as Ec2Api & { destroy?: () => void };
    inner.destroy?.();
  }

  describeInstance(instanceId: string, options?: CallOptions): Promise<Instance> {
    return this.gated('DescribeInstances', options, () => this.inner.describeInstance(instanceId, options));
  }

  describeInstanceTypes(instanceTypes: string[], options?: CallOptions): Promise<InstanceTypeNetworkInfo[]> {
    return this.gated('DescribeInstanceTypes', options, () => this.inner.describeInstanceTypes(instanceTypes, options));
  }

  describeSubnets(
    filter: { ids?: string[]; vpcId?: string; tags?: Record<string, string[]> },
    options?: CallOptions,
  ): Promise<Subnet[]> {
    return this.gated('DescribeSubnets', options, () => this.inner.describeSubnets(filter, options));
  }

  describeVpc(vpcId: string, options?: CallOptions): Promise<Vpc> {
    return this.gated('DescribeVpcs', options, () => this.inner.describeVpc(vpcId, options));
  }

  describeSecurityGroups(groupIds: string[], vpcId?: string, options?: CallOptions): Promise<SecurityGroup[]> {
    return this.gated('DescribeSecurityGroups', options, () =>
      this.inner.describeSecurityGroups(groupIds, vpcId, options),
    );
  }

  describeSecurityGroupsByTag(
    filter: { vpcId: string; key: string; values?: string[] },
    options?: CallOptions,
  ): Promise<SecurityGroup[]> {
    return this.gated('DescribeSecurityGroups', options, () => this.inner.describeSecurityGroupsByTag(filter, options));
  }

  describeVpcSecurityGroups(vpcId: string, options?: CallOptions): Promise<SecurityGroup[]> {
    return this.gated('DescribeSecurityGroups', options, () => this.inner.describeVpcSecurityGroups(vpcId, options));
  }

  describeNetworkInterfaces(filter: NetworkInterfaceFilter, options?: CallOptions): Promise<NetworkInterface[]> {
    return this.gated('DescribeNetworkInterfaces', options, () =>
      this.inner.describeNetworkInterfaces(filter, options),
    );
  }

  createNetworkInterface(input: CreateNetworkInterfaceInput, options?: CallOptions): Promise<NetworkInterface> {
    return this.gated('CreateNetworkInterface', options, () => this.inner.createNetworkInterface(input, options));
  }

  attachNetworkInterface(
    input: { networkInterfaceId: string; instanceId: string; deviceIndex: number; networkCardIndex?: number },
    options?: CallOptions,
  ): Promise<string> {
    return this.gated('AttachNetworkInterface', options, () => this.inner.attachNetworkInterface(input, options));
  }

  detachNetworkInterface(input: { attachmentId: string; force?: boolean }, options?: CallOptions): Promise<void> {
    return this.gated('DetachNetworkInterface', options, () => this.inner.detachNetworkInterface(input, options));
  }

  setDeleteOnTermination(
    input: { networkInterfaceId: string; attachmentId: string; deleteOnTermination: boolean },
    options?: CallOptions,
  ): Promise<void> {
    return this.gated('ModifyNetworkInterfaceAttribute', options, () =>
      this.inner.setDeleteOnTermination(input, options),
    );
  }

  setSecurityGroups(
    input: { networkInterfaceId: string; securityGroupIds: string[] },
    options?: CallOptions,
  ): Promise<void> {
    return this.gated('ModifyNetworkInterfaceAttribute', options, () => this.inner.setSecurityGroups(input, options));
  }

  deleteNetworkInterface(networkInterfaceId: string, options?: CallOptions): Promise<void> {
    return this.gated('DeleteNetworkInterface', options, () =>
      this.inner.deleteNetworkInterface(networkInterfaceId, options),
    );
  }

  associateTrunkInterface(
    input: { branchInterfaceId: string; trunkInterfaceId: string; vlanId: number; clientToken: string },
    options?: CallOptions,
  ): Promise<TrunkAssociation> {
    return this.gated('AssociateTrunkInterface', options, () => this.inner.associateTrunkInterface(input, options));
  }

  disassociateTrunkInterface(
    input: { associationId: string; clientToken: string },
    options?: CallOptions,
  ): Promise<void> {
    return this.gated('DisassociateTrunkInterface', options, () =>
      this.inner.disassociateTrunkInterface(input, options),
    );
  }

  describeTrunkInterfaceAssociations(
    filter: { associationIds?: string[]; trunkInterfaceId?: string },
    options?: CallOptions,
  ): Promise<TrunkAssociation[]> {
    return this.gated('DescribeTrunkInterfaceAssociations', options, () =>
      this.inner.describeTrunkInterfaceAssociations(filter, options),
    );
  }

  createTags(resourceIds: string[], tags: Tags, options?: CallOptions): Promise<void> {
    return this.gated('CreateTags', options, () => this.inner.createTags(resourceIds, tags, options));
  }

  deleteTags(resourceIds: string[], tagKeys: string[], options?: CallOptions): Promise<void> {
    return this.gated('DeleteTags', options, () => this.inner.deleteTags(resourceIds, tagKeys, options));
  }

  createNetworkInterfacePermission(
    input: { networkInterfaceId: string; awsAccountId: string },
    options?: CallOptions,
  ): Promise<void> {
    return this.gated('CreateNetworkInterfacePermission', options, () =>
      this.inner.createNetworkInterfacePermission(input, options),
    );
  }

  private gated<T>(bucket: BucketName, options: CallOptions | undefined, run: () => Promise<T>): Promise<T> {
    return this.limiter.run(bucket, options?.priority ?? 'normal', options?.signal, run);
  }
}
