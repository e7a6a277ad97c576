/**
 * The pod networks the VPC CNI runs (docs/networks.md), end to end: the real kube-apiserver + etcd, the EC2
 * emulator over HTTP and the whole operator, one world per mode.
 *
 * - IPv6 cluster: one IPv6 address per branch ENI, the annotation's ipv6Addr/subnetV6Cidr as the CNI's IPv6
 *   path reads them; a subnet without an IPv6 block is an error on the node and the pod; the primary ENI's
 *   connection tracking is copied to trunk and branch ENIs.
 * - Dual-stack (IPv4 cluster, --dual-stack-branch-enis): both addresses on one branch ENI and in the annotation.
 * - Custom networking: trunk and branches in the node's ENIConfig subnet with its groups; an ENIConfig edit is
 *   followed without touching running pods (the emulator's mutation log proves it), and a warm ENI in the old
 *   subnet is released instead of given to a new pod; a missing ENIConfig waits.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { CNINode, ENIConfig, TrunkInterface, WarmBranch } from '../../../operator/api/types.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import type { DumpNetworkInterface } from '../../../hack/ec2-emulator/index.ts';
import { eventually } from '../harness/index.ts';
import { AZ, createTestPod, eventsOf, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

const VPC_V6 = '2600:1f14:abc:1200::/56';
const NODE_SUBNET_V6 = '2600:1f14:abc:1201::/64';
const TIMEOUTS = { timeoutMs: 60_000 };

function eniById(world: PodWorld, id: string): DumpNetworkInterface | undefined {
  return world.emulator.control.dump().networkInterfaces.find((eni) => eni.id === id);
}

async function trunkOf(world: PodWorld, node: string): Promise<TrunkInterface | undefined> {
  return world.client.get<TrunkInterface>(Kinds.TrunkInterface, node);
}

/** A namespace with a policy giving `group` to pods labelled app=web. */
async function policyNamespace(world: PodWorld, prefix: string, group: string): Promise<string> {
  const ns = await world.namespace(prefix);
  await world.client.create(
    Kinds.SecurityGroupPolicy,
    testPolicy(ns, 'web', [group], { podSelector: { matchLabels: { app: 'web' } } }),
  );
  return ns;
}

async function warnings(world: PodWorld, namespace: string, name: string, reason: string): Promise<string[]> {
  return (await eventsOf(world.client, namespace, name))
    .filter((event) => event.type === 'Warning' && event.reason === reason)
    .map((event) => event.message ?? '');
}

