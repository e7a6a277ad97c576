/**
 * /metrics as `--metrics-secure` serves it, against the real API server: HTTPS with the operator's own
 * certificate, and every caller checked by TokenReview and SubjectAccessReview. The shipped ClusterRoles
 * (config/rbac/metrics_auth_role.yaml, metrics_reader_role.yaml) are applied under unique names; the
 * operator side authenticates with a real ServiceAccount token bound only to the auth role, so the role is
 * proved sufficient. A ServiceAccount bound to metrics-reader gets 200, one without it 403, no token 401.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1ClusterRole } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createDelegatedAuth, createKubeClient, systemClock } from '../../../operator/framework/index.ts';
import { metricsRoute, startHttpEndpoint, type HttpEndpoint } from '../../../operator/observability/http-server.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { registry } from '../../../operator/observability/metrics.ts';
import { createSelfSignedCertificateSource, type CertificateSource } from '../../../operator/webhook/index.ts';
import { createServiceAccount, eventually, kubeConfig, testNamespace, uniqueName } from '../harness/index.ts';

function shippedClusterRole(file: string): V1ClusterRole {
  const documents = parseAllDocuments(readFileSync(new URL(`../../../config/rbac/${file}`, import.meta.url), 'utf8'));
  const role = documents.map((document) => document.toJS() as V1ClusterRole).find((o) => o.kind === 'ClusterRole');
  if (!role) throw new Error(`no ClusterRole in config/rbac/${file}`);
  return role;
}

/** A ServiceAccount token from the TokenRequest API, as a projected volume would hold it. */
async function tokenOf(namespace: string, name: string): Promise<string> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const response = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  return response.status?.token ?? '';
}

function kubeConfigWithToken(token: string): KubeConfig {
  const admin = kubeConfig();
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the test kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'operator', token }],
    contexts: [{ name: 'operator', cluster: cluster.name, user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}

/** GET over HTTPS, verifying the server against the operator's own CA. */
function scrape(endpoint: HttpEndpoint, ca: readonly string[], token?: string) {
  const url = new URL(`${endpoint.url}/metrics`);
  return new Promise<{ status: number; body: string; authenticate: string | undefined }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        ca: [...ca],
        servername: 'localhost',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            authenticate: response.headers['www-authenticate'],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('/metrics with --metrics-secure', () => {
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const created: { roles: string[]; bindings: string[] } = { roles: [], bindings: [] };
  let namespace: string;
  let endpoint: HttpEndpoint;
  let certificates: CertificateSource;
  const rotation = new AbortController();

  async function bind(role: V1ClusterRole, serviceAccount: string): Promise<void> {
    const name = uniqueName(role.metadata?.name ?? 'role');
    await rbac.createClusterRole({ body: { ...role, metadata: { ...role.metadata, name } } });
    created.roles.push(name);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
      },
    });
    created.bindings.push(name);
  }

  beforeAll(async () => {
    namespace = await testNamespace('metrics-auth');
    await Promise.all(['operator', 'prometheus', 'stranger'].map((name) => createServiceAccount(namespace, name)));
    await bind(shippedClusterRole('metrics_auth_role.yaml'), 'operator');
    await bind(shippedClusterRole('metrics_reader_role.yaml'), 'prometheus');
    const asOperator = createKubeClient(kubeConfigWithToken(await tokenOf(namespace, 'operator')));
    certificates = createSelfSignedCertificateSource({
      hosts: ['localhost', '127.0.0.1'],
      identity: 'metrics-auth-test',
      purpose: 'metrics',
      clock: systemClock,
      log: silentLogger,
    });
    void certificates.run(rotation.signal);
    endpoint = await startHttpEndpoint(
      'metrics',
      { host: '127.0.0.1', port: 0 },
      [metricsRoute(registry, silentLogger, createDelegatedAuth({ client: asOperator, clock: systemClock }))],
      silentLogger,
      certificates,
    );
  });

  afterAll(async () => {
    rotation.abort();
    await endpoint?.close();
    await Promise.allSettled([
      ...created.bindings.map((name) => rbac.deleteClusterRoleBinding({ name })),
      ...created.roles.map((name) => rbac.deleteClusterRole({ name })),
    ]);
  });

  test('a ServiceAccount bound to metrics-reader gets 200 and the metrics, over HTTPS verified against the operator CA', async () => {
    const token = await tokenOf(namespace, 'prometheus');
    // The RBAC authorizer sees the new binding through its informer: wait for it rather than assume it.
    const response = await eventually(
      async () => {
        const answer = await scrape(endpoint, certificates.caCertificates() ?? [], token);
        expect(answer.status).toBe(200);
        return answer;
      },
      { waitingFor: 'the metrics-reader binding to admit the prometheus ServiceAccount' },
    );
    expect(endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(response.body).toMatch(/^sgp_build_info\{/m);
  });

  test('a ServiceAccount without the role gets 403 naming it and the role to bind', async () => {
    const response = await scrape(endpoint, certificates.caCertificates() ?? [], await tokenOf(namespace, 'stranger'));
    expect([response.status, response.authenticate]).toEqual([403, undefined]);
    expect(response.body).toContain(
      `system:serviceaccount:${namespace}:stranger may not get /metrics: bind it to the metrics-reader ClusterRole`,
    );
    expect(response.body).not.toContain('sgp_');
  });

  test('no token, or one the API server does not accept, gets 401 with a Bearer challenge', async () => {
    const ca = certificates.caCertificates() ?? [];
    const [missing, forged] = await Promise.all([scrape(endpoint, ca), scrape(endpoint, ca, 'not-a-real-token')]);
    expect([missing.status, missing.authenticate, forged.status, forged.authenticate]).toEqual([
      401,
      'Bearer realm="sgp-operator metrics"',
      401,
      'Bearer realm="sgp-operator metrics"',
    ]);
    expect(forged.body).toBe('the API server did not accept the bearer token\n');
  });
});
