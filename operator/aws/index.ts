/** What other folders may use from operator/aws. */
export type * from './ec2-api.ts';
export {
  Ec2Error,
  Ec2NotFoundError,
  Ec2ThrottledError,
  Ec2LimitError,
  Ec2InvalidInputError,
  Ec2UnauthorizedError,
  Ec2RetryableError,
  isNotFound,
  ignoreNotFound,
  isInUse,
  isRetryable,
  isSecurityGroupQuotaExceeded,
  needsOutsideFix,
  SECURITY_GROUPS_PER_INTERFACE,
  classifyEc2Error,
  TRUNKING_NOT_ENABLED_HINT,
  type Ec2ErrorClass,
} from './ec2-errors.ts';
export {
  trunkEniTags,
  branchEniTags,
  clusterOwnedTagKey,
  ownedEnisFilter,
  trunkEnisFilter,
  branchEnisOfTrunkFilter,
  branchEnisOfPodFilter,
  branchEnisOfInstanceFilter,
  clientToken,
  MAX_CLIENT_TOKEN_LENGTH,
  type TrunkEniTagInput,
  type BranchEniTagInput,
} from './tags.ts';
export { createEc2Api, type CreateEc2ApiOptions } from './factory.ts';
export { SdkEc2Api, type SdkEc2ApiOptions } from './sdk-ec2-api.ts';
export { ThrottledEc2Api } from './throttled-ec2-api.ts';
export {
  Ec2RateLimiter,
  DEFAULT_BUCKETS,
  BUCKET_NAMES,
  systemScheduler,
  type BucketName,
  type RateLimiterOptions,
  type Scheduler,
  type RequestObserver,
} from './rate-limiter.ts';
export { assumeRoleCredentials, type AssumeRoleOptions } from './credentials.ts';
