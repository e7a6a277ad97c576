/**
 * LeakSweeper against an in-memory EC2 and API server: what one sweep deletes (and what it must never
 * delete), the order of its calls, and that the loop sweeps again after its interval.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { ENI_OWNER, TAG } from '../../../../operator/api/constants.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../../../operator/api/types.ts';
import type { NetworkInterface } from '../../../../operator/aws/index.ts';
import { Ec2RetryableError } from '../../../../operator/aws/index.ts';
import { LeakSweeper } from '../../../../operator/controllers/gc/index.ts';
import { FakeClock } from '../../../../operator/framework/index.ts';
import type { KubeObject, Reader } from '../../../../operator/framework/types.ts';
import { silentLogger } from '../../../../operator/observability/logger.ts';
import { NodeFakeEc2 } from '../fakes/node-ec2.ts';
import { PodsFakeKube } from '../fakes/pods-kube.ts';

const CLUSTER = 'prod';
const INTERVAL_MS = 30_000;

let ec2: NodeFakeEc2;
let kube: PodsFakeKube;
let clock: FakeClock;
let sweeper: LeakSweeper;

/** A branch ENI as we tag it: owner, cluster, trunk, instance and pod; `without` drops tags. */
function branchEni(
  id: string,
  pod: { namespace: string; name: string; uid: string },
  options: { status?: NetworkInterface['status']; instanceId?: string; without?: string[] } = {},
): NetworkInterface {
  const tags: Record<string, string> = {
    [TAG.owner]: ENI_OWNER,
    [TAG.clusterName]: CLUSTER,
    [TAG.trunkEniId]: 'eni-trunk',
    [TAG.instanceId]: options.instanceId ?? 'i-live',
    [TAG.podNamespace]: pod.namespace,
    [TAG.podName]: pod.name,
    [TAG.podUid]: pod.uid,
  };
  for (const key of options.without ?? []) delete tags[key];
  const eni: NetworkInterface = {
    id,
    status: options.status ?? 'in-use',
    tags,
    interfaceType: 'branch',
    subnetId: 'subnet-1',
    vpcId: 'vpc-1',
    availabilityZone: 'us-west-2a',
    description: 'aws-k8s-branch-eni',
    macAddress: '02:00:00:00:00:01',
    privateIpAddress: '10.0.0.20',
    ipv6Address: '',
    securityGroupIds: ['sg-pod'],
  };
  ec2.enis.set(id, eni);
  if (eni.status === 'in-use') {
    const associationId = `trunk-assoc-${id}`;
    ec2.associations.set(associationId, {
      associationId,
      branchInterfaceId: id,
      trunkInterfaceId: 'eni-trunk',
      vlanId: ec2.associations.size + 1,
    });
  }
  return eni;
}

function branchInterface(namespace: string, name: string, podUid: string, eniId?: string): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name, namespace },
    spec: { podName: name, podUid, nodeName: 'node-1', securityGroups: ['sg-pod'] },
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

beforeEach(() => {
  ec2 = new NodeFakeEc2();
  kube = new PodsFakeKube();
  clock = new FakeClock();
  ec2.addInstance('i-live', ['sg-node']);
  kube.seed<TrunkInterface>(Kinds.TrunkInterface, {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-1' },
    spec: { nodeName: 'node-1', instanceId: 'i-live', instanceType: 'm5.large' },
    status: { eniId: 'eni-trunk' },
  });
  sweeper = build(kube.reader<BranchInterface>(Kinds.BranchInterface));
});

/** A synced cache that shows nothing (a partial view right after a restart, or one that lags a write). */
function emptyReader<T extends KubeObject>(): Reader<T> {
  return { get: () => undefined, list: () => [], byIndex: () => [], hasSynced: () => true };
}

function warmBranch(eniId: string): WarmBranch {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'WarmBranch',
    metadata: { name: eniId },
    spec: {
      nodeName: 'node-1',
      eniId,
      trunkEniId: 'eni-trunk',
      vlanId: 1,
      associationId: `trunk-assoc-${eniId}`,
      macAddress: '02:00:00:00:00:01',
      securityGroups: ['sg-pod'],
      warmSince: '2026-01-01T00:00:00.000Z',
      previousPod: 'shop/web-0',
      previousBranchUid: 'uid-branch-gone',
    },
  };
}

function build(
  branches: Reader<BranchInterface>,
  warm: Reader<WarmBranch> = kube.reader<WarmBranch>(Kinds.WarmBranch),
): LeakSweeper {
  return new LeakSweeper({
    ec2,
    client: kube,
    branches,
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    warm,
    clusterName: CLUSTER,
    vpcId: 'vpc-1',
    intervalMs: INTERVAL_MS,
    log: silentLogger,
    clock,
  });
}

