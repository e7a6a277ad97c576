/**
 * `kubectl sgp` against a real kube-apiserver + etcd, the EC2 emulator and the whole operator (the pod
 * world of ../pods): the verdicts and the next step it gives for pods in each situation, the node table,
 * policy previews, and the EC2 read-back. Assertions are on the JSON output's verdicts and facts, not on
 * the table's formatting. Most runs are in-process (the CLI's entry function); one runs the executable
 * package.json names, with AWS_ENDPOINT_URL_EC2 and default credentials from the environment.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import type { NodeExplanation } from '../../../kubectl-sgp/explain/nodes.ts';
import type { PodExplanation } from '../../../kubectl-sgp/explain/pod.ts';
import type { PolicyPreview } from '../../../kubectl-sgp/explain/preview.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { AZ, createTestPod, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from '../pods/fixture.ts';
import { createOperatorDeployment, sgpJson } from './helpers.ts';

const run = promisify(execFile);

let world: PodWorld;
let node: string;

beforeAll(async () => {
  world = await startPodWorld((groups) => ({
    enableSecurityGroupAnnotations: true,
    securityGroupAnnotationAllowList: [groups['cache-access'] ?? ''],
  }));
  node = await world.addManagedNode('sgp');
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

function group(name: string): string {
  const id = world.groups[name];
  if (!id) throw new Error(`no seeded group ${name}`);
  return id;
}

/** Runs `kubectl sgp <args> --kubeconfig … -o json` in-process and returns the parsed output. */
function sgp<T>(...args: string[]): Promise<T> {
  return sgpJson<T>(world.plane.kubeconfigPath, args);
}

/** `why` until `check` passes (the operator converges meanwhile); returns the last explanation. */
async function whyUntil(
  namespace: string,
  pod: string,
  check: (x: PodExplanation) => void,
  waitingFor: string,
): Promise<PodExplanation> {
  return eventually(
    async () => {
      const x = await sgp<PodExplanation>('why', `pod/${pod}`, '-n', namespace);
      check(x);
      return x;
    },
    { waitingFor, timeoutMs: 60_000 },
  );
}

async function createPolicy(policy: SecurityGroupPolicy): Promise<void> {
  await world.client.create(Kinds.SecurityGroupPolicy, policy);
}

/** A Node for an EC2 instance that never opts in (no CNINode feature, no legacy label). */
async function addUnmanagedNode(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  const instance = world.emulator.control.launchInstance({
    instanceType: 'm5.large',
    subnet: world.subnetId,
    securityGroups: [group('node-group')],
  });
  await world.client.create(Kinds.Node, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': 'm5.large' } },
    spec: { providerID: `aws:///${AZ}/${instance.id}` },
  } as KubeObject);
  return name;
}

