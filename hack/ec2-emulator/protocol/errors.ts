/**
 * The one error type of the emulator: an EC2 error code with its HTTP status. Everything a handler throws
 * that is not an {@link Ec2Fault} becomes a 500 `InternalError` (never an HTML page, never a crash).
 */
export class Ec2Fault extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'Ec2Fault';
    this.code = code;
    this.status = status;
  }
}

/** Default HTTP status for a code when a fault rule does not give one (docs/ec2-semantics.md#errors-and-retries). */
export function defaultStatusFor(code: string): number {
  switch (code) {
    case 'RequestLimitExceeded':
    case 'Unavailable':
    case 'ServiceUnavailable':
      return 503;
    case 'InternalError':
    case 'InternalFailure':
    case 'ServerInternal':
      return 500;
    case 'AuthFailure':
      return 401;
    case 'UnauthorizedOperation':
    case 'SignatureDoesNotMatch':
      return 403;
    case 'DryRunOperation':
      return 412;
    default:
      return 400;
  }
}

export const missingParameter = (name: string): Ec2Fault =>
  new Ec2Fault('MissingParameter', `The request must contain the parameter ${name}`);

export const invalidValue = (message: string): Ec2Fault => new Ec2Fault('InvalidParameterValue', message);

export const invalidCombination = (message: string): Ec2Fault => new Ec2Fault('InvalidParameterCombination', message);

export const unauthorized = (): Ec2Fault =>
  new Ec2Fault('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403);