describe('LeakSweeper.sweepOnce', () => {
  test('an associated branch ENI whose pod is gone everywhere is disassociated, then deleted', async () => {
    branchEni('eni-leak', { namespace: 'shop', name: 'web-0', uid: 'uid-gone' });

    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-leak']);

    expect(mutations()).toEqual(['disassociate trunk-assoc-eni-leak', 'delete eni-leak']);
    expect([...ec2.enis.keys()]).toEqual([]);
    // Only our cluster's ENIs are listed at all.
    expect(ec2.callsOf('describeNetworkInterfaces')).toEqual([
      { tags: { [TAG.owner]: [ENI_OWNER], [TAG.clusterName]: [CLUSTER] }, vpcId: 'vpc-1' },
    ]);
  });

  test('the owner is read by pod UID from the API server: a BranchInterface the cache missed keeps the ENI', async () => {
    branchEni('eni-a', { namespace: 'shop', name: 'web-0', uid: 'uid-1' });
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
    branchEni('eni-a', { namespace: 'shop', name: 'web-0', uid: 'uid-1' });
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-1'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);

    expect(mutations()).toEqual([]);
  });

  test('a namesake pod with another UID does not keep its predecessor’s ENI', async () => {
    branchEni('eni-old', { namespace: 'shop', name: 'web-0', uid: 'uid-old' });
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-new'));
    kube.seed(Kinds.BranchInterface, branchInterface('shop', 'web-0', 'uid-new'));

    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-old']);
  });

  test('an ENI without a namespace tag is not "owner gone": its pod UID is looked up in every namespace', async () => {
    branchEni('eni-untagged', { namespace: 'shop', name: 'web-0', uid: 'uid-1' }, { without: [TAG.podNamespace] });
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-1'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);
    expect(mutations()).toEqual([]);

    // Once that pod is gone from every namespace, the same ENI is collected: the lookup decided, not the tag.
    kube.remove(Kinds.Pod, 'shop/web-0');
    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-untagged']);
  });

  test('an unclaimed available ENI survives its first sweep and is deleted on the second', async () => {
    const eni = branchEni('eni-spare', { namespace: 'shop', name: 'web-0', uid: 'uid-1' }, { status: 'available' });
    delete eni.tags[TAG.podUid]; // no owner named: only the two-strike rule applies
    kube.seed(Kinds.Pod, pod('shop', 'web-0', 'uid-1'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);
    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-spare']);
    expect(mutations()).toEqual(['delete eni-spare']);
  });

  test('available ENIs of an instance EC2 no longer has are deleted in one sweep, unless their pod still exists', async () => {
    const gone = { instanceId: 'i-terminated', status: 'available' as const };
    const orphan = branchEni('eni-orphan', { namespace: 'shop', name: 'a', uid: 'uid-a' }, gone);
    delete orphan.tags[TAG.podUid];
    branchEni('eni-owned', { namespace: 'shop', name: 'b', uid: 'uid-b' }, gone);
    kube.seed(Kinds.Pod, pod('shop', 'b', 'uid-b'));

    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-orphan']);

    expect(ec2.callsOf('describeInstance')).toEqual(['i-terminated']);
    expect([...ec2.enis.keys()]).toEqual(['eni-owned']);
  });

  test('a warm ENI whose tagged pod is gone is kept by its WarmBranch, in the cache or only in the API server', async () => {
    branchEni('eni-warm', { namespace: 'shop', name: 'web-0', uid: 'uid-gone' });
    kube.seed(Kinds.WarmBranch, warmBranch('eni-warm'));

    await expect(sweeper.sweepOnce()).resolves.toEqual([]);
    // A cache that has not seen the record yet (it was parked a moment ago): the live read keeps the ENI.
    await expect(
      build(kube.reader<BranchInterface>(Kinds.BranchInterface), emptyReader()).sweepOnce(),
    ).resolves.toEqual([]);
    expect(mutations()).toEqual([]);

    // Once the record is gone and nothing else holds the ENI, it is an ordinary leak.
    kube.remove(Kinds.WarmBranch, 'eni-warm');
    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-warm']);
  });

  test("a reused ENI is held by the new pod's BranchInterface, though its tags name the pod it was made for", async () => {
    branchEni('eni-reused', { namespace: 'shop', name: 'web-0', uid: 'uid-gone' });
    // Another namespace, another pod: only status.eniId ties the record to the ENI.
    kube.seed(Kinds.BranchInterface, branchInterface('billing', 'api-1', 'uid-new', 'eni-reused'));

    await expect(build(emptyReader()).sweepOnce()).resolves.toEqual([]);
    expect(mutations()).toEqual([]);
  });

  test('an ENI of a terminated instance that a WarmBranch holds is left to the WarmBranch reconciler', async () => {
    branchEni(
      'eni-warm',
      { namespace: 'shop', name: 'a', uid: 'uid-gone' },
      { instanceId: 'i-gone', status: 'available' },
    );
    kube.seed(Kinds.WarmBranch, warmBranch('eni-warm'));

    await expect(
      build(kube.reader<BranchInterface>(Kinds.BranchInterface), emptyReader()).sweepOnce(),
    ).resolves.toEqual([]);
    expect(mutations()).toEqual([]);
  });

  test('a delete EC2 fails leaves the ENI for the next sweep; the other leaks are still deleted', async () => {
    branchEni('eni-1', { namespace: 'shop', name: 'a', uid: 'uid-a' }, { status: 'available' });
    branchEni('eni-2', { namespace: 'shop', name: 'b', uid: 'uid-b' }, { status: 'available' });
    ec2.failNext(
      'deleteNetworkInterface',
      new Ec2RetryableError('server fault', { code: 'InternalError', action: 'DeleteNetworkInterface' }),
    );

    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-2']);
    await expect(sweeper.sweepOnce()).resolves.toEqual(['eni-1']);
  });
});

describe('LeakSweeper.run', () => {
  test('sweeps at once, then again after exactly the interval; stops when the signal aborts', async () => {
    const stop = new AbortController();
    const running = sweeper.run(stop.signal);
    const sweeps = () => ec2.callsOf('describeNetworkInterfaces').length;
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    await settle();
    expect(sweeps()).toBe(1);
    clock.advance(INTERVAL_MS - 1);
    await settle();
    expect(sweeps()).toBe(1);
    clock.advance(1);
    await settle();
    expect(sweeps()).toBe(2);

    stop.abort();
    await running;
    clock.advance(10 * INTERVAL_MS);
    await settle();
    expect(sweeps()).toBe(2);
  });
});
