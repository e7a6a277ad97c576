import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../operator/framework/clock.ts';
import {
  ClusterCredentials,
  CREDENTIAL_FILE_REFRESH_MS,
  EXEC_CREDENTIAL_RENEW_BEFORE_MS,
} from '../../../operator/framework/credentials.ts';
import {
  execInfo,
  ExecPluginError,
  parseExecCredential,
  type ExecCredential,
} from '../../../operator/framework/exec-plugin.ts';
import type { ClusterAccess, ExecPluginConfig } from '../../../operator/framework/kubeconfig.ts';

const PLUGIN: ExecPluginConfig = {
  apiVersion: 'client.authentication.k8s.io/v1',
  command: 'get-token',
  args: [],
  env: [],
  installHint: undefined,
  provideClusterInfo: false,
  clusterConfig: undefined,
};

const ACCESS: ClusterAccess = {
  source: 'test',
  server: 'https://api.example:6443',
  ca: undefined,
  insecureSkipTlsVerify: false,
  tlsServerName: undefined,
  token: undefined,
  clientCertificate: undefined,
  clientKey: undefined,
  exec: undefined,
  impersonate: undefined,
  namespace: undefined,
};

const credential = (status: Record<string, unknown>, apiVersion = PLUGIN.apiVersion) =>
  JSON.stringify({ apiVersion, kind: 'ExecCredential', status });

describe('parseExecCredential', () => {
  test('a token with its expiry', () => {
    expect(
      parseExecCredential(credential({ token: 't', expirationTimestamp: '2026-01-01T00:10:00Z' }), PLUGIN),
    ).toEqual({
      token: 't',
      clientCertificate: undefined,
      clientKey: undefined,
      expiresAtMs: Date.UTC(2026, 0, 1, 0, 10),
    });
  });

  test('a client certificate without expiry', () => {
    expect(parseExecCredential(credential({ clientCertificateData: 'C', clientKeyData: 'K' }), PLUGIN)).toEqual({
      token: undefined,
      clientCertificate: Buffer.from('C'),
      clientKey: Buffer.from('K'),
      expiresAtMs: undefined,
    });
  });

  test.each([
    ['no JSON', 'Please log in', 'printed no ExecCredential JSON'],
    [
      'another version',
      credential({ token: 't' }, 'client.authentication.k8s.io/v1beta1'),
      'returned ExecCredential client.authentication.k8s.io/v1beta1; the kubeconfig asks for ExecCredential client.authentication.k8s.io/v1',
    ],
    ['nothing usable', credential({}), 'returned neither a token nor a client certificate'],
    ['a certificate without its key', credential({ clientCertificateData: 'C' }), 'without the other'],
    ['a bad expiry', credential({ token: 't', expirationTimestamp: 'soon' }), 'is not a time'],
  ])('refuses %s, naming the plugin', (_name, stdout, message) => {
    expect(() => parseExecCredential(stdout, PLUGIN)).toThrow(ExecPluginError);
    expect(() => parseExecCredential(stdout, PLUGIN)).toThrow(`exec plugin get-token`);
    expect(() => parseExecCredential(stdout, PLUGIN)).toThrow(message);
  });
});

