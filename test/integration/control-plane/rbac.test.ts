/**
 * The shipped RBAC, enforced by the real apiserver (RBAC authorizer, ValidatingAdmissionPolicy). The
 * ServiceAccount, roles, bindings and the namespace-label guard are rendered from config/default exactly as
 * `kubectl apply -k` would and applied for real; then the operator's own client and leader elector make the
 * calls the controllers make, impersonating that ServiceAccount. Each allowed call must work and each
 * forbidden one must be refused, so a controller that starts needing a new verb, or a role that grows one,
 * fails here rather than in a cluster.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

import { POLICY_NAMESPACE_LABEL } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import { namespaceLabelPatch } from '../../../operator/controllers/securitygrouppolicy/namespace-label.ts';
import { systemClock } from '../../../operator/framework/clock.ts';
import { createKubeClient } from '../../../operator/framework/client.ts';
import { KubeApiError } from '../../../operator/framework/errors.ts';
import { createEventRecorder } from '../../../operator/framework/events.ts';
import { LeaderElector } from '../../../operator/framework/leader-election.ts';
import type { KubeClient, KubeObject, ResourceKind } from '../../../operator/framework/types.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { createPod, eventually, kubeConfig, testNamespace, uniqueName } from '../harness/index.ts';

const run = promisify(execFile);

/** Where config/default installs the operator, and the user name its ServiceAccount token carries. */
const INSTALL_NAMESPACE = 'sgp-system';
const SERVICE_ACCOUNT = 'sgp-operator-controller-manager';
const OPERATOR_USER = `system:serviceaccount:${INSTALL_NAMESPACE}:${SERVICE_ACCOUNT}`;
/** The operator's default --leader-election-id. */
const LEASE_NAME = 'sgp-operator';
const LEASE_KIND: ResourceKind = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

/** The kinds of config/default this test applies: identity, authorization, and the admission guard. */
const RBAC_KINDS = new Set([
  'ServiceAccount',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

let manifestPath: string;
/** The operator's KubeClient, authenticated as the admin but impersonating the shipped ServiceAccount. */
let asOperator: KubeClient;
let core: CoreV1Api;

function impersonating(user: string): KubeConfig {
  const admin = kubeConfig();
  const context = admin.getContextObject(admin.getCurrentContext());
  const cluster = admin.getCurrentCluster();
  const adminUser = admin.getCurrentUser();
  if (!context || !cluster || !adminUser) throw new Error('the test kubeconfig has no current context');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ ...adminUser, name: 'operator', impersonateUser: user }],
    contexts: [{ name: 'operator', cluster: cluster.name, user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}

/** The HTTP status a call failed with; fails the test when the call succeeded. */
async function refusal(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    if (error instanceof KubeApiError) return error.statusCode;
    throw error;
  }
  throw new Error('the call succeeded but should have been refused');
}

async function ensureNamespace(name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
}

beforeAll(async () => {
  core = kubeConfig().makeApiClient(CoreV1Api);
  const { stdout } = await run('kubectl', ['kustomize', 'config/default'], { maxBuffer: 64 * 1024 * 1024 });
  const documents = parseAllDocuments(stdout)
    .map((document) => document.toJSON() as KubeObject)
    .filter((object) => RBAC_KINDS.has(object.kind ?? ''));
  manifestPath = join(mkdtempSync(join(tmpdir(), 'sgp-rbac-')), 'rbac.json');
  writeFileSync(manifestPath, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: documents }));
  await ensureNamespace(INSTALL_NAMESPACE);
  await run('kubectl', ['apply', '-f', manifestPath]);
  asOperator = createKubeClient(impersonating(OPERATOR_USER));
  // The authorizer and the policy plugin see new objects through their informers: wait until both apply.
  await eventually(
    async () => {
      await asOperator.list(Kinds.BranchInterface, {});
    },
    { waitingFor: 'the operator ServiceAccount to be allowed to list BranchInterfaces' },
  );
}, 60_000);

afterAll(async () => {
  // Cluster-scoped grants and the guard go; the install namespace stays (config.test.ts uses it too).
  if (manifestPath) await run('kubectl', ['delete', '-f', manifestPath, '--ignore-not-found', '--wait=false']);
});

