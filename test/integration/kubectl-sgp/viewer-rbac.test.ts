/**
 * The read-only RBAC shipped for `kubectl sgp` users (config/rbac/kubectl_sgp_viewer_role.yaml), enforced by a
 * real kube-apiserver: the ClusterRole and the Role are rendered from config/default exactly as
 * `kubectl apply -k` would and applied, then bound to a user who holds nothing else; that user (impersonated
 * through its kubeconfig, as `kubectl --as` does) runs the plugin. Without a binding the plugin is refused; with
 * the ClusterRole it answers, saying the operator's settings were not readable; with the Role as well it answers
 * in full, and still may not write, watch, read Secrets or read ConfigMaps outside the operator's namespace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import type { NodeExplanation } from '../../../kubectl-sgp/explain/nodes.ts';
import type { PodExplanation } from '../../../kubectl-sgp/explain/pod.ts';
import type { PolicyPreview } from '../../../kubectl-sgp/explain/preview.ts';
import { INSTALL_NAMESPACE } from '../../../kubectl-sgp/operator-settings.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { createTestPod, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from '../pods/fixture.ts';
import { createOperatorDeployment, runSgp, sgpJson } from './helpers.ts';

const run = promisify(execFile);

/** The roles' name once config/default's prefix is applied. */
const VIEWER_ROLE = 'sgp-operator-kubectl-sgp-viewer';
const ANNOTATIONS_ALLOWED = 'trunking.sgp-operator.io/allow-security-group-annotations';

let world: PodWorld;
let node: string;
let directory: string;

beforeAll(async () => {
  world = await startPodWorld((groups) => ({
    enableSecurityGroupAnnotations: true,
    securityGroupAnnotationAllowList: [groups['cache-access'] ?? ''],
  }));
  node = await world.addManagedNode('viewer');
  directory = mkdtempSync(join(tmpdir(), 'sgp-viewer-'));

  // The install namespace, the operator's Deployment (its flags are what the Role lets the plugin read) and the
  // two viewer roles from config/default.
  await world.client.create(Kinds.Namespace, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: INSTALL_NAMESPACE },
  } as KubeObject);
  await createOperatorDeployment(world.client, INSTALL_NAMESPACE, [group('cache-access')]);
  const { stdout } = await run('kubectl', ['kustomize', 'config/default'], { maxBuffer: 64 * 1024 * 1024 });
  const roles = parseAllDocuments(stdout)
    .map((document) => document.toJSON() as KubeObject)
    .filter((object) => ['ClusterRole', 'Role'].includes(object.kind ?? '') && object.metadata.name === VIEWER_ROLE);
  expect(roles.map((role) => [role.kind, role.metadata.namespace])).toEqual([
    ['Role', INSTALL_NAMESPACE],
    ['ClusterRole', undefined],
  ]);
  const manifest = join(directory, 'roles.json');
  writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: roles }));
  await kubectl(['apply', '-f', manifest]);
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

function group(name: string): string {
  const id = world.groups[name];
  if (!id) throw new Error(`no seeded group ${name}`);
  return id;
}

function kubectl(args: readonly string[]): Promise<{ stdout: string }> {
  return run('kubectl', [...args, '--kubeconfig', world.plane.kubeconfigPath]);
}

/** A kubeconfig with the admin's credentials that acts as `user` (kubeconfig `as`, the Impersonate-User header). */
function kubeconfigAs(user: string): string {
  const config = parseYaml(readFileSync(world.plane.kubeconfigPath, 'utf8')) as {
    users: { user: Record<string, unknown> }[];
  };
  for (const entry of config.users) entry.user['as'] = user;
  const path = join(directory, `${user}.kubeconfig`);
  writeFileSync(path, stringifyYaml(config), { mode: 0o600 });
  return path;
}

/** `kubectl auth can-i` for `user`: true for "yes" (exit 0), false for "no" (exit 1). */
async function can(user: string, args: readonly string[]): Promise<boolean> {
  try {
    await kubectl(['auth', 'can-i', ...args, '--as', user]);
    return true;
  } catch (error) {
    const { code, stdout } = error as { code?: number; stdout?: string };
    if (code === 1 && stdout?.trim() === 'no') return false;
    throw error;
  }
}

