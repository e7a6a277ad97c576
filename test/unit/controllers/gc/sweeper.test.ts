/**
 * LeakSweeper against an in-memory EC2 and API server: what one sweep deletes (and what it must never
 * delete), the order of its calls, and that the loop sweeps again after its interval.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { ENI_OWNER, TAG } from '../../../../operator/api/constants.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../../../../operator/api/types.ts';
import { Ec2RetryableError } from '../../../../operator/aws/index.ts';
import { LeakSweeper } from '../../../../operator/controllers/gc/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import type { KubeObject, Reader } from '../../../../operator/framework/types.ts';
import { silentLogger } from '../../../../operator/observability/logger.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';
import { FakeKube } from '../../../kit/kube.ts';

const CLUSTER = 'prod';
const INTERVAL_MS = 30_000;

let ec2: EmulatedEc2;
let vpc: TestVpc;
let liveInstanceId: string;
let trunkEniId: string;
let kube: FakeKube;
let clock: FakeClock;
let sweeper: LeakSweeper;
let nextVlan: number;

/**
 * A branch ENI as we tag it (owner, cluster, trunk, instance and pod), associated with the live node's trunk
 * unless `available`; `without` drops tags. Made through `prepare`: the call log holds only the sweeper's calls.
 */
async function branchEni(
  pod: { namespace: string; name: string; uid: string },
  options: { available?: boolean; instanceId?: string; without?: string[] } = {},
): Promise<string> {
  const tags: Record<string, string> = {
    [TAG.owner]: ENI_OWNER,
    [TAG.clusterName]: CLUSTER,
    [TAG.trunkEniId]: trunkEniId,
    [TAG.instanceId]: options.instanceId ?? liveInstanceId,
    [TAG.podNamespace]: pod.namespace,
    [TAG.podName]: pod.name,
    [TAG.podUid]: pod.uid,
  };
  for (const key of options.without ?? []) delete tags[key];
  const eni = await ec2.prepare.createNetworkInterface({
    subnetId: vpc.subnetId,
    securityGroupIds: [vpc.podGroupIds[0] ?? ''],
    description: 'aws-k8s-branch-eni',
    tags,
    clientToken: `${pod.uid}-${pod.name}`,
  });
  if (!options.available) {
    await ec2.prepare.associateTrunkInterface({
      branchInterfaceId: eni.id,
      trunkInterfaceId: trunkEniId,
      vlanId: nextVlan++,
      clientToken: `associate-${eni.id}`,
    });
  }
  return eni.id;
}

function branchInterface(namespace: string, name: string, podUid: string, eniId?: string): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name, namespace },
    spec: { podName: name, podUid, nodeName: 'node-1', securityGroups: [vpc.podGroupIds[0] ?? ''] },
    ...(eniId ? { status: { eniId } } : {}),
  };
}

function pod(namespace: string, name: string, uid: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid } };
}

/** The ENI calls that change EC2, in order. */
function mutations(): string[] {
  return ec2.calls
    .filter((call) => call.method === 'deleteNetworkInterface' || call.method === 'disassociateTrunkInterface')
    .map((call) =>
      call.method === 'deleteNetworkInterface'
        ? `delete ${String(call.input)}`
        : `disassociate ${(call.input as { associationId: string }).associationId}`,
    );
}

const associationOf = (eniId: string) =>
  ec2.associations().find((association) => association.branchInterfaceId === eniId)?.associationId;

beforeEach(async () => {
  clock = new FakeClock();
  ec2 = new EmulatedEc2({ clock });
  vpc = ec2.seedVpc();
  liveInstanceId = ec2.launchNode(vpc);
  trunkEniId = await ec2.addTrunk(vpc, liveInstanceId);
  nextVlan = 1;
  kube = new FakeKube();
  kube.seed<TrunkInterface>(Kinds.TrunkInterface, {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-1' },
    spec: { nodeName: 'node-1', instanceId: liveInstanceId, instanceType: 'm5.large' },
    status: { eniId: trunkEniId },
  });
  sweeper = build(kube.reader<BranchInterface>(Kinds.BranchInterface));
});

function build(branches: Reader<BranchInterface>): LeakSweeper {
  return new LeakSweeper({
    ec2,
    client: kube,
    branches,
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    clusterName: CLUSTER,
    vpcId: vpc.vpcId,
    intervalMs: INTERVAL_MS,
    log: silentLogger,
    clock,
  });
}

