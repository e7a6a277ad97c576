import { describe, expect, test } from '@jest/globals';
import {
  classifyEc2Error,
  codeLabel,
  Ec2Error,
  Ec2InvalidInputError,
  Ec2LimitError,
  Ec2NotFoundError,
  Ec2RetryableError,
  Ec2ThrottledError,
  Ec2UnauthorizedError,
  ignoreNotFound,
  isNotFound,
  isRetryable,
  isSecurityGroupQuotaExceeded,
  needsOutsideFix,
} from '../../../operator/aws/ec2-errors.ts';

/** What the SDK throws for an EC2 error response: name and Code equal the EC2 code. */
function sdkError(
  code: string,
  message: string,
  httpStatusCode: number,
  fault = httpStatusCode >= 500 ? 'server' : 'client',
) {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: fault,
    $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1 },
  });
}

type ErrorClass = new (...args: never[]) => Ec2Error;

describe('classifyEc2Error', () => {
  test.each<[string, string, string, number, ErrorClass]>([
    ['throttled', 'RequestLimitExceeded', 'Request limit exceeded.', 503, Ec2ThrottledError],
    ['throttled with 400', 'RequestLimitExceeded', 'Request limit exceeded.', 400, Ec2ThrottledError],
    [
      'eni not found',
      'InvalidNetworkInterfaceID.NotFound',
      "The networkInterface ID 'eni-1' does not exist",
      400,
      Ec2NotFoundError,
    ],
    [
      'association not found',
      'InvalidAssociationID.NotFound',
      "The association ID 'a' does not exist",
      400,
      Ec2NotFoundError,
    ],
    ['attachment not found', 'InvalidAttachmentID.NotFound', 'gone', 400, Ec2NotFoundError],
    ['group not found', 'InvalidGroup.NotFound', "The security group 'sg-1' does not exist", 400, Ec2NotFoundError],
    [
      'unknown instance type',
      'InvalidInstanceType',
      'The following supplied instance types do not exist: [x]',
      400,
      Ec2NotFoundError,
    ],
    [
      'eni slots full',
      'AttachmentLimitExceeded',
      'Interface count 4 exceeds the limit for m5.large',
      400,
      Ec2LimitError,
    ],
    ['sg quota', 'SecurityGroupsPerInterfaceLimitExceeded', 'too many', 400, Ec2LimitError],
    [
      'subnet full',
      'InsufficientFreeAddressesInSubnet',
      'The specified subnet does not have enough free addresses',
      400,
      Ec2LimitError,
    ],
    [
      'subnet full, alternate encoding',
      'InvalidParameterValue',
      "There aren't sufficient free Ipv4 addresses or prefixes",
      400,
      Ec2LimitError,
    ],
    ['regional eni quota', 'NetworkInterfaceLimitExceeded', 'quota', 400, Ec2LimitError],
    [
      'malformed id',
      'InvalidNetworkInterfaceId.Malformed',
      'Invalid id: "bogus" (expecting "eni-...")',
      400,
      Ec2InvalidInputError,
    ],
    [
      'eni in use',
      'InvalidParameterValue',
      "Network interface 'eni-1' is currently in use.",
      400,
      Ec2InvalidInputError,
    ],
    ['token reuse', 'IdempotentParameterMismatch', 'mismatch', 400, Ec2InvalidInputError],
    [
      'iam denial',
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
      403,
      Ec2UnauthorizedError,
    ],
    [
      'bad credentials',
      'AuthFailure',
      'AWS was not able to validate the provided access credentials',
      401,
      Ec2UnauthorizedError,
    ],
    ['server fault', 'InternalError', 'An internal error has occurred', 500, Ec2RetryableError],
    ['unavailable', 'Unavailable', 'unavailable', 503, Ec2RetryableError],
    ['unknown 5xx code', 'SomethingNew', 'odd', 502, Ec2RetryableError],
  ])('%s: %s → %p', (_name, code, message, status, expected) => {
    const err = classifyEc2Error(sdkError(code, message, status), 'CreateNetworkInterface');
    expect(err).toBeInstanceOf(expected);
    expect(err).toMatchObject({ code, action: 'CreateNetworkInterface', statusCode: status, requestId: 'req-1' });
    expect(err.message).toContain(message);
  });

  test('a socket error without a response is retryable and keeps the Node code', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = classifyEc2Error(raw, 'DescribeInstances');
    expect(err).toBeInstanceOf(Ec2RetryableError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', statusCode: undefined });
  });

  test.each([
    [
      'UnauthorizedOperation on AssociateTrunkInterface',
      'AssociateTrunkInterface',
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
      {},
    ],
    [
      'UnauthorizedOperation on a trunk create',
      'CreateNetworkInterface',
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
      { isTrunkCall: true },
    ],
    [
      'invalid InterfaceType trunk',
      'CreateNetworkInterface',
      'InvalidParameterValue',
      "Invalid value 'trunk' for InterfaceType",
      {},
    ],
  ])('%s says trunking needs an allow-listed account and the IAM policy', (_name, action, code, message, context) => {
    const err = classifyEc2Error(sdkError(code, message, 403), action, context);
    expect(err).toBeInstanceOf(Ec2UnauthorizedError);
    expect(err.message).toContain('ENI trunking needs an AWS account allow-listed');
    expect(err.message).toContain('config/iam/ec2-policy.json');
  });

  test('UnauthorizedOperation on an ordinary call points at credentials and IAM, not trunking', () => {
    const err = classifyEc2Error(sdkError('UnauthorizedOperation', 'denied', 403), 'DeleteNetworkInterface');
    expect(err).toBeInstanceOf(Ec2UnauthorizedError);
    expect(err.message).not.toContain('allow-listed');
    expect(err.message).toContain('config/iam/ec2-policy.json');
  });

  test('errors already classified and aborts pass through unchanged', () => {
    const classified = new Ec2NotFoundError('gone', { code: 'InvalidNetworkInterfaceID.NotFound', action: 'X' });
    expect(classifyEc2Error(classified, 'Y')).toBe(classified);
    const abort = new DOMException('aborted', 'AbortError');
    expect(classifyEc2Error(abort, 'Y')).toBe(abort);
  });

  test('the original SDK error is kept as cause', () => {
    const raw = sdkError('InternalError', 'boom', 500);
    expect(classifyEc2Error(raw, 'X').cause).toBe(raw);
  });
});

