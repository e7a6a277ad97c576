/**
 * The only place that knows EC2 error codes. Every error leaving the EC2 layer is one of the classes below,
 * built by {@link classifyEc2Error} from whatever the SDK threw, so controllers branch with `instanceof`
 * (or the predicates) and never compare code strings.
 *
 * How the SDK surfaces an EC2 error: `name` and `Code` equal the EC2 code (EC2 models no per-code classes),
 * with `$metadata.httpStatusCode` and `$metadata.requestId`. Which class each code falls in, and what each
 * class does to a trunk or branch, is written up in docs/failure-model.md.
 */
import { OperatorError } from '../errors.ts';

/** The error classes, as a bounded label set for metrics. */
export type Ec2ErrorClass =
  'not_found' | 'throttled' | 'limit' | 'invalid_input' | 'unauthorized' | 'retryable' | 'other';

export interface Ec2ErrorFields {
  /** EC2 error code (`InvalidNetworkInterfaceID.NotFound`), or a Node/SDK error name for network failures. */
  code: string;
  /** EC2 action that failed (`CreateNetworkInterface`). */
  action: string;
  /** HTTP status of the last attempt; undefined when no response arrived. */
  statusCode?: number;
  /** `x-amzn-RequestId` of the last attempt, for AWS support cases. */
  requestId?: string;
  cause?: unknown;
}

/** Base of every EC2 failure. `errorClass` is the bounded metric label of the subclass. */
export class Ec2Error extends OperatorError {
  readonly code: string;
  readonly action: string;
  readonly statusCode: number | undefined;
  readonly requestId: string | undefined;
  readonly errorClass: Ec2ErrorClass = 'other';

  constructor(message: string, fields: Ec2ErrorFields) {
    super(message, { cause: fields.cause });
    this.code = fields.code;
    this.action = fields.action;
    this.statusCode = fields.statusCode;
    this.requestId = fields.requestId;
  }
}

/** The resource does not exist (or is not yet visible: EC2 is eventually consistent). */
export class Ec2NotFoundError extends Ec2Error {
  override readonly errorClass = 'not_found';
}

/** `RequestLimitExceeded` and friends, after the SDK's own retries gave up. Retry later with back-off. */
export class Ec2ThrottledError extends Ec2Error {
  override readonly errorClass = 'throttled';
}

/** A limit or quota: ENI slots, branch limit, SGs per ENI, subnet out of addresses, regional ENI quota. */
export class Ec2LimitError extends Ec2Error {
  override readonly errorClass = 'limit';
  /** True when the subnet has no free addresses (EC2 has three encodings for it). */
  readonly isSubnetExhausted: boolean;
  constructor(message: string, fields: Ec2ErrorFields & { isSubnetExhausted?: boolean }) {
    super(message, fields);
    this.isSubnetExhausted = fields.isSubnetExhausted ?? false;
  }
}

/** The request itself is wrong (malformed id, bad value, ENI in use, idempotency token reuse). */
export class Ec2InvalidInputError extends Ec2Error {
  override readonly errorClass = 'invalid_input';
}

/** IAM denial, bad credentials, or ENI trunking not enabled for the account. Retrying does not help. */
export class Ec2UnauthorizedError extends Ec2Error {
  override readonly errorClass = 'unauthorized';
}

/** Server faults and network failures that survived the SDK's retries. Safe to retry (mutations carry ClientTokens). */
export class Ec2RetryableError extends Ec2Error {
  override readonly errorClass = 'retryable';
}

export function isNotFound(err: unknown): err is Ec2NotFoundError {
  return err instanceof Ec2NotFoundError;
}

/** Returns undefined for Ec2NotFoundError and rethrows anything else: for deletes where "gone" means done. */
export function ignoreNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}

/**
 * Whether EC2 refused to delete an ENI because it is in use: attached, or (where EC2 enforces it) still
 * associated with a trunk as a branch. AWS answers InvalidParameterValue "Network interface '…' is currently
 * in use."; InvalidNetworkInterface.InUse is the documented code for the same state.
 */
export function isInUse(err: unknown): boolean {
  if (!(err instanceof Ec2InvalidInputError)) return false;
  if (err.code === 'InvalidNetworkInterface.InUse') return true;
  return err.code === 'InvalidParameterValue' && /currently in use/i.test(err.message);
}

/**
 * The per-interface security group quota, as AWS documents it: 5 by default, at most 16 (Service Quotas,
 * Amazon VPC, "Security groups per network interface", code L-2AFB9258). EC2 does not tell us the account's
 * value, so messages give the documented range.
 */
export const SECURITY_GROUPS_PER_INTERFACE = { default: 5, max: 16, quotaCode: 'L-2AFB9258' } as const;

