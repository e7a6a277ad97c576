/**
 * Identities for EC2. By default the SDK's credential chain (env, shared config, web identity/IRSA, pod
 * identity, IMDS) serves every call. EKS runs trunk association under a second identity: the trunk APIs
 * are allow-listed for one account, so AssociateTrunkInterface, DisassociateTrunkInterface and
 * DescribeTrunkInterfaceAssociations go through a role assumed with STS while everything else uses the
 * default identity (docs/ec2-semantics.md#two-identities). Granting that account INSTANCE-ATTACH on trunks and branches
 * (CreateNetworkInterfacePermission) is the controllers' job.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';

export type CredentialsOption = EC2ClientConfig['credentials'];

/** Resolved credentials as the SDK expects them from a provider. */
interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumeRoleOptions {
  roleArn: string;
  region?: string;
  /** Credentials used to call STS; default chain when omitted. */
  sourceCredentials?: CredentialsOption;
  sessionName?: string;
  durationSeconds?: number;
  /** Refresh this long before expiry, so no request is signed with credentials about to lapse. */
  refreshBeforeExpiryMs?: number;
  now?: () => number;
  /** For tests: an STS client aimed elsewhere. */
  stsClient?: STSClient;
}

/**
 * A credential provider that assumes `roleArn` with STS and refreshes the temporary credentials before
 * they expire. Concurrent callers share one in-flight AssumeRole.
 */
export function assumeRoleCredentials(options: AssumeRoleOptions): () => Promise<TemporaryCredentials> {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeExpiryMs ?? 5 * 60_000;
  const sts =
    options.stsClient ??
    new STSClient({
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.sourceCredentials === undefined ? {} : { credentials: options.sourceCredentials }),
    });
  let cached: TemporaryCredentials | undefined;
  let inflight: Promise<TemporaryCredentials> | undefined;

  const assume = async (): Promise<TemporaryCredentials> => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName ?? 'sgp-operator-trunk-association',
        DurationSeconds: options.durationSeconds ?? 3600,
      }),
    );
    const c = out.Credentials;
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined) {
      throw new Error(`STS AssumeRole ${options.roleArn} returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration ?? new Date(now() + 15 * 60_000),
    };
  };

  return async () => {
    if (cached !== undefined && cached.expiration.getTime() - refreshBeforeMs > now()) return cached;
    inflight ??= assume()
      .then((creds) => {
        cached = creds;
        return creds;
      })
      .catch((err: unknown) => {
        throw new Error(
          `assuming the trunk-association role ${options.roleArn} failed: ${err instanceof Error ? err.message : String(err)}; ` +
            'check that the operator identity may sts:AssumeRole it and that the role trusts the operator identity',
          { cause: err },
        );
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
