/**
 * Where the API server is and how to prove who we are: the current context of a kubeconfig (one file, or
 * several merged as `KUBECONFIG=a:b` does), or the pod's service account. What it yields, {@link ClusterAccess},
 * is plain data; credentials.ts turns it into headers and TLS material per request.
 *
 * Why our own and not @kubernetes/client-node's `KubeConfig`: its module imports the generated barrel of every
 * API group (~70 MiB of RSS at start for code we never call), while the operator only needs this file's worth
 * of it (bench/README.md). What is supported is what an operator meets: client certificates, bearer tokens
 * (inline or a file re-read as it rotates), exec plugins (`aws eks get-token`, kubelogin), impersonation, and the
 * in-cluster service account. Deprecated or interactive mechanisms are refused with a message naming the fix:
 * `auth-provider` (gcp, azure, oidc: use their exec plugins), basic auth (removed from Kubernetes in 1.19), and
 * `proxy-url` (an operator runs next to its API server).
 *
 * Which source, in the order the `--kubeconfig` help states: the paths given (the flag, or `KUBECONFIG`, split
 * on ':'); else the in-cluster service account when `KUBERNETES_SERVICE_HOST` is set; else `~/.kube/config`.
 * Merging follows kubectl: the first file that sets `current-context` wins, and the first file that defines a
 * cluster, user or context of a given name wins. Relative paths resolve against the file that holds them.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { OperatorError } from '../errors.ts';

/** PEM material, from a file (re-read as it rotates) or inline (`…-data`, base64-decoded). */
export type PemSource = { file: string } | { pem: Buffer };

export interface ExecPluginConfig {
  /** `client.authentication.k8s.io/v1` or `/v1beta1`: the ExecCredential version exchanged. */
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  installHint: string | undefined;
  /** Send the cluster's server and CA to the plugin in KUBERNETES_EXEC_INFO. */
  provideClusterInfo: boolean;
  /** The cluster's `client.authentication.k8s.io/exec` extension, passed as `spec.cluster.config`. */
  clusterConfig: unknown;
}

export interface Impersonation {
  user: string;
  uid: string | undefined;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface ClusterAccess {
  /** Where this came from, for messages: `kubeconfig <file> context <name>` or `in-cluster service account`. */
  source: string;
  /** `https://host:port`, no trailing slash. */
  server: string;
  ca: PemSource | undefined;
  insecureSkipTlsVerify: boolean;
  /** TLS server name to verify instead of the server's host. */
  tlsServerName: string | undefined;
  /** A bearer token: inline, a file, or none. */
  token: { value: string } | { file: string } | undefined;
  clientCertificate: PemSource | undefined;
  clientKey: PemSource | undefined;
  exec: ExecPluginConfig | undefined;
  impersonate: Impersonation | undefined;
  /** The context's namespace, or the service account's. */
  namespace: string | undefined;
}

/** A kubeconfig that cannot be used as written; the message names the file, the entry and the fix. */
export class KubeconfigError extends OperatorError {}

/** Where the kubelet mounts a pod's service account token, CA bundle and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadClusterAccessOptions {
  /** `--kubeconfig` (KUBECONFIG is its environment alias): one path or several joined by ':'. */
  kubeconfig: string | undefined;
  /** KUBERNETES_SERVICE_HOST / _PORT for the in-cluster case. */
  env: Environment;
  /** The service account folder; tests point it elsewhere. */
  serviceAccountDir?: string;
  /** The home folder holding `.kube/config`. */
  homeDir?: string;
  /** A kubeconfig context instead of the current one (kubectl's --context); kubeconfig files only. */
  context?: string;
}

