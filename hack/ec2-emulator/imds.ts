import { randomBytes } from 'node:crypto';

/**
 * The instance metadata service (IMDSv2) on the emulator's port, under `/latest/`, for programs that read their
 * region and account from the metadata service at start (EKS's VPC resource controller does: the region and the
 * instance identity document's `accountId`). Aim an AWS SDK at it with `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
 *
 * As on EC2 with `HttpTokens=required` (IMDSv2 only): `PUT /latest/api/token` with
 * `X-aws-ec2-metadata-token-ttl-seconds` (1..21600) returns a session token (400 without or outside the range);
 * every `GET` must carry it in `X-aws-ec2-metadata-token` (401 when missing, unknown or expired); an unknown
 * path is 404; other methods are 405. Responses are `text/plain`, the identity document JSON.
 *
 * The identity is that of the host the caller runs on, which is not one of the emulated node instances: a fixed
 * instance id in the emulator's region and account.
 */
export const IMDS_PREFIX = '/latest/';

/** Instance id the metadata service reports for the caller's own host (no emulated instance has it). */
export const IMDS_HOST_INSTANCE_ID = 'i-0c0a7e0c0a7e0c0a7';

const MAX_TTL_SECONDS = 21_600;

export interface ImdsIdentity {
  region: string;
  accountId: string;
}

export interface ImdsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class MetadataService {
  readonly #tokens = new Map<string, number>();
  readonly #identity: () => ImdsIdentity;

  constructor(identity: () => ImdsIdentity) {
    this.#identity = identity;
  }

  handle(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    nowMs: number,
  ): ImdsResponse {
    if (path === '/latest/api/token') {
      if (method !== 'PUT') return text(405, 'Method Not Allowed');
      const ttl = Number(header(headers, 'x-aws-ec2-metadata-token-ttl-seconds'));
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return text(400, 'Bad Request');
      const token = randomBytes(32).toString('base64url');
      this.#tokens.set(token, nowMs + ttl * 1000);
      const response = text(200, token);
      response.headers['x-aws-ec2-metadata-token-ttl-seconds'] = String(ttl);
      return response;
    }
    if (method !== 'GET') return text(405, 'Method Not Allowed');
    const token = header(headers, 'x-aws-ec2-metadata-token');
    const expiresAt = this.#tokens.get(token);
    if (expiresAt === undefined || expiresAt <= nowMs) return text(401, 'Unauthorized');
    const value = this.#values()[path.replace(/\/+$/, '')];
    return value === undefined ? text(404, 'Not Found') : text(200, value);
  }

  #values(): Record<string, string> {
    const { region, accountId } = this.#identity();
    const availabilityZone = `${region}a`;
    const document = {
      accountId,
      architecture: 'x86_64',
      availabilityZone,
      billingProducts: null,
      devpayProductCodes: null,
      marketplaceProductCodes: null,
      imageId: 'ami-0c0a7e0c0a7e0c0a7',
      instanceId: IMDS_HOST_INSTANCE_ID,
      instanceType: 'm5.large',
      kernelId: null,
      pendingTime: '2026-01-01T00:00:00Z',
      privateIp: '127.0.0.1',
      ramdiskId: null,
      region,
      version: '2017-09-30',
    };
    return {
      '/latest/meta-data/placement/region': region,
      '/latest/meta-data/placement/availability-zone': availabilityZone,
      '/latest/meta-data/instance-id': IMDS_HOST_INSTANCE_ID,
      '/latest/meta-data/instance-type': document.instanceType,
      '/latest/dynamic/instance-identity/document': JSON.stringify(document, null, 2),
    };
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function text(status: number, body: string): ImdsResponse {
  return { status, headers: { 'Content-Type': 'text/plain' }, body };
}