describe('predicates', () => {
  const notFound = new Ec2NotFoundError('gone', {
    code: 'InvalidNetworkInterfaceID.NotFound',
    action: 'DeleteNetworkInterface',
  });
  const throttled = new Ec2ThrottledError('slow down', { code: 'RequestLimitExceeded', action: 'X' });
  const invalid = new Ec2InvalidInputError('bad', { code: 'InvalidParameterValue', action: 'X' });

  test('ignoreNotFound swallows only not-found', () => {
    expect(ignoreNotFound(notFound)).toBeUndefined();
    expect(() => ignoreNotFound(invalid)).toThrow(invalid);
  });

  test.each([
    [notFound, true, false],
    [throttled, false, true],
    [invalid, false, false],
    [new Ec2RetryableError('5xx', { code: 'InternalError', action: 'X' }), false, true],
  ])('%p: isNotFound %p, isRetryable %p', (err, notFoundExpected, retryableExpected) => {
    expect(isNotFound(err)).toBe(notFoundExpected);
    expect(isRetryable(err)).toBe(retryableExpected);
  });
});

describe('codeLabel keeps the metric label set bounded', () => {
  test.each([
    ['RequestLimitExceeded', 'RequestLimitExceeded'],
    ['InvalidNetworkInterfaceID.NotFound', 'InvalidNetworkInterfaceID.NotFound'],
    ['SomeBrandNewCode', 'other'],
  ])('%s → %s', (code, label) => {
    expect(codeLabel(code)).toBe(label);
  });
});

describe('which errors wait for a fix outside the cluster', () => {
  // Each row: what EC2 answered, as the SDK throws it, and how the controllers treat it.
  test.each<[string, string, string, number, { outsideFix: boolean; groupQuota: boolean }]>([
    [
      'IAM denial',
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
      403,
      { outsideFix: true, groupQuota: false },
    ],
    [
      'bad credentials',
      'AuthFailure',
      'AWS was not able to validate the provided access credentials',
      401,
      { outsideFix: true, groupQuota: false },
    ],
    [
      'regional ENI quota',
      'NetworkInterfaceLimitExceeded',
      'limit exceeded',
      400,
      { outsideFix: true, groupQuota: false },
    ],
    [
      'instance ENI slots',
      'AttachmentLimitExceeded',
      'Interface count 4 exceeds the limit',
      400,
      { outsideFix: true, groupQuota: false },
    ],
    [
      'groups per ENI',
      'SecurityGroupsPerInterfaceLimitExceeded',
      'The maximum number of security groups per interface has been reached.',
      400,
      { outsideFix: false, groupQuota: true },
    ],
    [
      'subnet full (the branch moves)',
      'InsufficientFreeAddressesInSubnet',
      'no free addresses',
      400,
      { outsideFix: false, groupQuota: false },
    ],
    [
      'malformed request (terminal)',
      'InvalidParameterValue',
      'bad value',
      400,
      { outsideFix: false, groupQuota: false },
    ],
    [
      'throttled (usual backoff)',
      'RequestLimitExceeded',
      'Request limit exceeded.',
      503,
      { outsideFix: false, groupQuota: false },
    ],
    [
      'not yet visible (usual backoff)',
      'InvalidNetworkInterfaceID.NotFound',
      'does not exist',
      400,
      { outsideFix: false, groupQuota: false },
    ],
  ])('%s', (_name, code, message, status, expected) => {
    const err = classifyEc2Error(sdkError(code, message, status), 'CreateNetworkInterface');
    expect({ outsideFix: needsOutsideFix(err), groupQuota: isSecurityGroupQuotaExceeded(err) }).toEqual(expected);
  });
});