describe('kubectl sgp why', () => {
  test('a matched pod: ok, every policy with whether and why it selects, the branch ENI, the node capacity', async () => {
    const ns = await world.namespace('why-ok');
    await world.client.create(Kinds.ServiceAccount, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'api', namespace: ns, labels: { team: 'payments' } },
    } as KubeObject);
    await createPolicy(testPolicy(ns, 'db', [group('rds-access')], { podSelector: { matchLabels: { app: 'api' } } }));
    await createPolicy(
      testPolicy(ns, 'cache', [group('cache-access')], { podSelector: { matchLabels: { app: 'cache' } } }),
    );
    await createPolicy(
      testPolicy(ns, 'ledger', [group('payments')], {
        serviceAccountSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['ledger'] }] },
      }),
    );
    await createTestPod(world.client, ns, 'api-0', {
      nodeName: node,
      labels: { app: 'api' },
      serviceAccountName: 'api',
    });
    const entry = await waitAnnotated(world.client, ns, 'api-0');

    const x = await whyUntil(ns, 'api-0', (e) => expect(e.verdict).toBe('ok'), 'verdict ok');
    expect(x.groups).toEqual({ securityGroups: [group('rds-access')], sources: ['db'] });
    expect(x.policies.map(({ name, selects, why }) => ({ name, selects, why }))).toEqual([
      { name: 'cache', selects: false, why: ['podSelector matchLabels app=cache: the pod has app=api'] },
      { name: 'db', selects: true, why: ["podSelector {app=api} matches the pod's labels"] },
      {
        name: 'ledger',
        selects: false,
        why: ['serviceAccountSelector matchExpressions[0] team In [ledger]: ServiceAccount api has team=payments'],
      },
    ]);
    expect(x.branch).toMatchObject({
      phase: 'Ready',
      eniId: entry.eniId,
      vlanId: entry.vlanId,
      privateIp: entry.privateIp,
      subnetId: world.subnetId,
      subnetCidr: entry.subnetCidr,
    });
    expect(x.node).toMatchObject({ name: node, managed: true, trunk: { state: 'Ready' } });
    expect(x.node?.usage).toMatchObject({ capacity: 9 });
    expect(x.node?.usage?.inUse).toBeGreaterThanOrEqual(1);
    expect(x.nextStep).toBeUndefined();
    expect(x.events.map((event) => event.reason)).toContain('ResourceAllocated');
    await world.deletePod(ns, 'api-0');
  });

  test('not selected: the failed label is named, with the nearest policy as the next step; no policy at all', async () => {
    const ns = await world.namespace('why-unmatched');
    await createPolicy(
      testPolicy(ns, 'db', [group('rds-access')], { podSelector: { matchLabels: { app: 'db', tier: 'data' } } }),
    );
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' }, podEni: false });
    const x = await sgp<PodExplanation>('why', 'pod/web-0', '-n', ns);
    expect(x.verdict).toBe('not-selected');
    expect(x.policies[0]?.why).toEqual([
      'podSelector matchLabels app=db: the pod has app=web',
      'podSelector matchLabels tier=data: the pod has no label tier',
    ]);
    expect(x.nextStep).toBe(
      "if it should have SecurityGroupPolicy db's groups: podSelector matchLabels app=db: the pod has app=web; " +
        'podSelector matchLabels tier=data: the pod has no label tier',
    );

    const empty = await world.namespace('why-empty');
    await createTestPod(world.client, empty, 'web-0', { nodeName: node, podEni: false });
    const none = await sgp<PodExplanation>('why', 'web-0', '-n', empty);
    expect(none).toMatchObject({ verdict: 'not-selected', policies: [] });
    expect(none.summary).toContain(`namespace ${empty} has no SecurityGroupPolicy`);
  });

  test('selected without the pod-eni request: a problem, and the fix is recreating the pod', async () => {
    const ns = await world.namespace('why-no-request');
    await createPolicy(testPolicy(ns, 'db', [group('rds-access')], { podSelector: {} }));
    await createTestPod(world.client, ns, 'old-0', { nodeName: node, podEni: false });
    const x = await sgp<PodExplanation>('why', 'pod/old-0', '-n', ns);
    expect(x.verdict).toBe('problem');
    expect(x.summary).toContain('does not request vpc.amazonaws.com/pod-eni');
    expect(x.nextStep).toContain('delete the pod so its controller recreates it');
  });

  test('on a node that never opted in: a problem naming the opt-in', async () => {
    const ns = await world.namespace('why-node');
    const plain = await addUnmanagedNode('plain');
    await createPolicy(testPolicy(ns, 'db', [group('rds-access')], { podSelector: {} }));
    await createTestPod(world.client, ns, 'api-0', { nodeName: plain });
    const x = await whyUntil(ns, 'api-0', (e) => expect(e.verdict).toBe('problem'), 'problem verdict');
    expect(x.node).toMatchObject({ name: plain, managed: false });
    expect(x.node?.eligibility).toContain('has neither the CNINode feature SecurityGroupsForPods');
    expect(x.nextStep).toContain(`opt node ${plain} in: run the VPC CNI with ENABLE_POD_ENI=true`);
  });

  test('an invalid policy holds the pod; the next step is the policy’s own message', async () => {
    const ns = await world.namespace('why-invalid');
    await createPolicy(testPolicy(ns, 'broken', ['sg-0123456789abcdef0'], { podSelector: {} }));
    await createTestPod(world.client, ns, 'api-0', { nodeName: node });
    const x = await whyUntil(ns, 'api-0', (e) => expect(e.verdict).toBe('problem'), 'held pod');
    expect(x.decision).toMatchObject({ action: 'hold', reason: 'PolicyInvalid' });
    expect(x.policies[0]).toMatchObject({ name: 'broken', selects: true, validity: 'invalid' });
    expect(x.nextStep).toContain(
      `SecurityGroupPolicy ${ns}/broken names sg-0123456789abcdef0, which does not exist in ${world.vpcId}`,
    );
  });

  test('a group the SecurityGroupGrants refuse: the grant verdict is shown and the pod is held', async () => {
    const ns = await world.namespace('why-grant');
    const grant: SecurityGroupGrant = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'SecurityGroupGrant',
      metadata: { name: uniqueName('only-cache') },
      spec: { namespaces: { names: [ns] }, securityGroups: { groupIds: [group('cache-access')] } },
    };
    await world.client.create(Kinds.SecurityGroupGrant, grant);
    try {
      await createPolicy(testPolicy(ns, 'db', [group('rds-access')], { podSelector: {} }));
      await createTestPod(world.client, ns, 'api-0', { nodeName: node });
      const x = await whyUntil(ns, 'api-0', (e) => expect(e.verdict).toBe('problem'), 'held by grants');
      expect(x.policies[0]?.grants).toMatchObject({ allowed: false });
      expect(x.nextStep).toContain(`names security group ${group('rds-access')}, which no SecurityGroupGrant allows`);
    } finally {
      await world.client.delete(Kinds.SecurityGroupGrant, grant.metadata.name);
    }
  });

  test('the annotation verdict uses the operator’s settings read from its Deployment', async () => {
    const ns = await world.namespace('why-annotation');
    await world.client.mergePatch(Kinds.Namespace, ns, {
      metadata: { labels: { 'trunking.sgp-operator.io/allow-security-group-annotations': 'true' } },
    });
    // The operator of this world runs with these settings; its Deployment (which nothing here runs) says so.
    await createOperatorDeployment(world.client, await world.namespace('sgp-system'), [group('cache-access')]);
    const annotation = { 'vpc.amazonaws.com/security-groups': `${group('cache-access')},${group('rds-access')}` };
    await createTestPod(world.client, ns, 'api-0', { nodeName: node, annotations: annotation });
    const x = await whyUntil(ns, 'api-0', (e) => expect(e.verdict).toBe('problem'), 'partly refused annotation');
    expect(x.annotations).toEqual([
      expect.objectContaining({
        carrier: `Pod ${ns}/api-0`,
        allowed: [group('cache-access')],
        refusals: [expect.objectContaining({ reason: 'GroupNotAllowed', refused: [group('rds-access')] })],
      }),
    ]);
    expect(x.groups).toEqual({ securityGroups: [group('cache-access')], sources: ['annotation:Pod'] });
    expect(x.nextStep).toContain(
      `security group ${group('rds-access')} in annotation vpc.amazonaws.com/security-groups`,
    );
    expect(x.notes).toEqual([]);
    await world.deletePod(ns, 'api-0');
  });

  test('waiting for capacity: a one-branch node holds its branch, the second pod waits with the usage', async () => {
    const ns = await world.namespace('why-capacity');
    const small = await world.addManagedNode('small', 'c7g-flex.medium');
    await createPolicy(testPolicy(ns, 'all', [group('rds-access')], { podSelector: {} }));
    await createTestPod(world.client, ns, 'first', { nodeName: small });
    await waitAnnotated(world.client, ns, 'first');
    await createTestPod(world.client, ns, 'second', { nodeName: small });
    const x = await whyUntil(ns, 'second', (e) => expect(e.verdict).toBe('waiting'), 'waiting for capacity');
    expect(x.summary).toBe(
      `pod ${ns}/second waits for a branch ENI: node ${small} holds 1 of 1 branch ENIs (1 in use, 0 cooling down)`,
    );
    expect(x.nextStep).toContain('a branch is freed when a pod on the node goes and its cooldown passes');

    const nodes = await sgp<{ items: NodeExplanation[] }>('nodes');
    expect(nodes.items.find((row) => row.name === small)).toMatchObject({
      eligible: true,
      instanceType: 'c7g-flex.medium',
      trunk: { state: 'Ready' },
      usage: { capacity: 1, holding: 1, inUse: 1, coolingDown: 0, waiting: 1, free: 0 },
    });

    // The first pod goes: its branch cools down (still holding the one VLAN), then the second gets it.
    await world.deletePod(ns, 'first');
    await waitAnnotated(world.client, ns, 'second');
    await whyUntil(ns, 'second', (e) => expect(e.verdict).toBe('ok'), 'second pod ok');
  });
});

