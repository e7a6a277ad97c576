import { describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterAccessFromKubeconfig,
  inClusterAccess,
  KubeconfigError,
  loadClusterAccess,
  type KubeconfigDocument,
} from '../../../operator/framework/kubeconfig.ts';

const CLUSTER = { name: 'c', cluster: { server: 'https://api.example:6443/', 'certificate-authority': 'ca.crt' } };
const CONTEXT = { name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team' } };

function config(user: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { clusters: [CLUSTER], users: [{ name: 'u', user }], contexts: [CONTEXT], 'current-context': 'ctx', ...extra };
}

const at = (path: string, content: unknown): KubeconfigDocument => ({ path, content });

describe('clusterAccessFromKubeconfig', () => {
  test('a client certificate by file: paths relative to the kubeconfig, trailing slash dropped from the server', () => {
    const access = clusterAccessFromKubeconfig([
      at('/home/me/.kube/config', config({ 'client-certificate': 'me.crt', 'client-key': '/abs/me.key' })),
    ]);
    expect(access).toEqual({
      source: 'kubeconfig /home/me/.kube/config context "ctx"',
      server: 'https://api.example:6443',
      ca: { file: '/home/me/.kube/ca.crt' },
      insecureSkipTlsVerify: false,
      tlsServerName: undefined,
      token: undefined,
      clientCertificate: { file: '/home/me/.kube/me.crt' },
      clientKey: { file: '/abs/me.key' },
      exec: undefined,
      impersonate: undefined,
      namespace: 'team',
    });
  });

  test('inline data wins over a file, as in kubectl', () => {
    const access = clusterAccessFromKubeconfig([
      at(
        '/k/config',
        config({
          'client-certificate': 'ignored.crt',
          'client-certificate-data': Buffer.from('CERT').toString('base64'),
          'client-key-data': Buffer.from('KEY').toString('base64'),
        }),
      ),
    ]);
    expect([access.clientCertificate, access.clientKey]).toEqual([
      { pem: Buffer.from('CERT') },
      { pem: Buffer.from('KEY') },
    ]);
  });

  test.each([
    ['an inline token', { token: 'abc' }, { value: 'abc' }],
    ['a token file, relative to the kubeconfig', { tokenFile: 'token' }, { file: '/k/token' }],
    ['the inline token when both are set', { token: 'abc', tokenFile: 'token' }, { value: 'abc' }],
    ['no token', {}, undefined],
  ])('%s', (_name, user, token) => {
    expect(clusterAccessFromKubeconfig([at('/k/config', config(user))]).token).toEqual(token);
  });

  test('impersonation: user, uid, groups and extra', () => {
    const access = clusterAccessFromKubeconfig([
      at(
        '/k/config',
        config({ token: 't', as: 'jane', 'as-uid': '42', 'as-groups': ['a', 'b'], 'as-user-extra': { scopes: ['x'] } }),
      ),
    ]);
    expect(access.impersonate).toEqual({ user: 'jane', uid: '42', groups: ['a', 'b'], extra: { scopes: ['x'] } });
  });

  test('an exec plugin: a command with a slash is relative to the kubeconfig, cluster extension passed on', () => {
    const access = clusterAccessFromKubeconfig([
      at(
        '/k/config',
        config(
          {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: './bin/get-token',
              args: ['--cluster', 'c'],
              env: [{ name: 'AWS_PROFILE', value: 'ops' }],
              provideClusterInfo: true,
            },
          },
          {
            clusters: [
              {
                ...CLUSTER,
                cluster: {
                  ...CLUSTER.cluster,
                  extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'x' } }],
                },
              },
            ],
          },
        ),
      ),
    ]);
    expect(access.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: '/k/bin/get-token',
      args: ['--cluster', 'c'],
      env: [{ name: 'AWS_PROFILE', value: 'ops' }],
      installHint: undefined,
      provideClusterInfo: true,
      clusterConfig: { audience: 'x' },
    });
  });

  test('a bare exec command is left for the PATH lookup', () => {
    const access = clusterAccessFromKubeconfig([
      at('/k/config', config({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } })),
    ]);
    expect(access.exec?.command).toBe('aws');
  });

  test('merged files: the first current-context and the first definition of each name win, paths per file', () => {
    const access = clusterAccessFromKubeconfig([
      at('/first/config', { users: [{ name: 'u', user: { tokenFile: 'first-token' } }] }),
      at('/second/config', config({ tokenFile: 'second-token' }, { 'current-context': 'ctx' })),
      at('/third/config', { 'current-context': 'other', contexts: [{ name: 'other', context: { cluster: 'c' } }] }),
    ]);
    expect({ source: access.source, token: access.token, ca: access.ca }).toEqual({
      source: 'kubeconfig /second/config context "ctx"',
      token: { file: '/first/first-token' },
      ca: { file: '/second/ca.crt' },
    });
  });

  test.each([
    ['no current-context', { ...config({}), 'current-context': undefined }, 'sets no current-context'],
    ['an unknown context', { ...config({}), 'current-context': 'nope' }, 'current-context "nope" is not defined'],
    [
      'an unknown cluster',
      { ...config({}), clusters: [] },
      'context "ctx" names cluster "c", which no kubeconfig file defines',
    ],
    ['an unknown user', { ...config({}), users: [] }, 'names user "u", which no kubeconfig file defines'],
    ['no server', { ...config({}), clusters: [{ name: 'c', cluster: {} }] }, 'cluster "c" has no server'],
    [
      'a server that is not http(s)',
      { ...config({}), clusters: [{ name: 'c', cluster: { server: 'unix:///run/k8s.sock' } }] },
      'must be an https:// (or http://) URL',
    ],
    [
      'proxy-url',
      { ...config({}), clusters: [{ name: 'c', cluster: { server: 'https://a', 'proxy-url': 'http://proxy:3128' } }] },
      'sets proxy-url, which sgp-operator does not support',
    ],
    ['auth-provider', config({ 'auth-provider': { name: 'oidc' } }), "use the provider's exec plugin"],
    ['basic auth', config({ username: 'u', password: 'p' }), 'removed in Kubernetes 1.19'],
    [
      'a client certificate without its key',
      config({ 'client-certificate': 'me.crt' }),
      'sets a client certificate or a client key without the other',
    ],
    [
      'exec and a token',
      config({ token: 't', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x' } }),
      'sets both exec and a token',
    ],
    [
      'an exec version Kubernetes removed',
      config({ exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } }),
      'exec apiVersion "client.authentication.k8s.io/v1alpha1" is not supported',
    ],
    [
      'an interactive exec plugin',
      config({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', interactiveMode: 'Always' } }),
      'needs a terminal (interactiveMode: Always)',
    ],
    ['groups without a user to impersonate', config({ 'as-groups': ['g'] }), 'as-groups or as-user-extra without as'],
    ['a list that is not a list', { ...config({}), users: 'u' }, 'users is not a list'],
  ])('refuses %s, saying what to fix', (_name, content, message) => {
    const load = () => clusterAccessFromKubeconfig([at('/k/config', content)]);
    expect(load).toThrow(KubeconfigError);
    expect(load).toThrow(message);
  });
});

describe('inClusterAccess and loadClusterAccess', () => {
  test('the service account: server from the environment (IPv6 in brackets), CA and token files, namespace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sgp-sa-'));
    try {
      await writeFile(join(dir, 'token'), 'token');
      await writeFile(join(dir, 'namespace'), 'kube-system\n');
      const access = await inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
      expect(access).toEqual({
        source: 'in-cluster service account',
        server: 'https://[fd00::1]:443',
        ca: { file: join(dir, 'ca.crt') },
        insecureSkipTlsVerify: false,
        tlsServerName: undefined,
        token: { file: join(dir, 'token') },
        clientCertificate: undefined,
        clientKey: undefined,
        exec: undefined,
        impersonate: undefined,
        namespace: 'kube-system',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('in a pod without a mounted token: says how to fix it', async () => {
    await expect(
      loadClusterAccess({
        kubeconfig: undefined,
        env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
        serviceAccountDir: '/nonexistent',
      }),
    ).rejects.toThrow('/nonexistent/token does not exist; mount the service account token');
  });

  test('outside a pod with no kubeconfig anywhere: asks for --kubeconfig', async () => {
    await expect(loadClusterAccess({ kubeconfig: undefined, env: {}, homeDir: '/nonexistent' })).rejects.toThrow(
      'no API server to talk to',
    );
  });

  test('KUBECONFIG-style lists: files are merged, missing ones skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sgp-kubeconfig-'));
    try {
      await writeFile(join(dir, 'a'), 'users:\n- name: u\n  user:\n    token: from-a\n');
      await writeFile(join(dir, 'b'), JSON.stringify(config({ token: 'from-b' })));
      const access = await loadClusterAccess({
        kubeconfig: [join(dir, 'missing'), join(dir, 'a'), join(dir, 'b')].join(':'),
        env: {},
      });
      expect(access.token).toEqual({ value: 'from-a' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a kubeconfig that is not YAML names the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sgp-kubeconfig-'));
    try {
      await writeFile(join(dir, 'bad'), 'clusters: [unclosed');
      await expect(loadClusterAccess({ kubeconfig: join(dir, 'bad'), env: {} })).rejects.toThrow(
        `kubeconfig ${join(dir, 'bad')} is not valid YAML`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