describe('LeakSweeper.sweepOnce', () => {
  test('an associated branch ENI whose pod is gone everywhere is disassociated, then deleted', async () => {
    const leak = await branchEni({ namespace: 'shop', name: 'web-0', uid: 'uid-gone' });
    const association = associationOf(leak);

    await expect(sweeper.sweepOnce()).resolves.toEqual([leak]);

    expect(mutations()).toEqual([`disassociate ${association}`, `delete ${leak}`]);
    expect(ec2.eni(leak)).toBeUndefined();
    expect(ec2.associations()).toEqual([]);
    // Only our cluster's ENIs are listed at all.
    expect(ec2.callsOf('describeNetworkInterfaces')).toEqual([
      { tags: { [TAG.owner]: [ENI_OWNER], [TAG.clusterName]: [CLUSTER] }, vpcId: vpc.vpcId },
    ]);
  });

  test('the owner is read by pod UID from the API server: a BranchInterface the cache missed keeps the ENI', async () => {
    await branchEni({ namespace: 'shop', name: 'web-0', uid: 'uid-1' });
    kube.seed(Kinds.BranchInterface, branchInterface('shop', 'web-0-2', 'uid-1'));
    // A synced cache that has not seen the BranchInterface yet (a partial view right after a restart).
    const stale: Reader<BranchInterface> = {
      get: () => undefined,
      list: () => [],
      byIndex: () => [],
      hasSynced: () => true,
    };

    await expect(build(stale).sweepOnce()).resolves.toEqual([]);

    expect(mutations()).toEqual([]);
  });

  test('a live pod keeps its ENI even when no BranchInterface records it', async () => {
    await branchEni({ namespace: 'shop', name: 'web-0', uid: 'uid-1' });
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-1'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);

    expect(mutations()).toEqual([]);
  });

  test('a namesake pod with another UID does not keep its predecessor’s ENI', async () => {
    const old = await branchEni({ namespace: 'shop', name: 'web-0', uid: 'uid-old' });
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branchInterface('shop', 'web-0', 'uid-new'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([old]);
  });

  test('an ENI without a namespace tag is not "owner gone": its pod UID is looked up in every namespace', async () => {
    const untagged = await branchEni(
      { namespace: 'shop', name: 'web-0', uid: 'uid-1' },
      { without: [TAG.podNamespace] },
    );
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-1'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);
    expect(mutations()).toEqual([]);

    // Once that pod is gone from every namespace, the same ENI is collected: the lookup decided, not the tag.
    kube.remove(Kinds.Pod, 'shop/web-0');
    await expect(sweeper.sweepOnce()).resolves.toEqual([untagged]);
  });

  test('an unclaimed available ENI survives its first sweep and is deleted on the second', async () => {
    // No owner named: only the two-strike rule applies.
    const spare = await branchEni(
      { namespace: 'shop', name: 'web-0', uid: 'uid-1' },
      { available: true, without: [TAG.podUid] },
    );
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-1'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);
    await expect(sweeper.sweepOnce()).resolves.toEqual([spare]);
    expect(mutations()).toEqual([`delete ${spare}`]);
  });

  test('available ENIs of an instance EC2 no longer has are deleted in one sweep, unless their pod still exists', async () => {
    const terminated = ec2.launchNode(vpc);
    ec2.control.terminateInstance(terminated);
    const gone = { instanceId: terminated, available: true };
    const orphan = await branchEni({ namespace: 'shop', name: 'a', uid: 'uid-a' }, { ...gone, without: [TAG.podUid] });
    const owned = await branchEni({ namespace: 'shop', name: 'b', uid: 'uid-b' }, gone);
    kube.seed(Kinds.Pod, pod('shop', 'b', 'uid-b'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([orphan]);

    expect(ec2.callsOf('describeInstance')).toEqual([terminated]);
    expect(ec2.eni(orphan)).toBeUndefined();
    expect(ec2.eni(owned)).toBeDefined();
  });

  test('a delete EC2 fails leaves the ENI for the next sweep; the other leaks are still deleted', async () => {
    const first = await branchEni({ namespace: 'shop', name: 'a', uid: 'uid-a' }, { available: true });
    const second = await branchEni({ namespace: 'shop', name: 'b', uid: 'uid-b' }, { available: true });
    ec2.failNext(
      'deleteNetworkInterface',
      new Ec2RetryableError('server fault', { code: 'InternalError', action: 'DeleteNetworkInterface' }),
    );

    await expect(sweeper.sweepOnce()).resolves.toEqual([second]);
    await expect(sweeper.sweepOnce()).resolves.toEqual([first]);
  });
});

describe('LeakSweeper.run', () => {
  test('sweeps at once, then again after exactly the interval; stops when the signal aborts', async () => {
    const stop = new AbortController();
    const running = sweeper.run(stop.signal);
    const sweeps = () => ec2.callsOf('describeNetworkInterfaces').length;
    // A sweep is over when the loop waits on the clock again.
    const sweepDone = () => until(() => clock.pendingTimers() === 1);

    await sweepDone();
    expect(sweeps()).toBe(1);
    clock.advance(INTERVAL_MS - 1);
    expect(sweeps()).toBe(1);
    clock.advance(1);
    await sweepDone();
    expect(sweeps()).toBe(2);

    stop.abort();
    await running;
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10 * INTERVAL_MS);
    expect(sweeps()).toBe(2);
  });
});

/** Waits on the event loop until `condition` holds (the sweep's EC2 calls take a few turns in process). */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !condition(); turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}
