/**
 * Every way the operator can authenticate, against the run's real kube-apiserver, each proved by asking the
 * server who we are (SelfSubjectReview): client certificates from files and from inline data, a bearer token
 * file re-read as it rotates, an exec plugin (a token and a client certificate, cached until it expires), and
 * the in-cluster service account (environment + mounted files) with its token rotating.
 *
 * Tokens are ServiceAccount tokens from the TokenRequest API, bound to a Secret: deleting the Secret revokes
 * the token at once, as a rotated projected token is after expiry. Credential files are re-read once a
 * minute; the tests drive that with a fake clock.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { chmod, copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import {
  CREDENTIAL_FILE_REFRESH_MS,
  FakeClock,
  createKubeClient,
  loadClusterAccess,
  loadKubeconfigFiles,
  type ClusterAccess,
  type KubeClient,
  type KubeObject,
} from '../../../operator/framework/index.ts';
import { clusterAccess, eventually, kubeConfig, kubeconfigPath, testNamespace, uniqueName } from '../harness/index.ts';

const SELF_SUBJECT_REVIEW = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  plural: 'selfsubjectreviews',
  namespaced: false,
};

/** The username the API server authenticated the client's request as. */
async function whoAmI(client: KubeClient): Promise<string | undefined> {
  const review = await client.create<KubeObject & { status?: { userInfo?: { username?: string } } }>(
    SELF_SUBJECT_REVIEW,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} } as KubeObject,
  );
  return review.status?.userInfo?.username;
}

let dir: string;
let namespace: string;
let admin: ClusterAccess;
let caPem: string;
let core: CoreV1Api;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sgp-auth-'));
  namespace = await testNamespace('auth');
  admin = clusterAccess();
  if (admin.ca === undefined || !('file' in admin.ca)) throw new Error('the run kubeconfig has no CA file');
  caPem = await readFile(admin.ca.file, 'utf8');
  core = kubeConfig().makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A token of a new ServiceAccount, bound to a Secret: `revoke()` deletes the Secret, which invalidates it. */
async function serviceAccountToken(): Promise<{ username: string; token: string; revoke(): Promise<void> }> {
  const name = uniqueName('auth-sa');
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const secret = await core.createNamespacedSecret({ namespace, body: { metadata: { name: `${name}-binding` } } });
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: `${name}-binding`, uid: secret.metadata?.uid ?? '' },
      },
    },
  });
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    token: request.status?.token ?? '',
    revoke: async () => {
      await core.deleteNamespacedSecret({ namespace, name: `${name}-binding` });
    },
  };
}

/** Writes a kubeconfig with the run's cluster (CA by file) and `user`; returns its path. */
async function writeKubeconfig(name: string, user: Record<string, unknown>): Promise<string> {
  const folder = await mkdtemp(join(dir, `${name}-`));
  await writeFile(join(folder, 'ca.crt'), caPem);
  const path = join(folder, 'kubeconfig');
  await writeFile(
    path,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: admin.server, 'certificate-authority': 'ca.crt' } }],
      users: [{ name: 'me', user }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'me' } }],
      'current-context': 'test',
    }),
  );
  return path;
}

async function adminCertificate(): Promise<{ cert: string; key: string; certFile: string; keyFile: string }> {
  // The run's kubeconfig authenticates its admin with a client certificate kept beside it (hack/control-plane).
  if (admin.clientCertificate === undefined || !('file' in admin.clientCertificate)) {
    throw new Error(`the run kubeconfig ${kubeconfigPath()} has no client-certificate file`);
  }
  if (admin.clientKey === undefined || !('file' in admin.clientKey)) throw new Error('no client-key file');
  return {
    cert: await readFile(admin.clientCertificate.file, 'utf8'),
    key: await readFile(admin.clientKey.file, 'utf8'),
    certFile: admin.clientCertificate.file,
    keyFile: admin.clientKey.file,
  };
}

test('a client certificate from files named relative to the kubeconfig', async () => {
  const { certFile, keyFile } = await adminCertificate();
  const path = await writeKubeconfig('cert-files', { 'client-certificate': 'me.crt', 'client-key': 'me.key' });
  await copyFile(certFile, join(dirname(path), 'me.crt'));
  await copyFile(keyFile, join(dirname(path), 'me.key'));

  expect(await whoAmI(createKubeClient(await loadKubeconfigFiles([path])))).toBe('admin');
});

test('a client certificate from inline data', async () => {
  const { cert, key } = await adminCertificate();
  const path = await writeKubeconfig('cert-data', {
    'client-certificate-data': Buffer.from(cert).toString('base64'),
    'client-key-data': Buffer.from(key).toString('base64'),
  });

  expect(await whoAmI(createKubeClient(await loadKubeconfigFiles([path])))).toBe('admin');
});

