/**
 * SecurityGroupGrants end to end: a private kube-apiserver + etcd (a grant is cluster-wide, so it must not leak
 * into other tests' clusters), the EC2 emulator over HTTP, the whole operator from its composition root, and
 * the SecurityGroupPolicy admission webhook served from this process and registered with that API server.
 *
 * Each test creates its grants and deletes them afterwards (afterEach), so "no grant" holds at every test's
 * start and the tests do not depend on their order.
 */
import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type {
  BranchInterface,
  PodEniAnnotationEntry,
  SecurityGroupGrant,
  SecurityGroupPolicy,
} from '../../../operator/api/types.ts';
import { SECURITY_GROUP_ANNOTATIONS_OFF } from '../../../operator/controllers/pod/index.ts';
import { createKubeClient, SharedInformer, systemClock, type KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import {
  createSelfSignedCertificateSource,
  createWebhookServer,
  matchPodPolicies,
  syncWebhookConfigurations,
  type ServiceAccountLike,
  type WebhookConfigurationSettings,
} from '../../../operator/webhook/index.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { createTestPod, eventsOf, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;
let stopWebhook: () => Promise<void>;
let grantsSeenByWebhook: SharedInformer<SecurityGroupGrant>;
let node: string;

/**
 * The admission webhook as the operator serves it, against the private API server. The pod webhooks select a
 * label no namespace carries, so only the SecurityGroupPolicy webhook (every namespace) is exercised here.
 */
async function startPolicyWebhook(client: ReturnType<typeof createKubeClient>): Promise<() => Promise<void>> {
  const deps = { transport: client.transport, clock: systemClock, log: silentLogger };
  const policies = new SharedInformer<SecurityGroupPolicy>({ kind: Kinds.SecurityGroupPolicy }, deps);
  const serviceAccounts = new SharedInformer<ServiceAccountLike & KubeObject>({ kind: Kinds.ServiceAccount }, deps);
  const namespaces = new SharedInformer<KubeObject>({ kind: Kinds.Namespace }, deps);
  grantsSeenByWebhook = new SharedInformer<SecurityGroupGrant>({ kind: Kinds.SecurityGroupGrant }, deps);
  const informers = [policies, serviceAccounts, namespaces, grantsSeenByWebhook];
  const stop = new AbortController();
  const informersDone = Promise.all(informers.map((informer) => informer.start(stop.signal)));
  await Promise.all(informers.map((informer) => informer.waitForSync()));
  const certificates = createSelfSignedCertificateSource({
    hosts: ['127.0.0.1'],
    identity: uniqueName('grants-webhook'),
    clock: systemClock,
    log: silentLogger,
  });
  const server = createWebhookServer({
    address: { host: '127.0.0.1', port: 0 },
    tls: certificates,
    matcher: matchPodPolicies,
    operatorUsernames: [],
    policies,
    serviceAccounts,
    namespaces,
    securityGroupAnnotations: SECURITY_GROUP_ANNOTATIONS_OFF,
    grants: grantsSeenByWebhook,
    log: silentLogger,
  });
  const serverDone = server.start(stop.signal);
  await server.listening();
  const nobody = { matchLabels: { 'sgp-operator.io/grants-test': 'no-namespace-has-this' } };
  const settings: WebhookConfigurationSettings = {
    mutatingName: uniqueName('grants-mutating'),
    validatingName: uniqueName('grants-validating'),
    target: { baseUrl: `https://127.0.0.1:${server.address()?.port}` },
    namespaceSelector: nobody,
    annotationNamespaceSelector: nobody,
    failurePolicy: 'Fail',
    timeoutSeconds: 5,
    operatorUsername: 'system:serviceaccount:sgp-system:sgp-operator',
  };
  await syncWebhookConfigurations({ client, settings, certificates, clock: systemClock, log: silentLogger });
  return async () => {
    stop.abort();
    await Promise.all([serverDone, informersDone]);
  };
}

beforeAll(async () => {
  world = await startPodWorld();
  stopWebhook = await startPolicyWebhook(createKubeClient(world.kubeConfig));
  node = await world.addManagedNode('grants');
}, 180_000);

afterEach(async () => {
  for (const grant of await world.client.list<SecurityGroupGrant>(Kinds.SecurityGroupGrant)) {
    await world.client.delete(Kinds.SecurityGroupGrant, grant.metadata.name);
  }
  await eventually(() => expect(grantsSeenByWebhook.list()).toEqual([]), {
    waitingFor: 'no SecurityGroupGrant left in the webhook cache',
  });
});

afterAll(async () => {
  await stopWebhook?.();
  await world?.stop();
});

function group(name: string): string {
  const id = world.groups[name];
  if (!id) throw new Error(`no seeded group ${name}`);
  return id;
}

function grantBody(name: string, spec: SecurityGroupGrant['spec']): SecurityGroupGrant {
  return { apiVersion: 'trunking.sgp-operator.io/v1alpha1', kind: 'SecurityGroupGrant', metadata: { name }, spec };
}

/** Creates a grant and waits until the webhook's cache holds this version of it (resolved, with tag rules). */
async function createGrant(name: string, spec: SecurityGroupGrant['spec']): Promise<SecurityGroupGrant> {
  await world.client.create<SecurityGroupGrant>(Kinds.SecurityGroupGrant, grantBody(name, spec));
  return eventually(
    () => {
      const cached = grantsSeenByWebhook.get(name);
      if (cached?.status?.observedGeneration === undefined) throw new Error(`${name} not resolved in the cache yet`);
      expect(cached.status.observedGeneration).toBe(cached.metadata.generation);
      return cached;
    },
    { waitingFor: `SecurityGroupGrant ${name} resolved and in the webhook's cache` },
  );
}

async function validCondition(ns: string, name: string) {
  const policy = await world.client.get<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `${ns}/${name}`);
  return policy?.status?.conditions?.find((condition) => condition.type === 'Valid');
}