describe('kubectl sgp nodes', () => {
  test('an opted-in node with its trunk; a node that never opted in, and why', async () => {
    const plain = await addUnmanagedNode('nodes-plain');
    const nodes = await eventually(
      async () => {
        const rows = (await sgp<{ items: NodeExplanation[] }>('nodes')).items;
        expect(rows.find((row) => row.name === plain)).toBeDefined();
        return rows;
      },
      { waitingFor: 'the plain node listed' },
    );
    expect(nodes.find((row) => row.name === node)).toMatchObject({
      eligible: true,
      reason: 'opted in by its CNINode (SecurityGroupsForPods)',
      trunk: { state: 'Ready' },
      advertised: 9,
      usage: { capacity: 9 },
    });
    expect(nodes.find((row) => row.name === plain)).toMatchObject({
      eligible: false,
      reason: `node ${plain} has neither the CNINode feature SecurityGroupsForPods nor the label vpc.amazonaws.com/has-trunk-attached`,
    });
    expect(nodes.find((row) => row.name === plain)?.trunk).toBeUndefined();
  });
});

describe('kubectl sgp preview', () => {
  test('a new policy and an edit: which running pods change, how, and those that need recreating', async () => {
    const ns = await world.namespace('preview');
    await createPolicy(testPolicy(ns, 'db', [group('rds-access')], { podSelector: { matchLabels: { app: 'api' } } }));
    await createTestPod(world.client, ns, 'api-0', { nodeName: node, labels: { app: 'api' } });
    await createTestPod(world.client, ns, 'worker-0', { nodeName: node, labels: { app: 'worker' } });
    await createTestPod(world.client, ns, 'legacy-0', { nodeName: node, labels: { app: 'worker' }, podEni: false });
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' } });
    const file = join(mkdtempSync(join(tmpdir(), 'sgp-preview-')), 'policies.yaml');
    writeFileSync(
      file,
      [
        `apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: { name: db }
spec:
  podSelector: { matchLabels: { app: api } }
  securityGroups: { groupIds: [${group('rds-access')}, ${group('cache-access')}] }`,
        `apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: { name: workers, namespace: ${ns} }
spec:
  podSelector: { matchLabels: { app: worker } }
  securityGroups: { groupIds: [${group('payments')}] }`,
      ].join('\n---\n'),
    );
    const { items } = await sgp<{ items: PolicyPreview[] }>('preview', '-f', file, '-n', ns);
    const [edit, added] = items;
    expect(edit).toMatchObject({ name: 'db', namespace: ns, action: 'update', problems: [], untouched: 3 });
    expect(edit?.pods).toEqual([
      {
        pod: 'api-0',
        node,
        change: 'groups',
        before: { sources: ['db'], securityGroups: [group('rds-access')] },
        after: { sources: ['db'], securityGroups: [group('rds-access'), group('cache-access')].sort() },
        effect: 'groups changed in place on its branch ENI (no restart)',
      },
    ]);
    expect(added).toMatchObject({ name: 'workers', action: 'create', untouched: 2 });
    expect(added?.pods.map(({ pod, change, effect }) => ({ pod, change, effect }))).toEqual([
      {
        pod: 'legacy-0',
        change: 'selected',
        effect: 'none until recreated: it does not request vpc.amazonaws.com/pod-eni, so it keeps the node’s groups',
      },
      { pod: 'worker-0', change: 'selected', effect: 'groups changed in place on its branch ENI (no restart)' },
    ]);
    // Nothing was applied.
    expect(await world.client.get(Kinds.SecurityGroupPolicy, `${ns}/workers`)).toBeUndefined();
  });
});

