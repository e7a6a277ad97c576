/**
 * Security groups by annotation end to end, on the controller side: a real kube-apiserver + etcd, the EC2
 * emulator over HTTP, and the whole operator from its composition root with the feature on and an allow-list
 * of two seeded groups. No webhook runs here (test/integration/webhook/annotations.test.ts covers admission),
 * which is exactly the case the controller must hold on its own: whatever got past admission, only allowed
 * groups reach the branch ENI in EC2.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, PodEniAnnotationEntry } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, startPodWorld, testPolicy, type PodWorld } from './fixture.ts';

const SG_ANNOTATION = 'vpc.amazonaws.com/security-groups';
const OPT_IN = 'trunking.sgp-operator.io/allow-security-group-annotations';
const SERVICE = { 'app.kubernetes.io/component': 'service' };

let world: PodWorld;

beforeAll(async () => {
  // Allow-listed: cache-access and payments. rds-access comes from policies only; elsewhere is never allowed.
  world = await startPodWorld((groups) => ({
    enableSecurityGroupAnnotations: true,
    securityGroupAnnotationAllowList: [groups['cache-access'] ?? '', groups.payments ?? ''],
  }));
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

function group(name: string): string {
  const id = world.groups[name];
  if (!id) throw new Error(`no seeded group ${name}`);
  return id;
}

async function optedInNamespace(prefix: string, isOptedIn: boolean): Promise<string> {
  const ns = await world.namespace(prefix);
  if (isOptedIn) await world.client.mergePatch(Kinds.Namespace, ns, { metadata: { labels: { [OPT_IN]: 'true' } } });
  return ns;
}

/** The groups on the pod's branch ENI, read back from EC2, sorted; once the CNI annotation is written. */
async function eniGroupsOf(ns: string, name: string): Promise<string[]> {
  return eventually(
    async () => {
      const pod = await world.client.get<KubeObject>(Kinds.Pod, `${ns}/${name}`);
      const raw = pod?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'];
      expect(raw).toBeDefined();
      const [entry] = JSON.parse(raw ?? '[]') as PodEniAnnotationEntry[];
      const eni = world.emulator.control.dump().networkInterfaces.find((e) => e.id === entry?.eniId);
      expect(eni).toBeDefined();
      return [...(eni?.securityGroupIds ?? [])].sort();
    },
    { waitingFor: `pod ${ns}/${name} annotated with its branch ENI`, timeoutMs: 60_000 },
  );
}

async function warningsOf(ns: string, name: string): Promise<string[]> {
  const events = await world.client.list<
    KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }
  >(Kinds.Event, { namespace: ns });
  return events
    .filter((event) => event.involvedObject?.name === name && event.reason === 'SecurityGroupAnnotationRefused')
    .map((event) => event.message ?? '');
}

describe('security groups by annotation (controller side)', () => {
  test('an allowed pod annotation: the branch ENI in EC2 carries the policy groups and the annotation groups', async () => {
    const ns = await optedInNamespace('sg-annotated', true);
    const node = await world.addManagedNode('sg-annotated');
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'rds', [group('rds-access')], { podSelector: { matchLabels: SERVICE } }),
    );
    await createTestPod(world.client, ns, 'api-0', {
      nodeName: node,
      labels: SERVICE,
      annotations: { [SG_ANNOTATION]: group('cache-access') },
    });

    expect(await eniGroupsOf(ns, 'api-0')).toEqual([group('rds-access'), group('cache-access')].sort());
    const branch = await world.client.get<BranchInterface>(Kinds.BranchInterface, `${ns}/api-0`);
    expect(branch?.spec.matchedPolicies).toEqual(['rds', 'annotation:Pod']);
  });

  test('a ServiceAccount annotation gives its groups to the pods running as it', async () => {
    const ns = await optedInNamespace('sg-sa', true);
    const node = await world.addManagedNode('sg-sa');
    await world.client.create(Kinds.ServiceAccount, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'payments', namespace: ns, annotations: { [SG_ANNOTATION]: group('payments') } },
    } as KubeObject);
    await createTestPod(world.client, ns, 'pay-0', { nodeName: node, serviceAccountName: 'payments' });

    expect(await eniGroupsOf(ns, 'pay-0')).toEqual([group('payments')]);
  });

  test('refused groups never reach EC2: not allow-listed, or the namespace not opted in; a Warning names them', async () => {
    const optedIn = await optedInNamespace('sg-refused', true);
    const notOptedIn = await optedInNamespace('sg-not-opted-in', false);
    const node = await world.addManagedNode('sg-refused');
    // rds-access exists in the VPC (EC2 would accept it) but is not allow-listed.
    await createTestPod(world.client, optedIn, 'web-0', {
      nodeName: node,
      annotations: { [SG_ANNOTATION]: `${group('cache-access')},${group('rds-access')}` },
    });
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(notOptedIn, 'rds', [group('rds-access')], { podSelector: { matchLabels: SERVICE } }),
    );
    await createTestPod(world.client, notOptedIn, 'web-0', {
      nodeName: node,
      labels: SERVICE,
      annotations: { [SG_ANNOTATION]: group('cache-access') },
    });

    expect(await eniGroupsOf(optedIn, 'web-0')).toEqual([group('cache-access')]);
    expect(await eniGroupsOf(notOptedIn, 'web-0')).toEqual([group('rds-access')]);
    await eventually(
      async () => {
        expect(await warningsOf(optedIn, 'web-0')).toEqual([
          `security group ${group('rds-access')} in annotation ${SG_ANNOTATION} of Pod ${optedIn}/web-0 is not in ` +
            `the operator's allow-list (--security-group-annotation-allow-list); ask a cluster admin to add it, or ` +
            'use a SecurityGroupPolicy',
        ]);
        expect(await warningsOf(notOptedIn, 'web-0')).toEqual([
          `annotation ${SG_ANNOTATION} of Pod ${notOptedIn}/web-0 is not allowed: namespace ${notOptedIn} is not ` +
            `labelled ${OPT_IN}=true; ask a cluster admin to label it, or use a SecurityGroupPolicy`,
        ]);
      },
      { waitingFor: 'SecurityGroupAnnotationRefused events on both pods' },
    );
  });

  test('labelling the namespace later adds the annotation groups to the running pod’s ENI in place', async () => {
    const ns = await optedInNamespace('sg-late', false);
    const node = await world.addManagedNode('sg-late');
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'rds', [group('rds-access')], { podSelector: { matchLabels: SERVICE } }),
    );
    await createTestPod(world.client, ns, 'web-0', {
      nodeName: node,
      labels: SERVICE,
      annotations: { [SG_ANNOTATION]: group('cache-access') },
    });
    expect(await eniGroupsOf(ns, 'web-0')).toEqual([group('rds-access')]);
    const before = await world.client.get<BranchInterface>(Kinds.BranchInterface, `${ns}/web-0`);

    await world.client.mergePatch(Kinds.Namespace, ns, { metadata: { labels: { [OPT_IN]: 'true' } } });

    await eventually(
      async () => expect(await eniGroupsOf(ns, 'web-0')).toEqual([group('rds-access'), group('cache-access')].sort()),
      { waitingFor: 'the annotation group on the ENI after the namespace opted in', timeoutMs: 60_000 },
    );
    const after = await world.client.get<BranchInterface>(Kinds.BranchInterface, `${ns}/web-0`);
    expect(after?.status?.eniId).toBe(before?.status?.eniId);
  });
});