/** The groups on the ENI an annotation names, read back from EC2, sorted. */
function eniGroups(entry: PodEniAnnotationEntry): string[] {
  const eni = world.emulator.control.dump().networkInterfaces.find((e) => e.id === entry.eniId);
  return [...(eni?.securityGroupIds ?? [])].sort();
}

const SERVICE = { app: 'service' };

describe('SecurityGroupGrants', () => {
  test('no grant: any group of the VPC is admitted and applied, as on EKS', async () => {
    const ns = await world.namespace('no-grant');
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'cache', [group('cache-access')], { podSelector: { matchLabels: SERVICE } }),
    );
    await createTestPod(world.client, ns, 'api-0', { nodeName: node, labels: SERVICE });
    const entry = await waitAnnotated(world.client, ns, 'api-0');
    expect(eniGroups(entry)).toEqual([group('cache-access')]);
    expect((await validCondition(ns, 'cache'))?.reason).toBe('GroupsFound');
  });

  test('admission refuses a policy naming a group no grant allows, naming the group, the namespace and the grant', async () => {
    const ns = await world.namespace('refused');
    const grantName = uniqueName('rds-only');
    await createGrant(grantName, { namespaces: { names: [ns] }, securityGroups: { groupIds: [group('rds-access')] } });
    const cache = group('cache-access');
    const expected =
      `admission webhook "vsgp-grants.trunking.sgp-operator.io" denied the request: SecurityGroupPolicy ${ns}/cache ` +
      `names security group ${cache}, which no SecurityGroupGrant allows in namespace ${ns}; no grant allows ` +
      `${cache}: ask a cluster admin to add it to spec.securityGroups.groupIds (or tag it to match a tag rule) of ` +
      `SecurityGroupGrant ${grantName}, which covers namespace ${ns}, or remove it from the SecurityGroupPolicy`;
    // The API server learns of the webhook configuration a moment after it is written: retry until it calls.
    const message = await eventually(
      async () => {
        const error = await world.client
          .create(Kinds.SecurityGroupPolicy, testPolicy(ns, 'cache', [cache], { podSelector: {} }))
          .then(
            () => undefined,
            (caught: unknown) => caught,
          );
        expect(error).toBeInstanceOf(Error);
        return (error as Error).message;
      },
      { waitingFor: 'the SecurityGroupPolicy to be refused at admission' },
    );
    expect(message).toContain(expected);
    expect(await world.client.get(Kinds.SecurityGroupPolicy, `${ns}/cache`)).toBeUndefined();
    // The granted group is admitted in the same namespace.
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'rds', [group('rds-access')], { podSelector: {} }),
    );
  });

  test('a grant by namespace label and EC2 tag: the tagged group is admitted and reaches the pod', async () => {
    const team = uniqueName('team');
    const ec2 = new EC2Client({
      region: 'us-west-2',
      endpoint: world.emulator.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await ec2.send(new CreateTagsCommand({ Resources: [group('payments')], Tags: [{ Key: 'team', Value: team }] }));
    } finally {
      ec2.destroy();
    }
    const ns = await world.namespace('by-label');
    await world.client.mergePatch(Kinds.Namespace, ns, { metadata: { labels: { team } } });
    const grant = await createGrant(uniqueName('team-groups'), {
      namespaces: { selector: { matchLabels: { team } } },
      securityGroups: { tags: [{ key: 'team', values: [team] }] },
    });
    expect(grant.status?.resolvedGroupIds).toEqual([group('payments')]);

    await eventually(
      () =>
        world.client.create(
          Kinds.SecurityGroupPolicy,
          testPolicy(ns, 'payments', [group('payments')], { podSelector: { matchLabels: SERVICE } }),
        ),
      { waitingFor: 'the tagged group admitted (the webhook sees the namespace label)' },
    );
    await createTestPod(world.client, ns, 'pay-0', { nodeName: node, labels: SERVICE });
    expect(eniGroups(await waitAnnotated(world.client, ns, 'pay-0'))).toEqual([group('payments')]);

    await expect(
      world.client.create(
        Kinds.SecurityGroupPolicy,
        testPolicy(ns, 'rds', [group('rds-access')], { podSelector: { matchLabels: SERVICE } }),
      ),
    ).rejects.toThrow(
      `names security group ${group('rds-access')}, which no SecurityGroupGrant allows in namespace ${ns}`,
    );
  });

  test('a grant tightened while a pod runs: the pod keeps its ENI and groups; the policy and pod say why', async () => {
    const ns = await world.namespace('tightened');
    const grantName = uniqueName('rds-then-cache');
    const rds = group('rds-access');
    await createGrant(grantName, { namespaces: { names: [ns] }, securityGroups: { groupIds: [rds] } });
    await eventually(
      () =>
        world.client.create(
          Kinds.SecurityGroupPolicy,
          testPolicy(ns, 'rds', [rds], { podSelector: { matchLabels: SERVICE } }),
        ),
      { waitingFor: 'the granted policy admitted' },
    );
    await createTestPod(world.client, ns, 'db-client-0', { nodeName: node, labels: SERVICE });
    const before = await waitAnnotated(world.client, ns, 'db-client-0');
    expect(eniGroups(before)).toEqual([rds]);
    const modifiesBefore = world.emulator.control.counters().ModifyNetworkInterfaceAttribute?.calls ?? 0;

    await world.client.mergePatch(Kinds.SecurityGroupGrant, grantName, {
      spec: { securityGroups: { groupIds: [group('cache-access')] } },
    });

    const refusal =
      `SecurityGroupPolicy ${ns}/rds names security group ${rds}, which no SecurityGroupGrant allows in namespace ` +
      `${ns}; no grant allows ${rds}: ask a cluster admin to add it to spec.securityGroups.groupIds (or tag it to ` +
      `match a tag rule) of SecurityGroupGrant ${grantName}, which covers namespace ${ns}, or remove it from the ` +
      'SecurityGroupPolicy';
    await eventually(
      async () =>
        expect(await validCondition(ns, 'rds')).toMatchObject({
          status: 'False',
          reason: 'GroupsNotGranted',
          message: refusal,
        }),
      { waitingFor: 'the policy Valid=False GroupsNotGranted' },
    );
    await eventually(
      async () =>
        expect(await eventsOf(world.client, ns, 'rds')).toContainEqual(
          expect.objectContaining({ type: 'Warning', reason: 'SecurityGroupNotGranted', message: refusal }),
        ),
      { waitingFor: 'a SecurityGroupNotGranted event on the policy' },
    );
    // The pod's Warning comes from the same reconcile that decided to hold the pod instead of changing its ENI.
    await eventually(
      async () =>
        expect(await eventsOf(world.client, ns, 'db-client-0')).toContainEqual(
          expect.objectContaining({
            type: 'Warning',
            reason: 'SecurityGroupPolicyInvalid',
            message: expect.stringContaining('its branch ENI keeps its current security groups'),
          }),
        ),
      { waitingFor: "the pod's Warning that its branch ENI is held" },
    );

    const pod = await world.client.get<KubeObject>(Kinds.Pod, `${ns}/db-client-0`);
    const [after] = JSON.parse(
      pod?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'] ?? '[]',
    ) as PodEniAnnotationEntry[];
    expect(after).toEqual(before);
    expect(eniGroups(before)).toEqual([rds]);
    const branches = await world.client.list<BranchInterface>(Kinds.BranchInterface, { namespace: ns });
    expect(branches.map((branch) => [branch.spec.podName, branch.spec.securityGroups, branch.status?.eniId])).toEqual([
      ['db-client-0', [rds], before.eniId],
    ]);
    expect(world.emulator.control.counters().ModifyNetworkInterfaceAttribute?.calls ?? 0).toBe(modifiesBefore);
  });
});
