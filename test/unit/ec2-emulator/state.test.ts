import { describe, expect, test } from '@jest/globals';
import { Ec2Fault } from '../../../hack/ec2-emulator/protocol/errors.ts';
import { QueryParams } from '../../../hack/ec2-emulator/protocol/query.ts';
import { errorXml, successXml } from '../../../hack/ec2-emulator/protocol/xml.ts';
import { Ipv4Pool, parseCidr } from '../../../hack/ec2-emulator/state/ipam.ts';
import {
  attachNetworkInterface,
  createNetworkInterface,
  deleteNetworkInterface,
} from '../../../hack/ec2-emulator/state/ops-eni.ts';
import { applySeed, launchInstance, terminateInstance } from '../../../hack/ec2-emulator/state/ops-topology.ts';
import { associateTrunkInterface } from '../../../hack/ec2-emulator/state/ops-trunk.ts';
import { Store } from '../../../hack/ec2-emulator/state/store.ts';
import { storeConfigFrom } from '../../../hack/ec2-emulator/emulator.ts';

function world(rngSeed = 'unit') {
  let now = 1_000;
  const store = new Store(storeConfigFrom({}), rngSeed, () => now);
  const seeded = applySeed(store, {
    vpcs: [
      {
        cidrBlocks: ['10.0.0.0/16'],
        subnets: [{ cidrBlock: '10.0.1.0/24', availabilityZone: 'us-west-2a', tags: { Name: 'a' } }],
        securityGroups: [{ name: 'node' }],
        instances: [{ instanceType: 'm5.large', subnet: 'a', securityGroups: ['node'] }],
      },
    ],
  });
  return { store, seeded, advance: (ms: number) => (now += ms) };
}

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof Ec2Fault) return error.code;
    throw error;
  }
  return 'no error';
};

const branch = (store: Store, subnetId: string) =>
  createNetworkInterface(store, {
    subnetId,
    groupIds: undefined,
    description: '',
    interfaceType: 'interface',
    tags: new Map(),
    secondaryPrivateIpCount: 0,
  });

describe('determinism', () => {
  test('the same rngSeed gives the same ids, IPs and MACs; another seed gives other ids', () => {
    const snapshot = (seed: string) => {
      const { store, seeded } = world(seed);
      const eni = branch(store, seeded.subnetIds[0] ?? '');
      return [seeded.instanceIds, eni.id, eni.macAddress, eni.privateIpAddresses];
    };
    expect(snapshot('x')).toEqual(snapshot('x'));
    expect(snapshot('x')[1]).not.toEqual(snapshot('y')[1]);
  });
});

describe('IPv4 pool', () => {
  test.each([
    ['/28 has 11 usable', '10.0.0.0/28', 11],
    ['/24 has 251 usable', '10.0.0.0/24', 251],
    ['/16 has 65531 usable', '10.0.0.0/16', 65531],
  ])('%s', (_name, cidr, usable) => {
    const pool = new Ipv4Pool(parseCidr(cidr));
    const got = new Set<string>();
    for (let ip = pool.allocate(); ip !== undefined; ip = pool.allocate()) got.add(ip);
    expect([got.size, pool.available]).toEqual([usable, 0]);
  });

  test('never hands out reserved addresses and reuses the lowest released one', () => {
    const pool = new Ipv4Pool(parseCidr('10.0.0.0/28'));
    const first = pool.allocate();
    pool.allocate();
    expect(first).toBe('10.0.0.4');
    expect(pool.claim('10.0.0.15')).toBe(false);
    expect(pool.claim('10.0.0.3')).toBe(false);
    pool.release('10.0.0.4');
    expect(pool.allocate()).toBe('10.0.0.4');
  });

  test.each([['10.0.0.1/24'], ['10.0.0.0/8'], ['10.0.0.0/29'], ['banana']])('rejects CIDR %s', (cidr) => {
    expect(code(() => parseCidr(cidr))).toBe('InvalidParameterValue');
  });
});

describe('state machine rules', () => {
  test('deleting an associated branch drops the association (default) or is refused (strict)', () => {
    const { store, seeded } = world();
    const subnetId = seeded.subnetIds[0] ?? '';
    const instanceId = seeded.instanceIds[0] ?? '';
    const trunk = createNetworkInterface(store, {
      subnetId,
      groupIds: undefined,
      description: '',
      interfaceType: 'trunk',
      tags: new Map(),
      secondaryPrivateIpCount: 0,
    });
    attachNetworkInterface(store, { eniId: trunk.id, instanceId, deviceIndex: 1, networkCardIndex: 0 });
    const b1 = branch(store, subnetId);
    associateTrunkInterface(store, { branchId: b1.id, trunkId: trunk.id, vlanId: 1 });
    store.config.strictBranchDeletion = true;
    expect(code(() => deleteNetworkInterface(store, b1.id))).toBe('InvalidParameterValue');
    store.config.strictBranchDeletion = false;
    deleteNetworkInterface(store, b1.id);
    expect([store.associations.size, store.associationsByTrunk.size, store.associationByBranch.size]).toEqual([
      0, 0, 0,
    ]);
  });

  test('eventual consistency hides a new ENI from explicit lookups until the delay passes', () => {
    const { store, seeded, advance } = world();
    store.config.eventualConsistencyMs = 50;
    const eni = branch(store, seeded.subnetIds[0] ?? '');
    expect(code(() => store.requireEni(eni.id))).toBe('InvalidNetworkInterfaceID.NotFound');
    advance(50);
    expect(store.requireEni(eni.id).id).toBe(eni.id);
  });

  test('t3 instances are not trunking-compatible', () => {
    const { store, seeded } = world();
    const t3 = launchInstance(store, { instanceType: 't3.medium', subnet: 'a', securityGroups: ['node'] });
    const trunk = createNetworkInterface(store, {
      subnetId: seeded.subnetIds[0] ?? '',
      groupIds: undefined,
      description: '',
      interfaceType: 'trunk',
      tags: new Map(),
      secondaryPrivateIpCount: 0,
    });
    expect(
      code(() =>
        attachNetworkInterface(store, { eniId: trunk.id, instanceId: t3.id, deviceIndex: 1, networkCardIndex: 0 }),
      ),
    ).toBe('InvalidParameterValue');
  });

  test('termination releases the primary ENI address back to the subnet and keeps indexes empty', () => {
    const { store, seeded } = world();
    const subnet = store.subnets.get(seeded.subnetIds[0] ?? '');
    const before = subnet?.pool.available ?? 0;
    terminateInstance(store, seeded.instanceIds[0] ?? '');
    expect([subnet?.pool.available, store.enis.size, store.enisByInstance.size]).toEqual([before + 1, 0, 0]);
  });
});

describe('wire format', () => {
  test('lists are sorted numerically and structs grouped', () => {
    const params = QueryParams.parse('A.10=j&A.2=b&A.1=a&F.2.Name=y&F.1.Name=x&F.1.Value.1=v', '');
    expect(params.list('A')).toEqual(['a', 'b', 'j']);
    expect(params.structs('F').map((f) => [f.string('Name'), f.list('Value')])).toEqual([
      ['x', ['v']],
      ['y', []],
    ]);
  });

  test('XML: <item> lists, empty lists self-closed, escaping, error envelope without namespace', () => {
    expect(successXml('X', 'r', { a: [{ b: '<&>' }], c: [], d: undefined, e: true })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<XResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><a><item><b>&lt;&amp;&gt;</b></item></a><c/><e>true</e></XResponse>',
    );
    expect(errorXml('C', 'm', 'r')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>C</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>',
    );
  });
});