test('a token file is re-read once a minute, and at once when the server refuses the old token', async () => {
  const first = await serviceAccountToken();
  const second = await serviceAccountToken();
  const third = await serviceAccountToken();
  const path = await writeKubeconfig('token-file', { tokenFile: 'token' });
  const tokenFile = join(dirname(path), 'token');
  await writeFile(tokenFile, first.token);
  const clock = new FakeClock();
  const client = createKubeClient(await loadKubeconfigFiles([path]), { clock });
  expect(await whoAmI(client)).toBe(first.username);

  // Rotated, the old token still valid: used until the file is due to be re-read.
  await writeFile(tokenFile, second.token);
  expect(await whoAmI(client)).toBe(first.username);
  clock.advance(CREDENTIAL_FILE_REFRESH_MS);
  expect(await whoAmI(client)).toBe(second.username);

  // Rotated and the old token revoked, with no minute passing: once the API server stops accepting the old
  // token (it caches a successful token check for a few seconds), its 401 makes the client re-read the file
  // and send the request again.
  await writeFile(tokenFile, third.token);
  await second.revoke();
  await eventually(async () => expect(await whoAmI(client)).toBe(third.username), {
    waitingFor: 'the revoked token refused and the rotated one read',
    timeoutMs: 60_000,
    intervalMs: 1_000,
  });
});

/**
 * An exec plugin (a Node script) that prints the ExecCredential in $CREDENTIAL, and appends its
 * KUBERNETES_EXEC_INFO to $RUNS_FILE, one line per run.
 */
async function execPlugin(): Promise<string> {
  const script = join(dir, `${uniqueName('plugin')}.mjs`);
  await writeFile(
    script,
    [
      `#!${process.execPath}`,
      "import { appendFileSync } from 'node:fs';",
      "appendFileSync(process.env.RUNS_FILE, process.env.KUBERNETES_EXEC_INFO + '\\n');",
      'process.stdout.write(process.env.CREDENTIAL);',
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  return script;
}

async function runs(file: string): Promise<{ spec: Record<string, unknown> }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { spec: Record<string, unknown> });
}

test('an exec plugin token is used until it expires, and the plugin learns it is not interactive', async () => {
  const account = await serviceAccountToken();
  const runsFile = join(dir, `${uniqueName('runs')}.log`);
  const clock = new FakeClock();
  const expiresAt = new Date(clock.now() + 5 * 60_000).toISOString();
  const path = await writeKubeconfig('exec-token', {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: await execPlugin(),
      interactiveMode: 'Never',
      provideClusterInfo: true,
      env: [
        { name: 'RUNS_FILE', value: runsFile },
        {
          name: 'CREDENTIAL',
          value: JSON.stringify({
            apiVersion: 'client.authentication.k8s.io/v1',
            kind: 'ExecCredential',
            status: { token: account.token, expirationTimestamp: expiresAt },
          }),
        },
      ],
    },
  });
  const client = createKubeClient(await loadKubeconfigFiles([path]), { clock });

  for (let i = 0; i < 3; i++) expect(await whoAmI(client)).toBe(account.username);
  expect(await runs(runsFile)).toEqual([
    {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: { server: admin.server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    },
  ]);

  clock.advance(5 * 60_000);
  expect(await whoAmI(client)).toBe(account.username);
  expect(await runs(runsFile)).toHaveLength(2);
});

test('an exec plugin client certificate', async () => {
  const { cert, key } = await adminCertificate();
  const runsFile = join(dir, `${uniqueName('runs')}.log`);
  const path = await writeKubeconfig('exec-cert', {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: await execPlugin(),
      env: [
        { name: 'RUNS_FILE', value: runsFile },
        {
          name: 'CREDENTIAL',
          value: JSON.stringify({
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            kind: 'ExecCredential',
            status: { clientCertificateData: cert, clientKeyData: key },
          }),
        },
      ],
    },
  });

  expect(await whoAmI(createKubeClient(await loadKubeconfigFiles([path])))).toBe('admin');
  expect(await runs(runsFile)).toEqual([
    { apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', spec: { interactive: false } },
  ]);
});

test('a missing exec plugin fails the request with its install hint', async () => {
  const path = await writeKubeconfig('exec-missing', {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: 'sgp-no-such-credential-plugin',
      installHint: 'install it from https://example.invalid/plugin',
    },
  });

  await expect(whoAmI(createKubeClient(await loadKubeconfigFiles([path])))).rejects.toThrow(
    'exec plugin sgp-no-such-credential-plugin was not found: install it from https://example.invalid/plugin',
  );
});

test('the in-cluster service account: server from the environment, token and CA from the mounted files', async () => {
  const first = await serviceAccountToken();
  const second = await serviceAccountToken();
  const mount = await mkdtemp(join(dir, 'serviceaccount-'));
  await writeFile(join(mount, 'ca.crt'), caPem);
  await writeFile(join(mount, 'token'), first.token);
  await writeFile(join(mount, 'namespace'), namespace);
  const url = new URL(admin.server);
  const access = await loadClusterAccess({
    kubeconfig: undefined,
    env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
    serviceAccountDir: mount,
  });
  expect({ source: access.source, server: access.server, namespace: access.namespace }).toEqual({
    source: 'in-cluster service account',
    server: admin.server,
    namespace,
  });
  const clock = new FakeClock();
  const client = createKubeClient(access, { clock });
  expect(await whoAmI(client)).toBe(first.username);

  // The kubelet rotates the projected token (an atomic rename of the mounted file).
  await writeFile(join(mount, 'token.new'), second.token);
  await rename(join(mount, 'token.new'), join(mount, 'token'));
  clock.advance(CREDENTIAL_FILE_REFRESH_MS);
  expect(await whoAmI(client)).toBe(second.username);
});
