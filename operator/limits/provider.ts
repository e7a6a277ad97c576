/**
 * {@link LimitsProvider}: the generated table first; for a type missing from it (a family newer than the
 * table), DescribeInstanceTypes for ENIs and IPs plus the branch capacity from the override ConfigMap.
 * Without an override the type is unsupported (`undefined`): EC2 publishes no branch limit, and a guessed
 * one would advertise capacity the trunk cannot give.
 */
import type { CallOptions, Ec2Api, InstanceTypeNetworkInfo } from '../aws/ec2-api.ts';
import { generatedLimits, toInstanceTypeLimits, type GeneratedLimitsFile } from './table.ts';
import type { InstanceTypeLimits, LimitsProvider } from './types.ts';

export interface LimitsProviderOptions {
  /** Only describeInstanceTypes is used. */
  ec2: Pick<Ec2Api, 'describeInstanceTypes'>;
  /** Branch ENI capacity by instance type from the override ConfigMap; read on every lookup (it is live). */
  overrides: () => Record<string, number>;
  /** The table to use; the shipped instance-types.json by default. */
  table?: GeneratedLimitsFile;
}

/** Pure: limits for a type the table lacks, from DescribeInstanceTypes and an override; undefined without one. */
export function limitsFromDescribe(
  info: InstanceTypeNetworkInfo,
  branchOverride: number | undefined,
): InstanceTypeLimits | undefined {
  if (branchOverride === undefined || !Number.isInteger(branchOverride) || branchOverride < 0) return undefined;
  return {
    instanceType: info.instanceType,
    maxEnis: info.maximumNetworkInterfaces,
    ipv4PerEni: info.ipv4AddressesPerInterface,
    isTrunkingCompatible: branchOverride > 0,
    branchEnis: branchOverride,
    defaultNetworkCardIndex: info.defaultNetworkCardIndex,
    networkCards:
      info.networkCards.length > 0
        ? info.networkCards.map((c) => ({ ...c }))
        : [{ networkCardIndex: info.defaultNetworkCardIndex, maximumNetworkInterfaces: info.maximumNetworkInterfaces }],
    source: 'describe-and-override',
  };
}

export function createLimitsProvider(options: LimitsProviderOptions): LimitsProvider {
  const table = options.table ?? generatedLimits();
  /** DescribeInstanceTypes answers never change for a type; cache them (and share in-flight lookups). */
  const described = new Map<string, Promise<InstanceTypeNetworkInfo | undefined>>();

  const describe = (instanceType: string, callOptions?: CallOptions): Promise<InstanceTypeNetworkInfo | undefined> => {
    let pending = described.get(instanceType);
    if (pending === undefined) {
      pending = options.ec2
        .describeInstanceTypes([instanceType], { priority: 'normal', ...callOptions })
        .then((infos) => infos.find((i) => i.instanceType === instanceType));
      described.set(instanceType, pending);
      // A failed or empty lookup is not cached: the next reconcile asks again.
      pending.then(
        (info) => {
          if (info === undefined) described.delete(instanceType);
        },
        () => described.delete(instanceType),
      );
    }
    return pending;
  };

  return {
    async get(instanceType: string, callOptions?: CallOptions): Promise<InstanceTypeLimits | undefined> {
      const row = Object.hasOwn(table.instanceTypes, instanceType) ? table.instanceTypes[instanceType] : undefined;
      if (row !== undefined) return toInstanceTypeLimits(instanceType, row);
      const override = options.overrides()[instanceType];
      if (override === undefined) return undefined;
      const info = await describe(instanceType, callOptions);
      return info === undefined ? undefined : limitsFromDescribe(info, override);
    },
  };
}