describe('IPv6 cluster', () => {
  let world: PodWorld;
  beforeAll(async () => {
    world = await startPodWorld(() => ({ ipFamily: 'ipv6' }));
    world.emulator.control.addVpcIpv6Cidr(world.vpcId, VPC_V6);
    world.emulator.control.addSubnetIpv6Cidr(world.subnetId, NODE_SUBNET_V6);
  }, 120_000);
  afterAll(async () => world?.stop());

  test('a branch ENI gets one IPv6 address of its subnet; the annotation carries ipv6Addr and subnetV6Cidr; trunk and branch copy the primary ENI connection tracking', async () => {
    const tracking = { tcpEstablishedTimeout: 3600, udpStreamTimeout: 120, udpTimeout: 45 };
    const node = await world.addManagedNode('v6', 'm5.large', undefined, { connectionTracking: tracking });
    const ns = await policyNamespace(world, 'v6', world.groups['rds-access'] ?? '');
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' } });

    const entry = await waitAnnotated(world.client, ns, 'web-0');
    const eni = eniById(world, entry.eniId);
    expect(eni?.ipv6Addresses).toHaveLength(1);
    expect(entry).toEqual({
      eniId: eni?.id,
      ifAddress: eni?.macAddress,
      privateIp: eni?.privateIpAddress,
      ipv6Addr: eni?.ipv6Addresses[0],
      vlanId: 1,
      subnetCidr: '10.0.0.0/24',
      subnetV6Cidr: NODE_SUBNET_V6,
      associationID: expect.stringMatching(/^trunk-assoc-/),
    });
    // What the CNI's IPv6 pod-ENI path needs: an address inside the /64 it parses from subnetV6Cidr.
    expect(entry.ipv6Addr.startsWith('2600:1f14:abc:1201:')).toBe(true);

    const trunkEniId = (await trunkOf(world, node))?.status?.eniId ?? '';
    expect(eni?.connectionTracking).toEqual(tracking);
    expect(eniById(world, trunkEniId)?.connectionTracking).toEqual(tracking);
    // The CNINode carries what a restarted controller (ours, or EKS's v1.8) needs without describing EC2.
    const cniNode = await world.client.get<CNINode>(Kinds.CNINode, node);
    expect(cniNode?.status?.nodeNetworkState).toEqual({
      instanceID: (await trunkOf(world, node))?.spec.instanceId,
      instanceType: 'm5.large',
      subnetID: world.subnetId,
      subnetCIDRBlock: '10.0.0.0/24',
      subnetV6CIDRBlock: NODE_SUBNET_V6,
      primaryNetworkInterfaceSecurityGroups: [world.groups['node-group']],
      connectionTracking: tracking,
    });
  });

  test('a subnet without an IPv6 block is an error on the node and the pod naming the subnet; associating one lets the pod through', async () => {
    const zone = 'us-west-2b';
    const v4Only = world.emulator.control.addSubnet({
      vpcId: world.vpcId,
      cidrBlock: '10.0.2.0/24',
      availabilityZone: zone,
    });
    const node = await world.addManagedNode('v4only', 'm5.large', { subnetId: v4Only.id, availabilityZone: zone });
    await eventually(
      async () =>
        expect(await warnings(world, 'default', node, 'SubnetWithoutIPv6Block')).toEqual([
          expect.stringContaining(`the subnet of node ${node} ${v4Only.id} has no IPv6 CIDR block`),
        ]),
      { waitingFor: `a SubnetWithoutIPv6Block Warning on Node ${node}`, ...TIMEOUTS },
    );
    const condition = (await trunkOf(world, node))?.status?.conditions?.find((c) => c.type === 'PodNetworkReady');
    expect(condition).toMatchObject({ status: 'False', reason: 'SubnetWithoutIPv6Block' });

    const ns = await policyNamespace(world, 'v4only', world.groups['rds-access'] ?? '');
    const createCalls = () => world.emulator.control.counters().CreateNetworkInterface?.calls ?? 0;
    const createsBefore = createCalls();
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' } });
    await eventually(
      async () =>
        expect(await warnings(world, ns, 'web-0', 'BranchAllocationFailed')).toContainEqual(
          expect.stringContaining(`subnet ${v4Only.id} of node ${node} has no IPv6 CIDR block`),
        ),
      { waitingFor: `a BranchAllocationFailed Warning on pod ${ns}/web-0 naming ${v4Only.id}`, ...TIMEOUTS },
    );
    // Nothing was asked of EC2 for the pod (not even a call EC2 would refuse): the operator knew the subnet
    // could not give it an address.
    expect(createCalls()).toBe(createsBefore);

    world.emulator.control.addSubnetIpv6Cidr(v4Only.id, '2600:1f14:abc:1202::/64');
    // The trunk looks at the subnet again within a minute; a Node update (any) brings that forward.
    await world.client.mergePatch(Kinds.Node, node, { metadata: { labels: { 'ipv6-block': 'added' } } });
    const entry = await waitAnnotated(world.client, ns, 'web-0');
    expect(entry.subnetV6Cidr).toBe('2600:1f14:abc:1202::/64');
    expect(entry.ipv6Addr.startsWith('2600:1f14:abc:1202:')).toBe(true);
  });
});