describe('the kubectl-sgp executable', () => {
  test('runs from package.json bin; --ec2 reads the ENI back and reports groups changed outside the operator', async () => {
    const ns = await world.namespace('exe');
    await createPolicy(testPolicy(ns, 'db', [group('rds-access')], { podSelector: {} }));
    await createTestPod(world.client, ns, 'api-0', { nodeName: node });
    const entry = await waitAnnotated(world.client, ns, 'api-0');
    const ec2 = new EC2Client({
      region: 'us-west-2',
      endpoint: world.emulator.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: entry.eniId, Groups: [group('payments')] }),
    );
    ec2.destroy();

    const root = join(import.meta.dirname, '..', '..', '..');
    const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    const executable = join(root, bin['kubectl-sgp'] ?? '');
    const env = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '',
      AWS_ENDPOINT_URL_EC2: world.emulator.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const args = ['why', 'pod/api-0', '-n', ns, '--kubeconfig', world.plane.kubeconfigPath, '--ec2'];
    const { stdout } = await run(executable, [...args, '-o', 'json'], { env });
    const x = JSON.parse(stdout) as PodExplanation;
    expect(x.ec2).toEqual({ eniId: entry.eniId, found: true, securityGroupIds: [group('payments')], drift: true });
    expect(x.verdict).toBe('problem');
    expect(x.nextStep).toBe(
      'the groups were changed outside sgp-operator; set them back: aws ec2 modify-network-interface-attribute ' +
        `--network-interface-id ${entry.eniId} --groups ${group('rds-access')}`,
    );

    // The table for people, without colour codes when not on a terminal.
    const table = await run(executable, args, { env });
    expect(table.stdout).toContain('problem: ');
    expect(table.stdout).not.toContain('\u001b[');
    const usage = await run(executable, ['why'], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(usage).toMatchObject({ code: 2 });
    expect((usage as { stderr: string }).stderr).toContain('why takes one pod: kubectl sgp why pod/NAME');
  });
});