describe('execInfo', () => {
  test('without provideClusterInfo: only that nobody is at a terminal', () => {
    expect(JSON.parse(execInfo(PLUGIN, { ...ACCESS, caPem: 'CA' }))).toEqual({
      apiVersion: PLUGIN.apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  test('with provideClusterInfo: the server, CA, TLS name and the cluster extension', () => {
    const info = execInfo(
      { ...PLUGIN, provideClusterInfo: true, clusterConfig: { audience: 'a' } },
      { ...ACCESS, tlsServerName: 'kubernetes', caPem: 'CA' },
    );
    expect(JSON.parse(info)).toEqual({
      apiVersion: PLUGIN.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: ACCESS.server,
          'tls-server-name': 'kubernetes',
          'certificate-authority-data': Buffer.from('CA').toString('base64'),
          config: { audience: 'a' },
        },
      },
    });
  });
});

describe('ClusterCredentials', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgp-credentials-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('impersonation headers', async () => {
    const credentials = new ClusterCredentials(
      {
        ...ACCESS,
        token: { value: 't' },
        impersonate: { user: 'jane', uid: '42', groups: ['a', 'b'], extra: { 'acme.io/team': ['x'] } },
      },
      { clock: new FakeClock(), env: {} },
    );
    expect((await credentials.forRequest()).headers).toEqual({
      Authorization: 'Bearer t',
      'Impersonate-User': 'jane',
      'Impersonate-Uid': '42',
      'Impersonate-Group': ['a', 'b'],
      'Impersonate-Extra-acme.io%2Fteam': ['x'],
    });
  });

  test('a token file is read once a minute, or at once after the server refused the token', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'one\n');
    const clock = new FakeClock();
    const credentials = new ClusterCredentials({ ...ACCESS, token: { file } }, { clock, env: {} });
    const bearer = async () => (await credentials.forRequest()).headers.Authorization;
    expect(await bearer()).toBe('Bearer one');
    await writeFile(file, 'two');
    clock.advance(CREDENTIAL_FILE_REFRESH_MS - 1);
    expect(await bearer()).toBe('Bearer one');
    clock.advance(1);
    expect(await bearer()).toBe('Bearer two');
    await writeFile(file, 'three');
    expect(credentials.rejected()).toBe(true);
    expect(await bearer()).toBe('Bearer three');
  });

  test('an inline token cannot change: a refusal is not worth a retry', async () => {
    const credentials = new ClusterCredentials(
      { ...ACCESS, token: { value: 't' } },
      { clock: new FakeClock(), env: {} },
    );
    await credentials.forRequest();
    expect(credentials.rejected()).toBe(false);
  });

  test('the TLS identity changes only when the bytes of the TLS material do', async () => {
    const ca = join(dir, 'ca.crt');
    await writeFile(ca, 'CA1');
    const clock = new FakeClock();
    const credentials = new ClusterCredentials({ ...ACCESS, ca: { file: ca } }, { clock, env: {} });
    const first = (await credentials.forRequest()).tlsIdentity;
    clock.advance(CREDENTIAL_FILE_REFRESH_MS);
    expect((await credentials.forRequest()).tlsIdentity).toBe(first);
    await writeFile(ca, 'CA2');
    clock.advance(CREDENTIAL_FILE_REFRESH_MS);
    const rotated = await credentials.forRequest();
    expect(rotated.tlsIdentity).not.toBe(first);
    expect(rotated.tls.ca).toEqual(Buffer.from('CA2'));
  });

  test('an exec credential is reused until shortly before it expires, and one run serves concurrent requests', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const runPlugin = (): Promise<ExecCredential> => {
      runs += 1;
      return Promise.resolve({
        token: `token-${runs}`,
        clientCertificate: undefined,
        clientKey: undefined,
        expiresAtMs: clock.now() + 60_000,
      });
    };
    const credentials = new ClusterCredentials({ ...ACCESS, exec: PLUGIN }, { clock, env: {}, runPlugin });
    const bearer = async () => (await credentials.forRequest()).headers.Authorization;
    expect(await Promise.all([bearer(), bearer(), bearer()])).toEqual(Array(3).fill('Bearer token-1'));
    clock.advance(60_000 - EXEC_CREDENTIAL_RENEW_BEFORE_MS - 1);
    expect(await bearer()).toBe('Bearer token-1');
    clock.advance(1);
    expect(await bearer()).toBe('Bearer token-2');
    expect(credentials.rejected()).toBe(true);
    expect(await bearer()).toBe('Bearer token-3');
    expect(runs).toBe(3);
  });

  test('a failed plugin run is not cached: the next request runs it again', async () => {
    let runs = 0;
    const runPlugin = (): Promise<ExecCredential> => {
      runs += 1;
      if (runs === 1) return Promise.reject(new ExecPluginError('exec plugin get-token exited with 1'));
      return Promise.resolve({
        token: 'ok',
        clientCertificate: undefined,
        clientKey: undefined,
        expiresAtMs: undefined,
      });
    };
    const credentials = new ClusterCredentials(
      { ...ACCESS, exec: PLUGIN },
      { clock: new FakeClock(), env: {}, runPlugin },
    );
    await expect(credentials.forRequest()).rejects.toThrow('exited with 1');
    expect((await credentials.forRequest()).headers.Authorization).toBe('Bearer ok');
  });
});