/**
 * SecurityGroupsPerInterfaceLimitExceeded: the request names more groups than the account's per-ENI quota.
 * Retrying the same request cannot succeed; the groups (the policies) have to change, or the quota.
 */
export function isSecurityGroupQuotaExceeded(err: unknown): err is Ec2LimitError {
  return err instanceof Ec2LimitError && err.code === 'SecurityGroupsPerInterfaceLimitExceeded';
}

/**
 * Whether only a change outside the cluster can make the call succeed, and nothing in the cluster would
 * announce it: an IAM denial or bad credentials (fixed in IAM), trunking not enabled for the account (fixed by
 * AWS), or an account or instance limit (ENIs per Region, ENI slots, addresses per ENI: raised through
 * Service Quotas or freed elsewhere). Not the subnet running out of addresses (the branch moves to another
 * subnet) nor the per-ENI group quota (the request itself must change).
 */
export function needsOutsideFix(err: unknown): err is Ec2UnauthorizedError | Ec2LimitError {
  if (err instanceof Ec2UnauthorizedError) return true;
  return err instanceof Ec2LimitError && !err.isSubnetExhausted && !isSecurityGroupQuotaExceeded(err);
}

/** Whether waiting and trying again can succeed: throttling, server faults, network failures. */
export function isRetryable(err: unknown): boolean {
  return err instanceof Ec2ThrottledError || err instanceof Ec2RetryableError;
}

// ---- the code tables ----

/** Codes the SDK and we treat as throttling (the EC2 subset of @smithy's throttling list). */
const THROTTLING_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'EC2ThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'BandwidthLimitExceeded',
]);

const SERVER_FAULT_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'ServerInternal',
  'Unavailable',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Node socket errors (err.code) that the SDK also treats as transient. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const LIMIT_CODES = new Set([
  'AttachmentLimitExceeded',
  'NetworkInterfaceLimitExceeded',
  'SecurityGroupsPerInterfaceLimitExceeded',
  'PrivateIpAddressLimitExceeded',
  'InsufficientFreeAddressesInSubnet',
  'InsufficientCidrBlocks',
  'TagLimitExceeded',
  'FilterLimitExceeded',
  'ResourceLimitExceeded',
]);

const SUBNET_EXHAUSTED_CODES = new Set(['InsufficientFreeAddressesInSubnet', 'InsufficientCidrBlocks']);

const UNAUTHORIZED_CODES = new Set([
  'UnauthorizedOperation',
  'AuthFailure',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'AccessDenied',
  'AccessDeniedException',
  'OptInRequired',
  'Blocked',
  'RequestExpired',
  'ExpiredToken',
]);

/** `InvalidInstanceType` is DescribeInstanceTypes' "does not exist"; the rest follow `<Thing>.NotFound`. */
const EXTRA_NOT_FOUND_CODES = new Set(['InvalidInstanceType']);

/** Actions that only work on allow-listed accounts (ENI trunking is not a public EC2 feature). */
const TRUNK_ACTIONS = new Set([
  'AssociateTrunkInterface',
  'DisassociateTrunkInterface',
  'DescribeTrunkInterfaceAssociations',
]);

/** Codes we name in metrics; anything else is counted as 'other' so the label set stays bounded. */
const KNOWN_CODES = new Set([
  ...THROTTLING_CODES,
  ...SERVER_FAULT_CODES,
  ...LIMIT_CODES,
  ...UNAUTHORIZED_CODES,
  ...EXTRA_NOT_FOUND_CODES,
  'InvalidNetworkInterfaceID.NotFound',
  'InvalidNetworkInterfaceId.Malformed',
  'InvalidNetworkInterface.InUse',
  'InvalidAttachmentID.NotFound',
  'InvalidAssociationID.NotFound',
  'InvalidInstanceID.NotFound',
  'InvalidInstanceID.Malformed',
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
  'InvalidSubnetID.NotFound',
  'InvalidVpcID.NotFound',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidParameter',
  'IdempotentParameterMismatch',
  'IncorrectInstanceState',
  'IncorrectState',
  'OperationNotPermitted',
  'MissingParameter',
  'UnknownParameter',
  'DryRunOperation',
  'network',
]);

/** Bounded metric label for a code. */
export function codeLabel(code: string): string {
  return KNOWN_CODES.has(code) ? code : 'other';
}

export const TRUNKING_NOT_ENABLED_HINT =
  'ENI trunking needs an AWS account allow-listed for the trunk APIs plus the IAM permissions in ' +
  'config/iam/ec2-policy.json (trunk-association calls may use a separate role, --trunk-association-role-arn)';

/** What we can read off an SDK error without trusting its shape. */
interface SdkErrorShape {
  name: string;
  code: string;
  message: string;
  statusCode?: number;
  requestId?: string;
  fault?: string;
}