describe('dual-stack branch ENIs on an IPv4 cluster', () => {
  let world: PodWorld;
  beforeAll(async () => {
    world = await startPodWorld(() => ({ ipFamily: 'ipv4', dualStackBranchEnis: true }));
    world.emulator.control.addVpcIpv6Cidr(world.vpcId, VPC_V6);
    world.emulator.control.addSubnetIpv6Cidr(world.subnetId, NODE_SUBNET_V6);
  }, 120_000);
  afterAll(async () => world?.stop());

  test('one branch ENI carries an IPv4 and an IPv6 address, and the annotation both', async () => {
    const node = await world.addManagedNode('dual');
    const ns = await policyNamespace(world, 'dual', world.groups['rds-access'] ?? '');
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' } });

    const entry = await waitAnnotated(world.client, ns, 'web-0');
    const eni = eniById(world, entry.eniId);
    expect(eni?.privateIpAddress).toMatch(/^10\.0\.0\.\d+$/);
    expect(eni?.ipv6Addresses).toHaveLength(1);
    expect(entry).toMatchObject({
      privateIp: eni?.privateIpAddress,
      ipv6Addr: eni?.ipv6Addresses[0],
      subnetCidr: '10.0.0.0/24',
      subnetV6Cidr: NODE_SUBNET_V6,
    });
  });
});

