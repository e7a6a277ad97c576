/**
 * VPC address ranges while the operator runs: a CIDR block and a subnet tagged for pods added to the VPC are
 * picked up without a restart (TrunkInterface status, Node events, metrics), and pods on a node whose subnet
 * runs out of addresses get their branch ENIs in the tagged subnet of the node's zone, with no pod failing.
 * Real kube-apiserver + etcd, the EC2 emulator over HTTP, the whole operator (refreshing every second here).
 * Each test uses its own availability zone, so neither sees the other's subnets.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { DEFAULT_POD_SUBNET_TAG_KEY } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { TrunkInterface } from '../../../operator/api/types.ts';
import { registry } from '../../../operator/observability/metrics.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, eventsOf, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

let world: PodWorld;

beforeAll(async () => {
  world = await startPodWorld(() => ({ vpcRefreshIntervalSeconds: 1 }));
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

const TAGGED = { [DEFAULT_POD_SUBNET_TAG_KEY]: '1' };

async function changesCounted(change: string): Promise<number> {
  const metric = await registry.getSingleMetric('sgp_vpc_network_changes_total')?.get();
  return metric?.values.find((value) => value.labels.change === change)?.value ?? 0;
}

async function trunkOf(node: string): Promise<TrunkInterface | undefined> {
  return world.client.get<TrunkInterface>(Kinds.TrunkInterface, node);
}

describe('VPC address ranges', () => {
  test('a CIDR block and a tagged subnet added while running reach status, Node events and metrics', async () => {
    const zone = 'us-west-2a';
    const node = await world.addManagedNode('ranges');
    await eventually(async () => expect((await trunkOf(node))?.status?.vpcCidrBlocks).toEqual(['10.0.0.0/16']), {
      waitingFor: `TrunkInterface ${node} reports the VPC's CIDR blocks`,
    });
    const cidrsBefore = await changesCounted('cidr_added');
    const subnetsBefore = await changesCounted('subnet_added');

    world.emulator.control.addVpcCidr(world.vpcId, '100.64.0.0/16');
    const added = world.emulator.control.addSubnet({
      vpcId: world.vpcId,
      cidrBlock: '100.64.0.0/24',
      availabilityZone: zone,
      tags: TAGGED,
    });
    // Elsewhere: another zone's tagged subnet and an untagged one in this zone are not this node's.
    world.emulator.control.addSubnet({
      vpcId: world.vpcId,
      cidrBlock: '100.64.1.0/24',
      availabilityZone: 'us-west-2c',
      tags: TAGGED,
    });
    world.emulator.control.addSubnet({ vpcId: world.vpcId, cidrBlock: '100.64.2.0/24', availabilityZone: zone });

    await eventually(
      async () => {
        const status = (await trunkOf(node))?.status;
        expect(status?.vpcCidrBlocks).toEqual(['10.0.0.0/16', '100.64.0.0/16']);
        expect(status?.podSubnets).toEqual([{ subnetId: added.id, cidrBlock: '100.64.0.0/24' }]);
      },
      { waitingFor: `TrunkInterface ${node} reports the new CIDR block and subnet` },
    );
    await eventually(
      async () => {
        const events = await eventsOf(world.client, 'default', node);
        expect(events).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              reason: 'VpcCidrBlocksChanged',
              message: expect.stringContaining('added 100.64.0.0/16'),
            }),
            expect.objectContaining({
              reason: 'PodSubnetsChanged',
              message: expect.stringContaining(`added ${added.id} (100.64.0.0/24)`),
            }),
          ]),
        );
      },
      { waitingFor: `Node ${node} events announcing the new ranges` },
    );
    expect(await changesCounted('cidr_added')).toBe(cidrsBefore + 1);
    expect(await changesCounted('subnet_added')).toBe(subnetsBefore + 2);
  });

  test('an exhausted node subnet falls over to the tagged subnet of its zone, and no pod fails', async () => {
    const zone = 'us-west-2b';
    // A /28 leaves 11 addresses; the instance and its trunk take two, and other ENIs all but two of the rest.
    const small = world.emulator.control.addSubnet({
      vpcId: world.vpcId,
      cidrBlock: '10.0.8.0/28',
      availabilityZone: zone,
    });
    const node = await world.addManagedNode('exhausted', 'm5.large', { subnetId: small.id, availabilityZone: zone });
    const free = world.emulator.control.dump().subnets.find((s) => s.id === small.id)?.availableIpAddressCount ?? 0;
    world.emulator.control.bulkCreateNetworkInterfaces({ subnetId: small.id, count: free - 2 });
    const tagged = world.emulator.control.addSubnet({
      vpcId: world.vpcId,
      cidrBlock: '10.0.9.0/24',
      availabilityZone: zone,
      tags: TAGGED,
    });
    await eventually(
      async () =>
        expect((await trunkOf(node))?.status?.podSubnets).toEqual([{ subnetId: tagged.id, cidrBlock: '10.0.9.0/24' }]),
      { waitingFor: `TrunkInterface ${node} lists ${tagged.id}` },
    );

    const ns = await world.namespace('exhausted');
    const groups = [world.groups['rds-access'] ?? ''];
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(ns, 'rds', groups, { podSelector: { matchLabels: { app: 'api' } } }),
    );
    const names = ['api-0', 'api-1', 'api-2', 'api-3', 'api-4'];
    for (const name of names) await createTestPod(world.client, ns, name, { nodeName: node, labels: { app: 'api' } });

    const entries = await Promise.all(names.map((name) => waitAnnotated(world.client, ns, name)));
    const enis = world.emulator.control.dump().networkInterfaces;
    const subnetOf = (eniId: string) => enis.find((eni) => eni.id === eniId)?.subnetId;
    // Every annotation names the CIDR of the subnet its ENI is really in (the CNI derives the gateway from it).
    for (const entry of entries) {
      expect(entry.subnetCidr).toBe(subnetOf(entry.eniId) === small.id ? '10.0.8.0/28' : '10.0.9.0/24');
      expect(enis.find((eni) => eni.id === entry.eniId)?.securityGroupIds).toEqual(groups);
    }
    const inSmall = entries.filter((entry) => subnetOf(entry.eniId) === small.id).length;
    const inTagged = entries.filter((entry) => subnetOf(entry.eniId) === tagged.id).length;
    expect([inSmall, inTagged]).toEqual([2, 3]);

    const podEvents = (await Promise.all(names.map((name) => eventsOf(world.client, ns, name)))).flat();
    expect(podEvents.filter((event) => event.type === 'Warning')).toEqual([]);
    expect(podEvents.filter((event) => event.reason === 'BranchENISubnetFallback')).toHaveLength(3);
  });
});