function readSdkError(err: unknown): SdkErrorShape {
  if (typeof err !== 'object' || err === null) {
    return { name: 'Error', code: 'Unknown', message: String(err) };
  }
  const record = err as Record<string, unknown>;
  const metadata = (
    typeof record.$metadata === 'object' && record.$metadata !== null ? record.$metadata : {}
  ) as Record<string, unknown>;
  const name = typeof record.name === 'string' ? record.name : 'Error';
  const explicitCode =
    typeof record.Code === 'string' ? record.Code : typeof record.code === 'string' ? record.code : undefined;
  return {
    name,
    code: explicitCode ?? name,
    message: typeof record.message === 'string' ? record.message : String(err),
    statusCode: typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined,
    requestId: typeof metadata.requestId === 'string' ? metadata.requestId : undefined,
    fault: typeof record.$fault === 'string' ? record.$fault : undefined,
  };
}

/**
 * Maps whatever the SDK threw for `action` to an {@link Ec2Error} subclass. Already-classified errors pass
 * through unchanged; an abort passes through as is (it is the caller's own decision, not an EC2 failure).
 * `isTrunkCall` marks a CreateNetworkInterface with InterfaceType=trunk, whose UnauthorizedOperation most
 * likely means the account is not allow-listed for trunking.
 */
export function classifyEc2Error(err: unknown, action: string, context: { isTrunkCall?: boolean } = {}): Error {
  if (err instanceof Ec2Error) return err;
  // DOMException is not always `instanceof Error` (other realms), so test the name.
  if (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError') return err as Error;
  const sdk = readSdkError(err);
  const code = NETWORK_ERROR_CODES.has(sdk.code) ? sdk.code : sdk.name !== 'Error' ? sdk.name : sdk.code;
  const fields: Ec2ErrorFields = {
    code,
    action,
    statusCode: sdk.statusCode,
    requestId: sdk.requestId,
    cause: err,
  };
  const detail = `EC2 ${action} failed: ${code}: ${sdk.message}`;

  if (THROTTLING_CODES.has(code) || sdk.statusCode === 429) {
    return new Ec2ThrottledError(`${detail} (throttled by EC2; the operator slows down and retries)`, fields);
  }
  if (isTrunkingNotEnabled(code, sdk.message, context.isTrunkCall === true || TRUNK_ACTIONS.has(action))) {
    return new Ec2UnauthorizedError(`${detail}. ${TRUNKING_NOT_ENABLED_HINT}`, fields);
  }
  if (UNAUTHORIZED_CODES.has(code)) {
    return new Ec2UnauthorizedError(
      `${detail}. Check the operator's AWS credentials and the IAM permissions in config/iam/ec2-policy.json`,
      fields,
    );
  }
  if (code.endsWith('.NotFound') || EXTRA_NOT_FOUND_CODES.has(code)) {
    return new Ec2NotFoundError(detail, fields);
  }
  if (SUBNET_EXHAUSTED_CODES.has(code) || isSubnetFullMessage(code, sdk.message)) {
    return new Ec2LimitError(`${detail} (the subnet has no free IPv4 addresses; free some or use a larger subnet)`, {
      ...fields,
      isSubnetExhausted: true,
    });
  }
  if (LIMIT_CODES.has(code)) {
    return new Ec2LimitError(detail, fields);
  }
  if (SERVER_FAULT_CODES.has(code) || NETWORK_ERROR_CODES.has(code) || (sdk.statusCode ?? 0) >= 500) {
    return new Ec2RetryableError(detail, fields);
  }
  if (sdk.statusCode === undefined && sdk.fault === undefined) {
    // No HTTP response at all and no EC2 code: a network or parse failure the SDK gave up on.
    return new Ec2RetryableError(detail, { ...fields, code: NETWORK_ERROR_CODES.has(code) ? code : 'network' });
  }
  return new Ec2InvalidInputError(detail, fields);
}

/** "Invalid value 'trunk' for InterfaceType" or UnauthorizedOperation on a trunk call: the account is not allow-listed. */
function isTrunkingNotEnabled(code: string, message: string, isTrunkCall: boolean): boolean {
  if (/invalid value 'trunk'/i.test(message)) return true;
  return code === 'UnauthorizedOperation' && isTrunkCall;
}

/** AWS also reports a full subnet as InvalidParameterValue "There aren't sufficient free Ipv4 addresses or prefixes". */
function isSubnetFullMessage(code: string, message: string): boolean {
  return code === 'InvalidParameterValue' && /sufficient free ipv4 addresses/i.test(message);
}

/** Whether an error code means EC2 throttled the request (for per-request accounting in the SDK adapter). */
export function isThrottlingCode(code: string): boolean {
  return THROTTLING_CODES.has(code);
}