describe('the shipped RBAC, as the operator ServiceAccount', () => {
  test('strict mode deletes the pod it names (with its UID precondition)', async () => {
    const namespace = await testNamespace('rbac-strict');
    const pod = await createPod(namespace, 'no-pod-eni');

    await asOperator.delete(Kinds.Pod, `${namespace}/no-pod-eni`, { uid: pod.metadata?.uid ?? '' });

    await expect(asOperator.get(Kinds.Pod, `${namespace}/no-pod-eni`)).resolves.toBeUndefined();
  });

  test('the namespace label: set and removed by the operator; any other change refused by the guard', async () => {
    // The policy plugin sees the new policy through its informer. Until it does, a patch goes through, so
    // wait on a namespace of its own, with a new value each attempt (a repeated value is a no-op to the guard).
    const probe = await testNamespace('rbac-label-probe');
    let attempt = 0;
    await eventually(
      async () => {
        const patch = { metadata: { labels: { team: `probe-${attempt++}` } } };
        expect(await refusal(asOperator.mergePatch(Kinds.Namespace, probe, patch))).toBe(403);
      },
      { waitingFor: 'the namespace-label guard to refuse the operator another label' },
    );
    const namespace = await testNamespace('rbac-label');
    const labelled = namespaceLabelPatch(undefined, true);

    await asOperator.mergePatch(Kinds.Namespace, namespace, labelled ?? {});
    const read = async () => (await core.readNamespace({ name: namespace })).metadata;
    expect((await read())?.labels?.[POLICY_NAMESPACE_LABEL]).toBe('true');

    const forbidden = [
      { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
      { metadata: { labels: { [POLICY_NAMESPACE_LABEL]: 'false' } } },
      { metadata: { annotations: { note: 'set by the operator' } } },
      { metadata: { labels: { [POLICY_NAMESPACE_LABEL]: null, 'sgp-operator.io/test-namespace': null } } },
    ];
    for (const patch of forbidden) {
      expect(await refusal(asOperator.mergePatch(Kinds.Namespace, namespace, patch))).toBe(403);
    }
    // The refused patches left the namespace as the operator's own patch made it.
    expect((await read())?.labels).toEqual({
      'kubernetes.io/metadata.name': namespace,
      'sgp-operator.io/test-namespace': 'true',
      [POLICY_NAMESPACE_LABEL]: 'true',
    });
    expect((await read())?.annotations).toBeUndefined();

    await asOperator.mergePatch(
      Kinds.Namespace,
      namespace,
      namespaceLabelPatch(await read().then((m) => m?.labels), false) ?? {},
    );
    expect((await read())?.labels?.[POLICY_NAMESPACE_LABEL]).toBeUndefined();

    // The guard is the operator's alone: an admin still changes any label.
    await createKubeClient(kubeConfig()).mergePatch(Kinds.Namespace, namespace, {
      metadata: { labels: { team: 'x' } },
    });
    expect((await read())?.labels?.team).toBe('x');
  });

  test('leader election on the Lease it is granted: create, renew, release; other Leases and deletes refused', async () => {
    const lease = `${INSTALL_NAMESPACE}/${LEASE_NAME}`;
    const admin = createKubeClient(kubeConfig());
    await admin.delete(LEASE_KIND, lease);
    const elector = new LeaderElector(
      { namespace: INSTALL_NAMESPACE, name: LEASE_NAME, identity: uniqueName('rbac-test') },
      { client: asOperator, clock: systemClock, log: silentLogger },
    );
    const stop = new AbortController();
    try {
      await expect(elector.acquire(stop.signal)).resolves.toBe(true);
      await elector.release();
      const released = await asOperator.get<KubeObject & { spec?: { holderIdentity?: string } }>(LEASE_KIND, lease);
      expect(released?.spec?.holderIdentity ?? '').toBe('');
      // A second acquire takes the existing Lease over by patch (no create).
      await expect(elector.acquire(stop.signal)).resolves.toBe(true);
    } finally {
      stop.abort();
      await elector.release();
    }

    const other = `${INSTALL_NAMESPACE}/not-${LEASE_NAME}`;
    await admin
      .create(LEASE_KIND, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: `not-${LEASE_NAME}`, namespace: INSTALL_NAMESPACE },
        spec: { holderIdentity: 'someone-else' },
      })
      .catch((error: unknown) => {
        if (!(error instanceof KubeApiError && error.statusCode === 409)) throw error;
      });
    expect(await refusal(asOperator.get(LEASE_KIND, other))).toBe(403);
    expect(await refusal(asOperator.mergePatch(LEASE_KIND, other, { spec: { holderIdentity: 'operator' } }))).toBe(403);
    expect(await refusal(asOperator.delete(LEASE_KIND, other))).toBe(403);
    expect(await refusal(asOperator.delete(LEASE_KIND, lease))).toBe(403);
    expect(await refusal(asOperator.list(LEASE_KIND, { namespace: INSTALL_NAMESPACE }))).toBe(403);
    // Leases elsewhere are not the operator's at all.
    expect(await refusal(asOperator.get(LEASE_KIND, `kube-system/${LEASE_NAME}`))).toBe(403);
  });

  test('events on pods are written (the recorder swallows failures, so the event is read back)', async () => {
    const namespace = await testNamespace('rbac-events');
    const pod = await createPod(namespace, 'web-0');
    const recorder = createEventRecorder({ client: asOperator, log: silentLogger });
    recorder.event(pod as KubeObject, 'Warning', 'SecurityGroupQuotaExceeded', 'rbac test event');
    await recorder.flush();

    const events = await core.listNamespacedEvent({ namespace });
    expect(events.items.map((event) => [event.reason, event.message, event.involvedObject.uid])).toEqual([
      ['SecurityGroupQuotaExceeded', 'rbac test event', pod.metadata?.uid],
    ]);
  });

  test('CNINode lifecycle: create, patch, delete', async () => {
    const name = uniqueName('ip-10-0-0-1.rbac');
    await asOperator.create(Kinds.CNINode, {
      apiVersion: 'vpcresources.k8s.aws/v1alpha1',
      kind: 'CNINode',
      metadata: { name },
      spec: { features: [{ name: 'SecurityGroupsForPods' }] },
    });
    await asOperator.mergePatch(Kinds.CNINode, name, { metadata: { labels: { 'rbac-test': 'true' } } });
    await asOperator.delete(Kinds.CNINode, name);
    await expect(asOperator.get(Kinds.CNINode, name)).resolves.toBeUndefined();
  });

  test('what the informers and controllers need, as the authorizer answers it; and nothing more', async () => {
    const review = kubeConfig().makeApiClient(AuthorizationV1Api);
    const allowed = async (attributes: {
      verb: string;
      group?: string;
      resource: string;
      subresource?: string;
      namespace?: string;
      name?: string;
    }) =>
      (
        await review.createSubjectAccessReview({
          body: { spec: { user: OPERATOR_USER, resourceAttributes: { ...attributes, group: attributes.group ?? '' } } },
        })
      ).status?.allowed ?? false;

    const cases: [string, Parameters<typeof allowed>[0], boolean][] = [
      ['watch pods everywhere', { verb: 'watch', resource: 'pods' }, true],
      ['list pods everywhere (the sweeper reads owners by UID)', { verb: 'list', resource: 'pods' }, true],
      ['patch pods (the pod-eni annotation)', { verb: 'patch', resource: 'pods', namespace: 'shop' }, true],
      ['delete pods (strict mode)', { verb: 'delete', resource: 'pods', namespace: 'shop' }, true],
      ['patch node status (capacity)', { verb: 'patch', resource: 'nodes', subresource: 'status', name: 'n1' }, true],
      ['watch namespaces', { verb: 'watch', resource: 'namespaces' }, true],
      ['watch serviceaccounts', { verb: 'watch', resource: 'serviceaccounts' }, true],
      [
        'watch securitygrouppolicies',
        { verb: 'watch', group: 'vpcresources.k8s.aws', resource: 'securitygrouppolicies' },
        true,
      ],
      [
        'patch securitygrouppolicy status',
        {
          verb: 'patch',
          group: 'vpcresources.k8s.aws',
          resource: 'securitygrouppolicies',
          subresource: 'status',
          namespace: 'shop',
        },
        true,
      ],
      ['watch cninodes', { verb: 'watch', group: 'vpcresources.k8s.aws', resource: 'cninodes' }, true],
      [
        'patch cninode status (nodeNetworkState)',
        { verb: 'patch', group: 'vpcresources.k8s.aws', resource: 'cninodes', subresource: 'status', name: 'n1' },
        true,
      ],
      ['watch eniconfigs', { verb: 'watch', group: 'crd.k8s.amazonaws.com', resource: 'eniconfigs' }, true],
      [
        'but never write one',
        { verb: 'update', group: 'crd.k8s.amazonaws.com', resource: 'eniconfigs', name: 'a' },
        false,
      ],
      [
        'get the aws-node DaemonSet (how the VPC CNI runs)',
        { verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'aws-node' },
        true,
      ],
      [
        'but no other DaemonSet',
        { verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'kube-proxy' },
        false,
      ],
      [
        'create branchinterfaces',
        { verb: 'create', group: 'trunking.sgp-operator.io', resource: 'branchinterfaces', namespace: 'shop' },
        true,
      ],
      [
        'patch trunkinterface status',
        {
          verb: 'patch',
          group: 'trunking.sgp-operator.io',
          resource: 'trunkinterfaces',
          subresource: 'status',
          name: 'n1',
        },
        true,
      ],
      [
        'watch the cooldown ConfigMap',
        { verb: 'watch', resource: 'configmaps', namespace: 'kube-system', name: 'amazon-vpc-cni' },
        true,
      ],
      [
        'watch the limits ConfigMap',
        { verb: 'watch', resource: 'configmaps', namespace: INSTALL_NAMESPACE, name: 'sgp-operator-config' },
        true,
      ],
      [
        'patch its webhook configuration',
        {
          verb: 'patch',
          group: 'admissionregistration.k8s.io',
          resource: 'mutatingwebhookconfigurations',
          name: 'sgp-operator-mutating-webhook',
        },
        true,
      ],
      [
        'watch securitygroupgrants',
        { verb: 'watch', group: 'trunking.sgp-operator.io', resource: 'securitygroupgrants' },
        true,
      ],
      [
        'patch securitygroupgrant status (resolved tag groups)',
        {
          verb: 'patch',
          group: 'trunking.sgp-operator.io',
          resource: 'securitygroupgrants',
          subresource: 'status',
          name: 'payments-data',
        },
        true,
      ],
      // Refused: the verbs and objects the operator has no business with.
      [
        'write SecurityGroupGrants (cluster admins decide them)',
        { verb: 'update', group: 'trunking.sgp-operator.io', resource: 'securitygroupgrants', name: 'payments-data' },
        false,
      ],
      ['read Secrets', { verb: 'get', resource: 'secrets', namespace: 'kube-system' }, false],
      ['create pods', { verb: 'create', resource: 'pods', namespace: 'shop' }, false],
      ['delete namespaces', { verb: 'delete', resource: 'namespaces', name: 'shop' }, false],
      [
        'write SecurityGroupPolicies',
        { verb: 'update', group: 'vpcresources.k8s.aws', resource: 'securitygrouppolicies', namespace: 'shop' },
        false,
      ],
      [
        'read other ConfigMaps in kube-system',
        { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kubeadm-config' },
        false,
      ],
      [
        'patch another webhook configuration',
        {
          verb: 'patch',
          group: 'admissionregistration.k8s.io',
          resource: 'validatingwebhookconfigurations',
          name: 'someone-elses',
        },
        false,
      ],
      [
        'create Leases outside its namespace',
        { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' },
        false,
      ],
    ];
    const answers = await Promise.all(cases.map(async ([name, attributes]) => [name, await allowed(attributes)]));
    expect(answers).toEqual(cases.map(([name, , expected]) => [name, expected]));
  });
});