describe('config/rbac kubectl-sgp-viewer, bound to a user with nothing else', () => {
  test('refused without it; with the ClusterRole an answer without the operator settings; with the Role the whole answer', async () => {
    const ns = await world.namespace('viewer');
    await world.client.mergePatch(Kinds.Namespace, ns, { metadata: { labels: { [ANNOTATIONS_ALLOWED]: 'true' } } });
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'db', [group('rds-access')], { podSelector: { matchLabels: { app: 'api' } } }),
    );
    await createTestPod(world.client, ns, 'api-0', {
      nodeName: node,
      labels: { app: 'api' },
      annotations: { 'vpc.amazonaws.com/security-groups': group('cache-access') },
    });
    await waitAnnotated(world.client, ns, 'api-0');
    const user = uniqueName('sgp-viewer');
    const kubeconfig = kubeconfigAs(user);

    // Nothing bound: the pod itself is refused, and the plugin says so.
    const refused = await runSgp(kubeconfig, ['why', 'pod/api-0', '-n', ns]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('forbidden');

    // The ClusterRole: every object of the answer, but not the operator's Deployment, so the annotation is
    // judged as off and the notes say why.
    await kubectl(['create', 'clusterrolebinding', uniqueName('viewer'), '--clusterrole', VIEWER_ROLE, '--user', user]);
    const partial = await eventually(
      async () => {
        const x = await sgpJson<PodExplanation>(kubeconfig, ['why', 'pod/api-0', '-n', ns]);
        expect(x.branch?.phase).toBe('Ready');
        return x;
      },
      { waitingFor: 'the ClusterRoleBinding to take effect' },
    );
    expect(partial.notes).toEqual([
      "the operator's --enable-security-group-annotations setting could not be read; judged as off (the default)",
      `operator settings: no Deployment labelled app.kubernetes.io/name=sgp-operator in namespace ${INSTALL_NAMESPACE} (--operator-namespace names the operator's)`,
      'deployments: not allowed to read them; what depends on them is left out',
    ]);
    expect(partial.groups.securityGroups).toEqual([group('rds-access')]);

    // The Role in the operator's namespace as well: the whole answer, nothing refused.
    await kubectl(
      ['create', 'rolebinding', uniqueName('viewer'), '-n', INSTALL_NAMESPACE, '--role', VIEWER_ROLE].concat([
        '--user',
        user,
      ]),
    );
    const whole = await eventually(
      async () => {
        const x = await sgpJson<PodExplanation>(kubeconfig, ['why', 'pod/api-0', '-n', ns]);
        expect(x.notes).toEqual([]);
        return x;
      },
      { waitingFor: 'the RoleBinding to take effect' },
    );
    expect(whole.verdict).toBe('ok');
    expect(whole.groups).toEqual({
      securityGroups: [group('cache-access'), group('rds-access')].sort(),
      sources: ['db', 'annotation:Pod'],
    });
    expect(whole.policies.map((policy) => [policy.name, policy.selects])).toEqual([['db', true]]);
    expect(whole.node).toMatchObject({ name: node, managed: true, trunk: { state: 'Ready' } });
    expect(whole.events.map((event) => event.reason)).toContain('ResourceAllocated');
    // Named explicitly, the operator's namespace gives the same verdict; another namespace has no operator.
    const named = await sgpJson<PodExplanation>(kubeconfig, [
      'why',
      'pod/api-0',
      '-n',
      ns,
      '--operator-namespace',
      INSTALL_NAMESPACE,
    ]);
    expect(named.groups).toEqual(whole.groups);
    const elsewhere = await sgpJson<PodExplanation>(kubeconfig, [
      'why',
      'pod/api-0',
      '-n',
      ns,
      '--operator-namespace',
      ns,
    ]);
    expect(elsewhere.notes).toContain('deployments: not allowed to read them; what depends on them is left out');

    const nodes = await sgpJson<{ items: NodeExplanation[]; notes: string[] }>(kubeconfig, ['nodes']);
    expect(nodes.notes).toEqual([]);
    expect(nodes.items.find((item) => item.name === node)).toMatchObject({
      eligible: true,
      trunk: { state: 'Ready' },
      usage: { capacity: 9, inUse: 1 },
    });

    const policyFile = join(directory, 'cache.yaml');
    writeFileSync(
      policyFile,
      stringifyYaml(testPolicy(ns, 'cache', [group('payments')], { podSelector: { matchLabels: { app: 'api' } } })),
    );
    const preview = await sgpJson<{ items: PolicyPreview[]; notes: string[] }>(kubeconfig, [
      'preview',
      '-f',
      policyFile,
    ]);
    expect(preview.notes).toEqual([]);
    expect(preview.items[0]?.pods.map((pod) => [pod.pod, pod.after.securityGroups])).toEqual([
      ['api-0', [group('cache-access'), group('payments'), group('rds-access')].sort()],
    ]);
    await world.deletePod(ns, 'api-0');
  });

  test('it reads only: no write, no watch, no Secret, ConfigMaps only in the operator namespace', async () => {
    const user = uniqueName('sgp-viewer');
    await kubectl(['create', 'clusterrolebinding', uniqueName('viewer'), '--clusterrole', VIEWER_ROLE, '--user', user]);
    await kubectl(
      ['create', 'rolebinding', uniqueName('viewer'), '-n', INSTALL_NAMESPACE, '--role', VIEWER_ROLE].concat([
        '--user',
        user,
      ]),
    );
    await eventually(
      async () => {
        expect(await can(user, ['list', 'deployments', '-n', INSTALL_NAMESPACE])).toBe(true);
      },
      { waitingFor: 'the bindings to take effect' },
    );
    expect(await can(user, ['list', 'pods', '--all-namespaces'])).toBe(true);
    expect(await can(user, ['get', 'configmaps', '-n', INSTALL_NAMESPACE])).toBe(true);
    for (const args of [
      ['create', 'securitygrouppolicies.vpcresources.k8s.aws', '-n', 'default'],
      ['patch', 'pods', '-n', 'default'],
      ['delete', 'branchinterfaces.trunking.sgp-operator.io', '-n', 'default'],
      ['update', 'trunkinterfaces.trunking.sgp-operator.io'],
      ['watch', 'pods', '--all-namespaces'],
      ['get', 'secrets', '-n', INSTALL_NAMESPACE],
      ['get', 'configmaps', '-n', 'default'],
      ['list', 'deployments', '--all-namespaces'],
    ]) {
      expect([args.join(' '), await can(user, args)]).toEqual([args.join(' '), false]);
    }
  });
});