/** Picks the source (see the module comment) and reads it. Throws {@link KubeconfigError}. */
export async function loadClusterAccess(options: LoadClusterAccessOptions): Promise<ClusterAccess> {
  const paths = (options.kubeconfig ?? '').split(delimiter).filter(Boolean);
  const { context } = options;
  if (paths.length > 0) return loadKubeconfigFiles(paths, { context });
  if (options.env.KUBERNETES_SERVICE_HOST) {
    if (context !== undefined) {
      throw new KubeconfigError(
        `context "${context}" needs a kubeconfig, but none is given (in-cluster service account)`,
      );
    }
    return inClusterAccess(options.env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  }
  const home = join(options.homeDir ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return loadKubeconfigFiles([home], { context });
  throw new KubeconfigError(
    `no API server to talk to: --kubeconfig (or KUBECONFIG) is not set, KUBERNETES_SERVICE_HOST is not set (not in a pod), and ${home} does not exist; pass --kubeconfig`,
  );
}

/** Reads and merges kubeconfig files (missing ones are skipped, as kubectl does, unless all are missing). */
export async function loadKubeconfigFiles(
  paths: readonly string[],
  options: { context?: string | undefined } = {},
): Promise<ClusterAccess> {
  // Loaded on demand: in a pod (the in-cluster case) no YAML is parsed at all.
  const { parse } = await import('yaml');
  const documents: KubeconfigDocument[] = [];
  for (const path of paths.map((p) => resolve(p))) {
    if (!existsSync(path)) continue;
    let content: unknown;
    try {
      content = parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new KubeconfigError(`kubeconfig ${path} is not valid YAML: ${(error as Error).message}`, { cause: error });
    }
    documents.push({ path, content });
  }
  if (documents.length === 0) {
    throw new KubeconfigError(`kubeconfig ${paths.join(delimiter)} does not exist; check --kubeconfig or KUBECONFIG`);
  }
  return clusterAccessFromKubeconfig(documents, options.context);
}

export interface KubeconfigDocument {
  /** Absolute path: relative paths inside resolve against its folder. */
  path: string;
  /** The parsed YAML. */
  content: unknown;
}

interface Named {
  /** The file that defined the entry. */
  path: string;
  value: Record<string, unknown>;
}

/**
 * The current context of merged kubeconfig documents, or the context named (pure: no I/O). Throws
 * {@link KubeconfigError}.
 */
export function clusterAccessFromKubeconfig(
  documents: readonly KubeconfigDocument[],
  contextName?: string,
): ClusterAccess {
  const clusters = new Map<string, Named>();
  const users = new Map<string, Named>();
  const contexts = new Map<string, Named>();
  let currentContext: string | undefined;
  const files = documents.map((d) => d.path).join(delimiter);
  for (const { path, content } of documents) {
    if (content === null || content === undefined) continue;
    if (typeof content !== 'object' || Array.isArray(content)) {
      throw new KubeconfigError(`kubeconfig ${path} is not a Config object`);
    }
    const config = content as Record<string, unknown>;
    for (const [list, into, field] of [
      ['clusters', clusters, 'cluster'],
      ['users', users, 'user'],
      ['contexts', contexts, 'context'],
    ] as const) {
      const entries = config[list] ?? [];
      if (!Array.isArray(entries)) throw new KubeconfigError(`kubeconfig ${path}: ${list} is not a list`);
      entries.forEach((entry: unknown, index) => {
        const { name, [field]: value } = (entry ?? {}) as Record<string, unknown>;
        if (typeof name !== 'string' || name === '') {
          throw new KubeconfigError(`kubeconfig ${path}: ${list}[${index}] has no name`);
        }
        if (into.has(name)) return;
        into.set(name, { path, value: isRecord(value) ? value : {} });
      });
    }
    const current = config['current-context'];
    if (currentContext === undefined && typeof current === 'string' && current !== '') currentContext = current;
  }
  if (contextName !== undefined && !contexts.has(contextName)) {
    throw new KubeconfigError(
      `context "${contextName}" is not in kubeconfig ${files} (it has: ${[...contexts.keys()].join(', ') || 'none'})`,
    );
  }
  currentContext = contextName ?? currentContext;
  if (currentContext === undefined) {
    throw new KubeconfigError(`kubeconfig ${files} sets no current-context; run kubectl config use-context <name>`);
  }
  const context = contexts.get(currentContext);
  if (context === undefined) {
    throw new KubeconfigError(`kubeconfig ${files}: current-context "${currentContext}" is not defined in contexts`);
  }
  const where = `kubeconfig ${context.path} context "${currentContext}"`;
  const clusterName = stringField(context.value, 'cluster', where);
  const cluster = clusterName === undefined ? undefined : clusters.get(clusterName);
  if (cluster === undefined) {
    throw new KubeconfigError(`${where} names cluster "${clusterName ?? ''}", which no kubeconfig file defines`);
  }
  const userName = stringField(context.value, 'user', where);
  const user = userName === undefined ? { path: context.path, value: {} } : users.get(userName);
  if (user === undefined) {
    throw new KubeconfigError(`${where} names user "${userName}", which no kubeconfig file defines`);
  }
  const clusterWhere = `kubeconfig ${cluster.path} cluster "${clusterName}"`;
  const userWhere = `kubeconfig ${user.path} user "${userName ?? ''}"`;
  return {
    source: where,
    ...clusterFields(cluster, clusterWhere),
    ...userFields(user, userWhere, cluster.value),
    namespace: stringField(context.value, 'namespace', where),
  };
}

function clusterFields(
  { path, value }: Named,
  where: string,
): Pick<ClusterAccess, 'server' | 'ca' | 'insecureSkipTlsVerify' | 'tlsServerName'> {
  const server = stringField(value, 'server', where);
  if (server === undefined) throw new KubeconfigError(`${where} has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(`${where}: server "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigError(`${where}: server "${server}" must be an https:// (or http://) URL`);
  }
  if (stringField(value, 'proxy-url', where) !== undefined) {
    throw new KubeconfigError(
      `${where} sets proxy-url, which sgp-operator does not support; run the operator where it reaches the API server directly (in a pod it always does)`,
    );
  }
  return {
    server: server.replace(/\/+$/, ''),
    ca: pemSource(value, 'certificate-authority', path, where),
    insecureSkipTlsVerify: value['insecure-skip-tls-verify'] === true,
    tlsServerName: stringField(value, 'tls-server-name', where),
  };
}

function userFields(
  { path, value }: Named,
  where: string,
  cluster: Record<string, unknown>,
): Pick<ClusterAccess, 'token' | 'clientCertificate' | 'clientKey' | 'exec' | 'impersonate'> {
  if (value['auth-provider'] !== undefined) {
    throw new KubeconfigError(
      `${where} uses auth-provider, which Kubernetes clients no longer support; use the provider's exec plugin (for example kubelogin)`,
    );
  }
  if (value.username !== undefined || value.password !== undefined) {
    throw new KubeconfigError(
      `${where} uses basic auth (username/password), which the API server removed in Kubernetes 1.19; use a client certificate, a token or an exec plugin`,
    );
  }
  const inline = stringField(value, 'token', where);
  const tokenFile = stringField(value, 'tokenFile', where);
  const token = inline ? { value: inline } : tokenFile ? { file: absolute(path, tokenFile) } : undefined;
  const exec = execConfig(value.exec, path, where, cluster);
  if (exec !== undefined && token !== undefined) {
    throw new KubeconfigError(`${where} sets both exec and a token; keep one`);
  }
  const clientCertificate = pemSource(value, 'client-certificate', path, where);
  const clientKey = pemSource(value, 'client-key', path, where);
  if ((clientCertificate === undefined) !== (clientKey === undefined)) {
    throw new KubeconfigError(`${where} sets a client certificate or a client key without the other; set both`);
  }
  const asUser = stringField(value, 'as', where);
  const groups = stringList(value['as-groups'], `${where} as-groups`);
  const extra = value['as-user-extra'];
  if (asUser === undefined && (groups.length > 0 || extra !== undefined)) {
    throw new KubeconfigError(`${where} sets as-groups or as-user-extra without as; name the user to impersonate`);
  }
  return {
    token,
    clientCertificate,
    clientKey,
    exec,
    impersonate:
      asUser === undefined
        ? undefined
        : {
            user: asUser,
            uid: stringField(value, 'as-uid', where),
            groups,
            extra: Object.fromEntries(
              Object.entries(isRecord(extra) ? extra : {}).map(([key, values]) => [
                key,
                stringList(values, `${where} as-user-extra.${key}`),
              ]),
            ),
          },
  };
}

const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
const EXEC_EXTENSION = 'client.authentication.k8s.io/exec';

function execConfig(
  raw: unknown,
  path: string,
  where: string,
  cluster: Record<string, unknown>,
): ExecPluginConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw new KubeconfigError(`${where}: exec is not a mapping`);
  const apiVersion = stringField(raw, 'apiVersion', `${where} exec`);
  if (apiVersion === undefined || !EXEC_API_VERSIONS.includes(apiVersion)) {
    throw new KubeconfigError(
      `${where}: exec apiVersion "${apiVersion ?? ''}" is not supported; use ${EXEC_API_VERSIONS.join(' or ')}`,
    );
  }
  const command = stringField(raw, 'command', `${where} exec`);
  if (command === undefined) throw new KubeconfigError(`${where}: exec has no command`);
  if (raw.interactiveMode === 'Always') {
    throw new KubeconfigError(
      `${where}: the exec plugin ${command} needs a terminal (interactiveMode: Always), which the operator does not have; configure a non-interactive credential`,
    );
  }
  const env = Array.isArray(raw.env) ? raw.env : [];
  const extensions = Array.isArray(cluster.extensions) ? (cluster.extensions as unknown[]) : [];
  const extension = extensions.find((e) => isRecord(e) && e.name === EXEC_EXTENSION);
  return {
    apiVersion,
    // kubectl: a command with a path separator is relative to the kubeconfig; a bare name is looked up on PATH.
    command: command.includes('/') ? absolute(path, command) : command,
    args: stringList(raw.args, `${where} exec args`),
    env: env.map((entry: unknown, index) => {
      const { name, value } = (entry ?? {}) as Record<string, unknown>;
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new KubeconfigError(`${where}: exec env[${index}] needs a string name and value`);
      }
      return { name, value };
    }),
    installHint: stringField(raw, 'installHint', `${where} exec`),
    provideClusterInfo: raw.provideClusterInfo === true,
    clusterConfig: isRecord(extension) ? extension.extension : undefined,
  };
}

