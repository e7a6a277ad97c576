/**
 * SecurityGroupPolicies naming groups by EC2 group name and by tag selector (our extension), end to end: a
 * private kube-apiserver + etcd, the EC2 emulator over HTTP (groups created, tagged and deleted through the
 * real SDK, as an administrator would), and the whole operator. The VPC is re-described every second, so a
 * change in EC2 reaches the policies within a few seconds.
 */
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { Condition, SecurityGroupPolicy } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { createTestPod, eventsOf, startPodWorld, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;
let ec2: EC2Client;
let node: string;

beforeAll(async () => {
  world = await startPodWorld(() => ({ vpcRefreshIntervalSeconds: 1 }));
  ec2 = new EC2Client({
    region: 'us-west-2',
    endpoint: world.emulator.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  node = await world.addManagedNode('names');
}, 180_000);

afterAll(async () => {
  ec2?.destroy();
  await world?.stop();
});

const APP = { app: 'api' };

async function createGroup(name: string, tags: Record<string, string> = {}): Promise<string> {
  const out = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: name,
      VpcId: world.vpcId,
      TagSpecifications: [
        { ResourceType: 'security-group', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return out.GroupId ?? '';
}

function namedPolicy(
  namespace: string,
  name: string,
  securityGroups: SecurityGroupPolicy['spec']['securityGroups'],
): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace },
    spec: { podSelector: { matchLabels: APP }, securityGroups },
  };
}

async function policyOf(namespace: string, name: string): Promise<SecurityGroupPolicy | undefined> {
  return world.client.get<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, `${namespace}/${name}`);
}

/** Waits until the policy's Valid condition has `status` and returns it. */
async function waitValid(namespace: string, name: string, status: Condition['status']): Promise<Condition> {
  return eventually(
    async () => {
      const policy = await policyOf(namespace, name);
      const valid = policy?.status?.conditions?.find((condition) => condition.type === 'Valid');
      expect(policy?.status?.observedGeneration).toBe(policy?.metadata.generation);
      expect(valid?.status).toBe(status);
      return valid as Condition;
    },
    { waitingFor: `Valid=${status} on SecurityGroupPolicy ${namespace}/${name}`, timeoutMs: 30_000 },
  );
}

async function waitEvent(namespace: string, name: string, reason: string): Promise<string> {
  return eventually(
    async () => {
      const event = (await eventsOf(world.client, namespace, name)).find((e) => e.reason === reason);
      expect(event).toBeDefined();
      return event?.message ?? '';
    },
    { waitingFor: `${reason} event on ${namespace}/${name}`, timeoutMs: 30_000 },
  );
}

const eniGroups = (eniId: string): string[] | undefined =>
  world.emulator.control
    .dump()
    .networkInterfaces.find((eni) => eni.id === eniId)
    ?.securityGroupIds.slice()
    .sort();

async function annotationOf(namespace: string, name: string): Promise<string | undefined> {
  const pod = await world.client.get<KubeObject>(Kinds.Pod, `${namespace}/${name}`);
  return pod?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'];
}

describe('security groups by name and tag selector', () => {
  test('a name resolves in the VPC; the pod gets that group; status shows the resolved id', async () => {
    const ns = await world.namespace('by-name');
    const groupName = uniqueName('orders-db');
    const groupId = await createGroup(groupName);
    await world.client.create(Kinds.SecurityGroupPolicy, namedPolicy(ns, 'db', { groupNames: [groupName] }));
    await waitValid(ns, 'db', 'True');
    expect((await policyOf(ns, 'db'))?.status).toMatchObject({
      resolvedGroupIds: [groupId],
      resolvedReferences: [{ name: groupName, groupId, groupName }],
    });

    await createTestPod(world.client, ns, 'api-0', { nodeName: node, labels: APP });
    const entry = await waitAnnotated(world.client, ns, 'api-0');
    expect(eniGroups(entry.eniId)).toEqual([groupId]);
    await world.deletePod(ns, 'api-0');
  });

  test('a group deleted and created again under its name is followed: Valid=False in between, then the new id', async () => {
    const ns = await world.namespace('recreated');
    const groupName = uniqueName('batch');
    const first = await createGroup(groupName);
    await world.client.create(Kinds.SecurityGroupPolicy, namedPolicy(ns, 'batch', { groupNames: [groupName] }));
    await waitValid(ns, 'batch', 'True');

    // EC2 has no rename: a name moves to another group only by deleting the old one (no ENI may carry it).
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: first }));
    const gone = await waitValid(ns, 'batch', 'False');
    expect(gone).toMatchObject({
      reason: 'GroupReferenceNotFound',
      message:
        `SecurityGroupPolicy ${ns}/batch names security groups by name "${groupName}", which no group in ` +
        `${world.vpcId} matches; create the group, fix spec.securityGroups.groupNames or groupSelectors, or name ` +
        'it by id in groupIds',
    });
    expect(await waitEvent(ns, 'batch', 'SecurityGroupReferenceUnresolved')).toBe(gone.message);

    const second = await createGroup(groupName);
    await waitValid(ns, 'batch', 'True');
    expect((await policyOf(ns, 'batch'))?.status?.resolvedGroupIds).toEqual([second]);
    await waitEvent(ns, 'batch', 'SecurityGroupPolicyValid');
  });

  test('a tag moved to another group is followed: the running pod keeps its ENI and annotation, its groups change in place', async () => {
    const ns = await world.namespace('moved');
    const tag = { Name: uniqueName('cache') };
    const before = await createGroup(uniqueName('cache-blue'), tag);
    const after = await createGroup(uniqueName('cache-green'));
    await world.client.create(Kinds.SecurityGroupPolicy, namedPolicy(ns, 'cache', { groupSelectors: [{ tags: tag }] }));
    await createTestPod(world.client, ns, 'api-0', { nodeName: node, labels: APP });
    const entry = await waitAnnotated(world.client, ns, 'api-0');
    expect(eniGroups(entry.eniId)).toEqual([before]);

    await ec2.send(new DeleteTagsCommand({ Resources: [before], Tags: [{ Key: 'Name' }] }));
    await ec2.send(new CreateTagsCommand({ Resources: [after], Tags: [{ Key: 'Name', Value: tag.Name }] }));

    await eventually(() => expect(eniGroups(entry.eniId)).toEqual([after]), {
      waitingFor: 'the running pod’s branch ENI carrying the group the tag moved to',
      timeoutMs: 30_000,
    });
    expect(await waitEvent(ns, 'cache', 'SecurityGroupReferenceChanged')).toContain(
      `now denotes ${after} (${await groupNameOf(after)}; was ${before})`,
    );
    expect(await annotationOf(ns, 'api-0')).toBe(JSON.stringify([entry]));
    await waitEvent(ns, 'api-0', 'SecurityGroupsUpdated');
    await world.deletePod(ns, 'api-0');
  });

  test('a group that stops matching: a condition and an event; the running pod is untouched, a new pod is held', async () => {
    const ns = await world.namespace('untagged');
    const tag = { role: uniqueName('ledger') };
    const groupId = await createGroup(uniqueName('ledger'), tag);
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      namedPolicy(ns, 'ledger', { groupSelectors: [{ tags: tag }] }),
    );
    await createTestPod(world.client, ns, 'api-0', { nodeName: node, labels: APP });
    const entry = await waitAnnotated(world.client, ns, 'api-0');
    // A group an ENI carries cannot be deleted in EC2; what can happen to it is losing the tag that names it.
    await ec2.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'role' }] }));

    const unresolved = await waitValid(ns, 'ledger', 'False');
    expect(unresolved.reason).toBe('GroupReferenceNotFound');
    expect(await waitEvent(ns, 'ledger', 'SecurityGroupReferenceUnresolved')).toBe(unresolved.message);

    await createTestPod(world.client, ns, 'api-1', { nodeName: node, labels: APP });
    const held = await waitEvent(ns, 'api-1', 'SecurityGroupPolicyInvalid');
    expect(held).toContain(`Pod matches invalid SecurityGroupPolicy ledger; its branch ENI is not created`);
    expect(held).toContain(unresolved.message);
    // The hold is decided (its event is out); the running pod was not touched: same ENI, groups, annotation,
    // and no EC2 call changed or deleted its ENI.
    expect(eniGroups(entry.eniId)).toEqual([groupId]);
    expect(await annotationOf(ns, 'api-0')).toBe(JSON.stringify([entry]));
    const touched = world.emulator.control
      .mutations()
      .filter((mutation) => mutation.networkInterfaceId === entry.eniId)
      .map((mutation) => mutation.action);
    expect(touched).toEqual(['CreateNetworkInterface', 'AssociateTrunkInterface']); // made and associated; nothing after
    expect(await annotationOf(ns, 'api-1')).toBeUndefined();
    expect(await world.client.get(Kinds.BranchInterface, `${ns}/api-1`)).toBeUndefined();
    await world.deletePod(ns, 'api-0');
    await world.deletePod(ns, 'api-1');
  });

  test('an ambiguous selector is refused naming both candidates; its pods are held', async () => {
    const ns = await world.namespace('ambiguous');
    const tag = { team: uniqueName('payments') };
    const blue = await createGroup(uniqueName('payments-blue'), tag);
    const green = await createGroup(uniqueName('payments-green'), tag);
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      namedPolicy(ns, 'payments', { groupSelectors: [{ tags: tag }] }),
    );
    const refused = await waitValid(ns, 'payments', 'False');
    expect(refused.reason).toBe('GroupReferenceAmbiguous');
    expect(refused.message).toContain(`which 2 groups in ${world.vpcId} match: `);
    expect(refused.message).toContain(`${blue} (${await groupNameOf(blue)})`);
    expect(refused.message).toContain(`${green} (${await groupNameOf(green)})`);

    await createTestPod(world.client, ns, 'api-0', { nodeName: node, labels: APP });
    expect(await waitEvent(ns, 'api-0', 'SecurityGroupPolicyInvalid')).toContain(refused.message);
    expect(await annotationOf(ns, 'api-0')).toBeUndefined();
    await world.deletePod(ns, 'api-0');
  });
});

async function groupNameOf(groupId: string): Promise<string> {
  return world.emulator.control.dump().securityGroups.find((group) => group.id === groupId)?.name ?? '';
}
