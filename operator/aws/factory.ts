/**
 * Builds the EC2 stack the operator runs with: SDK clients (one identity, or a second one assumed for the
 * trunk-association calls), the SDK adapter, and the per-action rate limiter in front of it.
 *
 * Endpoint: `endpoint` (a flag) wins; otherwise the SDK itself honours AWS_ENDPOINT_URL_EC2 and
 * AWS_ENDPOINT_URL (and `endpoint_url` in the shared config), so pointing at hack/ec2-emulator needs no
 * code path of its own. Region: `region`, else the SDK's chain (AWS_REGION, shared config, IMDS).
 */
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { assumeRoleCredentials, type CredentialsOption } from './credentials.ts';
import { Ec2RateLimiter, type RateLimiterOptions } from './rate-limiter.ts';
import { SdkEc2Api } from './sdk-ec2-api.ts';
import { ThrottledEc2Api } from './throttled-ec2-api.ts';

export interface CreateEc2ApiOptions {
  region?: string;
  /** Endpoint override (flag); when absent the SDK reads AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** SDK attempts per call including the first (VPC-RC uses 3). Default 3. */
  maxAttempts?: number;
  /** 'standard' (default) or 'adaptive' (the SDK's own client-side rate limiting on top of ours). */
  retryMode?: 'standard' | 'adaptive';
  /** Per-bucket capacity/refill overrides, scale, headroom, adaptive slow-down. */
  buckets?: RateLimiterOptions;
  /** Role for AssociateTrunkInterface, DisassociateTrunkInterface, DescribeTrunkInterfaceAssociations. */
  trunkAssociationRoleArn?: string;
  /** Explicit credentials (tests); the SDK's default chain otherwise. */
  credentials?: CredentialsOption;
  /** Per-request timeout after the rate-limit wait, like VPC-RC's 30 s. */
  requestTimeoutMs?: number;
}

export function createEc2Api(options: CreateEc2ApiOptions): ThrottledEc2Api {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`EC2 maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  }
  const base: EC2ClientConfig = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts,
    retryMode: options.retryMode ?? 'standard',
    // More sockets than the limiter lets calls fly (16 per bucket), so no request waits for a socket after its token.
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      connectionTimeout: 5_000,
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  };
  const client = new EC2Client(base);
  const trunkClient =
    options.trunkAssociationRoleArn === undefined
      ? client
      : new EC2Client({
          ...base,
          credentials: assumeRoleCredentials({
            roleArn: options.trunkAssociationRoleArn,
            ...(options.region === undefined ? {} : { region: options.region }),
            ...(options.credentials === undefined ? {} : { sourceCredentials: options.credentials }),
          }),
        });
  const limiter = new Ec2RateLimiter(options.buckets);
  const sdk = new SdkEc2Api({ client, trunkClient, observer: limiter });
  return new ThrottledEc2Api(sdk, limiter);
}