/** `<field>-data` (base64 PEM) wins over `<field>` (a file), as in kubectl. */
function pemSource(value: Record<string, unknown>, field: string, path: string, where: string): PemSource | undefined {
  const data = stringField(value, `${field}-data`, where);
  if (data !== undefined) return { pem: Buffer.from(data, 'base64') };
  const file = stringField(value, field, where);
  return file === undefined ? undefined : { file: absolute(path, file) };
}

/**
 * The pod's service account: the API server's ClusterIP service from the environment the kubelet sets, the
 * CA bundle and token the kubelet mounts and rotates (re-read by credentials.ts), and the pod's namespace.
 */
export async function inClusterAccess(env: Environment, dir: string): Promise<ClusterAccess> {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const tokenFile = join(dir, 'token');
  if (!existsSync(tokenFile)) {
    throw new KubeconfigError(
      `KUBERNETES_SERVICE_HOST is set but ${tokenFile} does not exist; mount the service account token (automountServiceAccountToken) or pass --kubeconfig`,
    );
  }
  const namespaceFile = join(dir, 'namespace');
  return {
    source: 'in-cluster service account',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: { file: join(dir, 'ca.crt') },
    insecureSkipTlsVerify: false,
    tlsServerName: undefined,
    token: { file: tokenFile },
    clientCertificate: undefined,
    clientKey: undefined,
    exec: undefined,
    impersonate: undefined,
    namespace: existsSync(namespaceFile) ? (await readFile(namespaceFile, 'utf8')).trim() : undefined,
  };
}

function absolute(kubeconfigPath: string, file: string): string {
  return isAbsolute(file) ? file : resolve(dirname(kubeconfigPath), file);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(value: Record<string, unknown>, field: string, where: string): string | undefined {
  const found = value[field];
  if (found === undefined || found === null || found === '') return undefined;
  if (typeof found !== 'string') throw new KubeconfigError(`${where}: ${field} must be a string`);
  return found;
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new KubeconfigError(`${where} must be a list of strings`);
  }
  return value;
}
