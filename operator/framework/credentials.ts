/**
 * Turns a {@link ClusterAccess} into what each request carries: headers (bearer token, impersonation) and TLS
 * material (CA bundle, client certificate). Everything that rotates is re-read:
 * - files (the service account token and CA the kubelet rotates, a kubeconfig's tokenFile, certificate and key
 *   files cert-manager or a node agent renews) at most once per {@link CREDENTIAL_FILE_REFRESH_MS}, as client-go
 *   re-reads token files once a minute;
 * - an exec plugin's output when it expires;
 * - both at once when the API server answers 401 ({@link ClusterCredentials.rejected}), so a token revoked or
 *   rotated early costs one failed request, not a minute of them.
 * `tlsIdentity` changes exactly when the TLS material does, so the transport keeps its keep-alive connections
 * until then.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { execInfo, runExecPlugin, type ExecCredential } from './exec-plugin.ts';
import type { ClusterAccess, PemSource } from './kubeconfig.ts';
import type { Clock } from './types.ts';

/** How long a credential read from a file is used before the file is read again. */
export const CREDENTIAL_FILE_REFRESH_MS = 60_000;
/** An exec credential is renewed this long before its expirationTimestamp, so no request carries an expired one. */
export const EXEC_CREDENTIAL_RENEW_BEFORE_MS = 10_000;

export interface TlsMaterial {
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  servername: string | undefined;
  rejectUnauthorized: boolean;
}

export interface RequestCredentials {
  headers: Record<string, string | string[]>;
  tls: TlsMaterial;
  /** Equal for equal TLS material: the key of the connection pool to use. */
  tlsIdentity: string;
}

export interface ClusterCredentialsOptions {
  clock: Clock;
  /** The environment exec plugins run with. */
  env: Readonly<Record<string, string | undefined>>;
  /** Runs an exec plugin; tests may count or fake the runs. */
  runPlugin?: typeof runExecPlugin;
}

interface CachedFile {
  content: Buffer;
  readAtMs: number;
}

export class ClusterCredentials {
  readonly #access: ClusterAccess;
  readonly #options: ClusterCredentialsOptions;
  readonly #files = new Map<string, Promise<CachedFile>>();
  #exec: Promise<ExecCredential> | undefined;
  #tls: { material: TlsMaterial; identity: string } | undefined;

  constructor(access: ClusterAccess, options: ClusterCredentialsOptions) {
    this.#access = access;
    this.#options = options;
  }

  async forRequest(): Promise<RequestCredentials> {
    const access = this.#access;
    const exec = access.exec === undefined ? undefined : await this.#execCredential();
    const token = exec?.token ?? (await this.#token());
    const headers: Record<string, string | string[]> = {};
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const impersonate = access.impersonate;
    if (impersonate !== undefined) {
      headers['Impersonate-User'] = impersonate.user;
      if (impersonate.uid !== undefined) headers['Impersonate-Uid'] = impersonate.uid;
      if (impersonate.groups.length > 0) headers['Impersonate-Group'] = impersonate.groups;
      for (const [key, values] of Object.entries(impersonate.extra)) {
        headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
      }
    }
    const [ca, cert, key] = await Promise.all([
      this.#pem(access.ca),
      exec?.clientCertificate ?? this.#pem(access.clientCertificate),
      exec?.clientKey ?? this.#pem(access.clientKey),
    ]);
    return { headers, ...this.#tlsFor(ca, cert, key) };
  }

  /**
   * The API server answered 401 Unauthorized: forget every cached token, exec credential and file, so the next
   * request reads them afresh. Returns whether anything could change (a retry is then worth making).
   */
  rejected(): boolean {
    const couldChange = this.#exec !== undefined || this.#files.size > 0;
    this.#exec = undefined;
    this.#files.clear();
    return couldChange;
  }

  async #token(): Promise<string | undefined> {
    const token = this.#access.token;
    if (token === undefined) return undefined;
    if ('value' in token) return token.value;
    return (await this.#file(token.file)).toString('utf8').trim();
  }

  async #pem(source: PemSource | undefined): Promise<Buffer | undefined> {
    if (source === undefined) return undefined;
    return 'pem' in source ? source.pem : this.#file(source.file);
  }

  async #file(path: string): Promise<Buffer> {
    const now = this.#options.clock.now();
    const cached = this.#files.get(path);
    if (cached !== undefined) {
      const file = await cached.catch(() => undefined);
      if (file !== undefined && now - file.readAtMs < CREDENTIAL_FILE_REFRESH_MS) return file.content;
    }
    const previous = cached;
    const reading = readFile(path).then(
      async (content) => {
        // Same bytes as before: keep the same Buffer, so the TLS identity (and the connections) stay.
        const before = await previous?.catch(() => undefined);
        return { content: before?.content.equals(content) ? before.content : content, readAtMs: now };
      },
      (error: unknown) => {
        this.#files.delete(path);
        throw new Error(`reading credential file ${path} (${this.#access.source}): ${(error as Error).message}`, {
          cause: error,
        });
      },
    );
    this.#files.set(path, reading);
    return (await reading).content;
  }

  #execCredential(): Promise<ExecCredential> {
    const now = this.#options.clock.now();
    const current = this.#exec;
    if (current !== undefined) {
      return current.then((credential) =>
        credential.expiresAtMs === undefined || credential.expiresAtMs - EXEC_CREDENTIAL_RENEW_BEFORE_MS > now
          ? credential
          : this.#runExec(current),
      );
    }
    return this.#runExec(undefined);
  }

  /** One plugin run shared by every request waiting for it; `stale` is the credential it replaces. */
  #runExec(stale: Promise<ExecCredential> | undefined): Promise<ExecCredential> {
    if (this.#exec !== stale) return this.#exec ?? this.#runExec(undefined);
    const access = this.#access;
    const plugin = access.exec;
    if (plugin === undefined) throw new Error('no exec plugin configured');
    const run = (async () => {
      const ca = await this.#pem(access.ca);
      const info = execInfo(plugin, { ...access, caPem: ca?.toString('utf8') });
      return (this.#options.runPlugin ?? runExecPlugin)(plugin, info, { env: this.#options.env });
    })();
    this.#exec = run;
    run.catch(() => {
      if (this.#exec === run) this.#exec = undefined;
    });
    return run;
  }

  #tlsFor(
    ca: Buffer | undefined,
    cert: Buffer | undefined,
    key: Buffer | undefined,
  ): Omit<RequestCredentials, 'headers'> {
    const previous = this.#tls;
    if (
      previous !== undefined &&
      previous.material.ca === ca &&
      previous.material.cert === cert &&
      previous.material.key === key
    ) {
      return { tls: previous.material, tlsIdentity: previous.identity };
    }
    const material: TlsMaterial = {
      ca,
      cert,
      key,
      servername: this.#access.tlsServerName,
      rejectUnauthorized: !this.#access.insecureSkipTlsVerify,
    };
    const hash = createHash('sha256');
    for (const part of [ca, cert, key]) hash.update(part ?? '').update('\0');
    const identity = hash.digest('hex');
    this.#tls = { material, identity };
    return { tls: material, tlsIdentity: identity };
  }
}