describe('custom networking (ENIConfig)', () => {
  const ZONE_LABEL = 'topology.kubernetes.io/zone';
  let world: PodWorld;
  let podSubnetA: string;
  let podSubnetA2: string;
  let podGroups: string;
  let podGroups2: string;

  const eniConfig = (name: string, subnet: string, securityGroups: string[]): ENIConfig => ({
    apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
    kind: 'ENIConfig',
    metadata: { name },
    spec: { subnet, securityGroups },
  });

  beforeAll(async () => {
    // The CNI's own rule: one ENIConfig per zone, named by the zone label (ENI_CONFIG_LABEL_DEF).
    world = await startPodWorld(() => ({ customNetworking: 'enabled', eniConfigLabelKey: ZONE_LABEL }));
    const control = world.emulator.control;
    control.addVpcCidr(world.vpcId, '100.64.0.0/16');
    podSubnetA = control.addSubnet({ vpcId: world.vpcId, cidrBlock: '100.64.0.0/24', availabilityZone: AZ }).id;
    podSubnetA2 = control.addSubnet({ vpcId: world.vpcId, cidrBlock: '100.64.1.0/24', availabilityZone: AZ }).id;
    podGroups = control.addSecurityGroup({ vpcId: world.vpcId, name: 'pods-a' }).id;
    podGroups2 = control.addSecurityGroup({ vpcId: world.vpcId, name: 'pods-a2' }).id;
  }, 120_000);
  afterAll(async () => world?.stop());

  test('trunk and branch ENIs live in the ENIConfig subnet; the trunk carries its groups, the branch its policy groups; an edit is followed without touching running pods', async () => {
    const name = 'cn-custom-a';
    await world.client.create(Kinds.ENIConfig, eniConfig(name, podSubnetA, [podGroups]));
    // The ENIConfig named the way ipamd tells the resource controller: the CNINode CustomNetworking feature.
    const node = await world.addManagedNode('cn', 'm5.large', undefined, {
      features: [{ name: 'CustomNetworking', value: name }],
    });
    const trunk = await trunkOf(world, node);
    const trunkEni = eniById(world, trunk?.status?.eniId ?? '');
    expect([trunkEni?.subnetId, trunkEni?.securityGroupIds]).toEqual([podSubnetA, [podGroups]]);
    expect(trunk?.status).toMatchObject({
      eniConfig: name,
      branchSubnet: { subnetId: podSubnetA, cidrBlock: '100.64.0.0/24' },
      securityGroups: [podGroups],
    });

    const rds = world.groups['rds-access'] ?? '';
    const ns = await policyNamespace(world, 'cn', rds);
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' } });
    const first = await waitAnnotated(world.client, ns, 'web-0');
    const firstEni = eniById(world, first.eniId);
    expect([firstEni?.subnetId, firstEni?.securityGroupIds, first.subnetCidr]).toEqual([
      podSubnetA,
      [rds],
      '100.64.0.0/24',
    ]);
    const firstAnnotation = (await world.client.get<KubeObject>(Kinds.Pod, `${ns}/web-0`))?.metadata.annotations?.[
      'vpc.amazonaws.com/pod-eni'
    ];

    // The edit: another subnet and other default groups for the node.
    const editedAt = world.emulator.control.mutations().length;
    await world.client.mergePatch(Kinds.ENIConfig, name, {
      spec: { subnet: podSubnetA2, securityGroups: [podGroups2] },
    });
    await eventually(
      async () =>
        expect((await trunkOf(world, node))?.status).toMatchObject({
          branchSubnet: { subnetId: podSubnetA2, cidrBlock: '100.64.1.0/24' },
          securityGroups: [podGroups2],
        }),
      { waitingFor: `TrunkInterface ${node} to follow the ENIConfig edit`, ...TIMEOUTS },
    );
    // The trunk is the same ENI, its groups changed in place.
    expect(eniById(world, trunkEni?.id ?? '')?.securityGroupIds).toEqual([podGroups2]);
    expect((await trunkOf(world, node))?.status?.eniId).toBe(trunkEni?.id);

    await createTestPod(world.client, ns, 'web-1', { nodeName: node, labels: { app: 'web' } });
    const second = await waitAnnotated(world.client, ns, 'web-1');
    expect([eniById(world, second.eniId)?.subnetId, second.subnetCidr]).toEqual([podSubnetA2, '100.64.1.0/24']);

    // The running pod kept its ENI, address and annotation; EC2 saw no call on its ENI since the edit.
    const stillThere = eniById(world, first.eniId);
    expect([stillThere?.subnetId, stillThere?.privateIpAddress]).toEqual([podSubnetA, first.privateIp]);
    expect(
      (await world.client.get<KubeObject>(Kinds.Pod, `${ns}/web-0`))?.metadata.annotations?.[
        'vpc.amazonaws.com/pod-eni'
      ],
    ).toBe(firstAnnotation);
    const since = world.emulator.control.mutations().slice(editedAt);
    expect(since.filter((m) => m.networkInterfaceId === first.eniId)).toEqual([]);
    expect(since.filter((m) => m.networkInterfaceId === trunkEni?.id).map((m) => m.action)).toEqual([
      'ModifyNetworkInterfaceAttribute',
    ]);
    await eventually(
      async () =>
        expect((await eventsOf(world.client, 'default', node)).map((e) => e.reason)).toContain('PodNetworkChanged'),
      { waitingFor: `a PodNetworkChanged event on Node ${node}` },
    );
  });

  test('a node naming its ENIConfig by annotation (ENI_CONFIG_ANNOTATION_DEF) gets its trunk there: the annotation wins over the label, as in the CNI', async () => {
    const name = 'cn-annotated';
    await world.client.create(Kinds.ENIConfig, eniConfig(name, podSubnetA2, [podGroups2]));
    // The zone label names an ENIConfig too (the world's ENI_CONFIG_LABEL_DEF); the annotation is read first.
    const node = await world.addManagedNode('cn-annotated', 'm5.large', undefined, {
      labels: { [ZONE_LABEL]: AZ },
      annotations: { 'k8s.amazonaws.com/eniConfig': name },
    });
    const trunk = await trunkOf(world, node);
    expect(trunk?.status).toMatchObject({ eniConfig: name, branchSubnet: { subnetId: podSubnetA2 } });
    const trunkEni = eniById(world, trunk?.status?.eniId ?? '');
    expect([trunkEni?.subnetId, trunkEni?.securityGroupIds]).toEqual([podSubnetA2, [podGroups2]]);
  });

  test('after an ENIConfig edit a warm ENI in the old subnet goes to no pod and is released; the next pod gets one in the new subnet', async () => {
    const control = world.emulator.control;
    const before = control.addSubnet({ vpcId: world.vpcId, cidrBlock: '100.64.3.0/24', availabilityZone: AZ }).id;
    const after = control.addSubnet({ vpcId: world.vpcId, cidrBlock: '100.64.4.0/24', availabilityZone: AZ }).id;
    const name = 'cn-warm';
    await world.client.create(Kinds.ENIConfig, eniConfig(name, before, [podGroups]));
    const node = await world.addManagedNode('cn-warm', 'm5.large', undefined, {
      features: [{ name: 'CustomNetworking', value: name }],
    });
    const ns = await policyNamespace(world, 'cn-warm', world.groups['rds-access'] ?? '');

    // A pod's ENI, kept warm (docs/warm-branches.md) once the pod is gone and its cooldown over.
    await createTestPod(world.client, ns, 'web-0', { nodeName: node, labels: { app: 'web' } });
    const gone = await waitAnnotated(world.client, ns, 'web-0');
    expect(eniById(world, gone.eniId)?.subnetId).toBe(before);
    await world.deletePod(ns, 'web-0');
    await eventually(
      async () => expect(await world.client.get<WarmBranch>(Kinds.WarmBranch, gone.eniId)).toBeDefined(),
      { waitingFor: `branch ENI ${gone.eniId} kept warm`, ...TIMEOUTS },
    );

    await world.client.mergePatch(Kinds.ENIConfig, name, { spec: { subnet: after } });
    await eventually(async () => expect((await trunkOf(world, node))?.status?.branchSubnet?.subnetId).toBe(after), {
      waitingFor: `TrunkInterface ${node} to follow the ENIConfig edit`,
      ...TIMEOUTS,
    });
    await createTestPod(world.client, ns, 'web-1', { nodeName: node, labels: { app: 'web' } });
    const next = await waitAnnotated(world.client, ns, 'web-1');
    expect(next.eniId).not.toBe(gone.eniId);
    expect([eniById(world, next.eniId)?.subnetId, next.subnetCidr]).toEqual([after, '100.64.4.0/24']);

    await eventually(
      async () => {
        expect(await world.client.get<WarmBranch>(Kinds.WarmBranch, gone.eniId)).toBeUndefined();
        expect(eniById(world, gone.eniId)).toBeUndefined();
        const released = (await eventsOf(world.client, 'default', node)).filter(
          (event) => event.reason === 'WarmBranchENIReleased',
        );
        expect(released.map((event) => event.message)).toEqual([
          expect.stringContaining(`is in subnet ${before}, where node ${node}'s new branch ENIs no longer go`),
        ]);
      },
      { waitingFor: `warm branch ENI ${gone.eniId} released after the edit`, ...TIMEOUTS },
    );
  });

  test('a node whose ENIConfig does not exist gets no trunk and a Warning naming it; creating the ENIConfig lets it through', async () => {
    const zone = 'us-west-2c';
    const control = world.emulator.control;
    const nodeSubnet = control.addSubnet({ vpcId: world.vpcId, cidrBlock: '10.0.3.0/24', availabilityZone: zone });
    const podSubnetC = control.addSubnet({ vpcId: world.vpcId, cidrBlock: '100.64.2.0/24', availabilityZone: zone });
    const node = await world.addManagedNode(
      'cn-missing',
      'm5.large',
      { subnetId: nodeSubnet.id, availabilityZone: zone },
      { labels: { [ZONE_LABEL]: zone }, waitReady: false },
    );
    await eventually(
      async () =>
        expect(await warnings(world, 'default', node, 'ENIConfigNotFound')).toEqual([
          expect.stringContaining(`node ${node} uses ENIConfig ${zone} (the ENIConfig label), which does not exist`),
        ]),
      { waitingFor: `an ENIConfigNotFound Warning on Node ${node}`, ...TIMEOUTS },
    );
    expect((await trunkOf(world, node))?.status).toMatchObject({
      state: 'Pending',
      conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', reason: 'WaitingForPodNetwork' })]),
    });
    const instanceId = (await trunkOf(world, node))?.spec.instanceId;
    const trunkCreates = () =>
      control
        .mutations()
        .filter(
          (m) => m.action === 'CreateNetworkInterface' && m.tags?.['node.k8s.amazonaws.com/instance_id'] === instanceId,
        );
    expect(trunkCreates()).toEqual([]);

    await world.client.create(Kinds.ENIConfig, eniConfig(zone, podSubnetC.id, []));
    await eventually(async () => expect((await trunkOf(world, node))?.status?.state).toBe('Ready'), {
      waitingFor: `TrunkInterface ${node} Ready once its ENIConfig exists`,
      ...TIMEOUTS,
    });
    const trunkEni = eniById(world, (await trunkOf(world, node))?.status?.eniId ?? '');
    // No groups in the ENIConfig: the primary ENI's, as the CNI does.
    expect([trunkEni?.subnetId, trunkEni?.securityGroupIds]).toEqual([podSubnetC.id, [world.groups['node-group']]]);
  });
});
