/**
 * Client-go credential plugins (a kubeconfig user's `exec`): run the command, hand it KUBERNETES_EXEC_INFO,
 * read an ExecCredential from its stdout. This is how `aws eks get-token`, `aws-iam-authenticator` and kubelogin
 * give out short-lived tokens or client certificates. The operator never has a terminal, so `spec.interactive`
 * is always false and the plugin's stdin is closed.
 */
import { spawn } from 'node:child_process';
import { OperatorError } from '../errors.ts';
import type { ClusterAccess, ExecPluginConfig } from './kubeconfig.ts';

/** A plugin that does not answer in this long is stopped and the request fails (retried by its caller). */
export const EXEC_PLUGIN_TIMEOUT_MS = 60_000;

/** What a plugin returned: a token and/or a client certificate, with the time it stops being valid. */
export interface ExecCredential {
  token: string | undefined;
  clientCertificate: Buffer | undefined;
  clientKey: Buffer | undefined;
  /** ms since the epoch; undefined: valid until the API server answers 401. */
  expiresAtMs: number | undefined;
}

/** The plugin could not be run or returned something unusable; the message names the command and the fix. */
export class ExecPluginError extends OperatorError {}

/** The KUBERNETES_EXEC_INFO document: the plugin learns it is not interactive and, if it asked, the cluster. */
export function execInfo(
  config: ExecPluginConfig,
  access: Pick<ClusterAccess, 'server' | 'tlsServerName' | 'insecureSkipTlsVerify'> & { caPem: string | undefined },
): string {
  const cluster = config.provideClusterInfo
    ? {
        cluster: {
          server: access.server,
          ...(access.tlsServerName === undefined ? {} : { 'tls-server-name': access.tlsServerName }),
          ...(access.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
          ...(access.caPem === undefined
            ? {}
            : { 'certificate-authority-data': Buffer.from(access.caPem).toString('base64') }),
          ...(config.clusterConfig === undefined ? {} : { config: config.clusterConfig }),
        },
      }
    : {};
  return JSON.stringify({
    apiVersion: config.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...cluster },
  });
}

/** Reads a plugin's stdout (pure). Throws {@link ExecPluginError} naming the command. */
export function parseExecCredential(stdout: string, config: ExecPluginConfig): ExecCredential {
  let document: unknown;
  try {
    document = JSON.parse(stdout);
  } catch {
    throw new ExecPluginError(`exec plugin ${config.command} printed no ExecCredential JSON on stdout`);
  }
  const { apiVersion, kind, status } = (document ?? {}) as { apiVersion?: unknown; kind?: unknown; status?: unknown };
  if (kind !== 'ExecCredential' || apiVersion !== config.apiVersion) {
    throw new ExecPluginError(
      `exec plugin ${config.command} returned ${String(kind)} ${String(apiVersion)}; the kubeconfig asks for ExecCredential ${config.apiVersion}`,
    );
  }
  const fields = (status ?? {}) as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string')
      throw new ExecPluginError(`exec plugin ${config.command}: status.${name} is not a string`);
    return value;
  };
  const token = text('token');
  const clientCertificatePem = text('clientCertificateData');
  const clientKeyPem = text('clientKeyData');
  if (token === undefined && clientCertificatePem === undefined) {
    throw new ExecPluginError(`exec plugin ${config.command} returned neither a token nor a client certificate`);
  }
  if ((clientCertificatePem === undefined) !== (clientKeyPem === undefined)) {
    throw new ExecPluginError(`exec plugin ${config.command} returned a client certificate or key without the other`);
  }
  const expiration = text('expirationTimestamp');
  const expiresAtMs = expiration === undefined ? undefined : Date.parse(expiration);
  if (expiresAtMs !== undefined && Number.isNaN(expiresAtMs)) {
    throw new ExecPluginError(`exec plugin ${config.command}: expirationTimestamp "${expiration}" is not a time`);
  }
  return {
    token,
    clientCertificate: clientCertificatePem === undefined ? undefined : Buffer.from(clientCertificatePem),
    clientKey: clientKeyPem === undefined ? undefined : Buffer.from(clientKeyPem),
    expiresAtMs,
  };
}

/**
 * Runs the plugin once. `env` is the operator's environment (plugins read their own settings from it, such as
 * AWS_PROFILE); the kubeconfig's `env` entries are added on top.
 */
export function runExecPlugin(
  config: ExecPluginConfig,
  info: string,
  options: { env: Readonly<Record<string, string | undefined>>; signal?: AbortSignal; timeoutMs?: number },
): Promise<ExecCredential> {
  const env = {
    ...options.env,
    ...Object.fromEntries(config.env.map((e) => [e.name, e.value])),
    KUBERNETES_EXEC_INFO: info,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(config.command, config.args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? EXEC_PLUGIN_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let failure: Error | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      failure =
        error.code === 'ENOENT'
          ? new ExecPluginError(
              `exec plugin ${config.command} was not found${config.installHint ? `: ${config.installHint.trim()}` : '; install it or fix the kubeconfig'}`,
              { cause: error },
            )
          : new ExecPluginError(`exec plugin ${config.command} could not run: ${error.message}`, { cause: error });
    });
    child.on('close', (code, signal) => {
      if (failure !== undefined) return reject(failure);
      if (code !== 0) {
        const said = Buffer.concat(stderr).toString('utf8').trim().slice(0, 500);
        return reject(
          new ExecPluginError(
            `exec plugin ${config.command} ${signal ? `was stopped by ${signal}` : `exited with ${code}`}${said ? `: ${said}` : ''}`,
          ),
        );
      }
      try {
        resolve(parseExecCredential(Buffer.concat(stdout).toString('utf8'), config));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}
