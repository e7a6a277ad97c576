/**
 * The optional EC2 read-back (`--ec2`): the operator's EC2 port (aws/), with the AWS SDK's default
 * credentials and region chain, AWS_ENDPOINT_URL_EC2 honoured (the emulator, a VPC endpoint). Describes
 * only; never changes anything.
 */
import { createEc2Api, isNotFound, type Ec2Api, type SecurityGroup } from '../operator/aws/index.ts';
import type { TrunkInterface } from '../operator/api/types.ts';
import type { Ec2Eni } from './explain/pod.ts';
import { CommandError, UsageError } from './errors.ts';

export function connectEc2(region: string | undefined): Ec2Api {
  return createEc2Api({ ...(region ? { region } : {}), maxAttempts: 3 });
}

/** Runs an EC2 read, turning the SDK's missing-region and credential errors into what to set. */
async function described<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/region is missing/i.test(message)) {
      throw new UsageError(`${what}: no AWS region; pass --region or set AWS_REGION`, { cause: error });
    }
    throw new CommandError(`${what} failed: ${message}`, { cause: error });
  }
}

/** The ENI's groups as EC2 shows them; undefined groups when EC2 does not know the ENI. */
export async function readEni(ec2: Ec2Api, eniId: string): Promise<Ec2Eni> {
  return described(`describing ${eniId} in EC2`, async () => {
    try {
      const [eni] = await ec2.describeNetworkInterfaces({ ids: [eniId] });
      return { eniId, securityGroupIds: eni?.securityGroupIds };
    } catch (error) {
      if (isNotFound(error)) return { eniId, securityGroupIds: undefined };
      throw error;
    }
  });
}

/** The cluster VPC: `--vpc-id`, else the VPC of a trunk's subnet. */
export async function clusterVpcId(
  ec2: Ec2Api,
  vpcIdFlag: string | undefined,
  trunks: readonly TrunkInterface[],
): Promise<string> {
  if (vpcIdFlag) return vpcIdFlag;
  const subnetId = trunks.find((trunk) => trunk.status?.subnetId)?.status?.subnetId;
  if (!subnetId) {
    throw new UsageError('no TrunkInterface records a subnet to find the cluster VPC from; pass --vpc-id');
  }
  const [subnet] = await described(`describing subnet ${subnetId}`, () => ec2.describeSubnets({ ids: [subnetId] }));
  if (!subnet) throw new CommandError(`EC2 does not know subnet ${subnetId}; pass --vpc-id`);
  return subnet.vpcId;
}

export function vpcSecurityGroups(ec2: Ec2Api, vpcId: string): Promise<SecurityGroup[]> {
  return described(`describing the security groups of ${vpcId}`, () => ec2.describeVpcSecurityGroups(vpcId));
}
