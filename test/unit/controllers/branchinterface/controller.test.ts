import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import { branchInterfaceInformerOptions, podInformerOptions, toLeanPod } from '../../../../operator/api/pod.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, SecurityGroupPolicy, TrunkInterface } from '../../../../operator/api/types.ts';
import { Ec2InvalidInputError, Ec2RetryableError } from '../../../../operator/aws/index.ts';
import {
  BranchEvents,
  BranchInterfaceReconciler,
  StatusCheckpoints,
  VlanReservations,
} from '../../../../operator/controllers/branchinterface/index.ts';
import { PodReconciler } from '../../../../operator/controllers/pod/index.ts';
import { OutsideFixError, TerminalError } from '../../../../operator/errors.ts';
import { formatGroupList } from '../../../../operator/controllers/pod/index.ts';
import { FakeClock, type KubeObject } from '../../../../operator/framework/index.ts';
import { DEFAULT_POD_NETWORK, type PodNetwork } from '../../../../operator/controllers/podnetwork/index.ts';
import { FakeSubnetDirectory } from '../../../kit/subnets.ts';
import { EmulatedEc2, type TestVpc } from '../../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';

const COOLDOWN_MS = 60_000;
const FINALIZER = 'trunking.sgp-operator.io/branch-cleanup';

let kube: FakeKube;
let ec2: EmulatedEc2;
let vpc: TestVpc;
/** Security group ids by name (`rds`, `a`, `cache`, `g1`…`g6`, and `node`, the trunk's). */
let G: Record<string, string>;
let instanceId: string;
let trunkEniId: string;
/** The tagged subnet branches move to when the node's is full; the node subnet is a /28 so tests can fill it. */
let podSubnet: {
  id: string;
  availabilityZone: string;
  cidrBlock: string;
  ipv6CidrBlock: string;
  availableIpAddressCount: number;
};
let recorder: FakeRecorder;
let clock: FakeClock;
let reconciler: BranchInterfaceReconciler;
let subnets: FakeSubnetDirectory;

function trunk(capacity = 9): TrunkInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-a' },
    spec: { nodeName: 'node-a', instanceId, instanceType: 'm5.large' },
    status: {
      state: 'Ready',
      eniId: trunkEniId,
      subnetId: vpc.subnetId,
      subnetCidr: vpc.subnetCidr,
      availabilityZone: 'us-west-2a',
      securityGroups: [vpc.nodeGroupId],
      branchCapacity: capacity,
      primaryInterface: { securityGroups: [vpc.nodeGroupId], connectionTracking: { tcpEstablishedTimeout: 3600 } },
    },
  };
}

const NODE: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } };

function pod(name: string, uid: string): LeanPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'catalog', uid, creationTimestamp: new Date(clock.now() - 2_000).toISOString() },
    spec: {
      nodeName: 'node-a',
      containers: [{ name: 'app', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } }],
    },
    status: { phase: 'Running' },
  };
}

function branch(name: string, podUid: string, groups = [G.rds ?? '']): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name, namespace: 'catalog', finalizers: [FINALIZER] },
    spec: { podName: name, podUid, nodeName: 'node-a', securityGroups: groups, matchedPolicies: ['rds'] },
  };
}

function storedBranch(key: string): BranchInterface | undefined {
  return kube.stored<BranchInterface>(Kinds.BranchInterface, key);
}

function build(cooldownMs = COOLDOWN_MS, podNetwork: PodNetwork = DEFAULT_POD_NETWORK): BranchInterfaceReconciler {
  return new BranchInterfaceReconciler({
    client: kube,
    ec2,
    clock,
    cluster: { clusterName: 'test', vpcId: vpc.vpcId, podNetwork },
    events: new BranchEvents(recorder),
    subnets,
    cooldown: { currentMs: () => cooldownMs },
    branches: kube.reader<BranchInterface>(Kinds.BranchInterface, branchInterfaceInformerOptions.indexers),
    pods: kube.reader<LeanPod>(Kinds.Pod, podInformerOptions.indexers, toLeanPod),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    nodes: kube.reader<KubeObject>(Kinds.Node),
    checkpoints: new StatusCheckpoints(),
    reservations: new VlanReservations(),
  });
}

beforeEach(async () => {
  kube = new FakeKube();
  subnets = new FakeSubnetDirectory();
  recorder = new FakeRecorder();
  clock = new FakeClock();
  ec2 = new EmulatedEc2({ clock });
  vpc = ec2.seedVpc({
    cidrBlocks: ['10.0.0.0/16', '100.64.0.0/16'],
    subnets: [
      { cidrBlock: '10.0.0.0/28', availabilityZone: 'us-west-2a' },
      { cidrBlock: '100.64.0.0/24', availabilityZone: 'us-west-2a', tags: { 'kubernetes.io/role/cni': '1' } },
    ],
    podGroups: ['rds', 'a', 'cache', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6'],
  });
  G = vpc.groups;
  const tagged = ec2.control.dump().subnets.find((subnet) => subnet.cidrBlock === '100.64.0.0/24');
  podSubnet = {
    id: tagged?.id ?? '',
    availabilityZone: 'us-west-2a',
    cidrBlock: '100.64.0.0/24',
    ipv6CidrBlock: '',
    availableIpAddressCount: tagged?.availableIpAddressCount ?? 0,
  };
  instanceId = ec2.launchNode(vpc);
  trunkEniId = await ec2.addTrunk(vpc, instanceId);
  kube.seed(Kinds.TrunkInterface, trunk());
  kube.seed(Kinds.Node, NODE);
  reconciler = build();
});

describe('a new branch on an IPv6 cluster', () => {
  const ipv6: PodNetwork = { ipFamily: 'ipv6', isDualStack: false, customNetworking: { mode: 'off' } };
  const NODE_SUBNET_V6 = '2600:1f14:abc:1200::/64';
  const withBranchSubnet = (ipv6CidrBlock?: string): TrunkInterface => {
    const t = trunk();
    return {
      ...t,
      status: {
        ...t.status,
        branchSubnet: {
          subnetId: vpc.subnetId,
          cidrBlock: vpc.subnetCidr,
          ...(ipv6CidrBlock ? { ipv6CidrBlock } : {}),
        },
      },
    };
  };

  test('gets one IPv6 address from the subnet with an IPv6 block, and records its block for the annotation', async () => {
    ec2.control.addVpcIpv6Cidr(vpc.vpcId, '2600:1f14:abc:1200::/56');
    ec2.control.addSubnetIpv6Cidr(vpc.subnetId, NODE_SUBNET_V6);
    kube.seed(Kinds.TrunkInterface, withBranchSubnet(NODE_SUBNET_V6));
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    await build(COOLDOWN_MS, ipv6).reconcile('catalog/web-0', reconcileContext());
    expect(ec2.callsOf('createNetworkInterface')).toEqual([
      expect.objectContaining({ subnetId: vpc.subnetId, ipv6AddressCount: 1 }),
    ]);
    const [eni] = ec2.branchEnis();
    expect(eni?.ipv6Addresses).toEqual([expect.stringMatching(/^2600:1f14:abc:1200:/)]);
    expect(storedBranch('catalog/web-0')?.status?.subnetV6Cidr).toBe(NODE_SUBNET_V6);
  });

  test('a subnet without an IPv6 block: no EC2 call, a Warning naming the subnet, the long backoff', async () => {
    kube.seed(Kinds.TrunkInterface, withBranchSubnet());
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    const result = build(COOLDOWN_MS, ipv6).reconcile('catalog/web-0', reconcileContext());
    await expect(result).rejects.toBeInstanceOf(OutsideFixError);
    expect(ec2.callsOf('createNetworkInterface')).toEqual([]);
    expect(recorder.events.map((e) => [e.reason, e.message])).toContainEqual([
      'BranchAllocationFailed',
      expect.stringContaining(`subnet ${vpc.subnetId} of node node-a has no IPv6 CIDR block`),
    ]);
  });
});

/** A branch ENI EKS's VPC resource controller made and associated for a pod, and the annotation it wrote. */
async function wiredByEks(name: string, uid: string, vlanId: number): Promise<{ eniId: string; annotation: string }> {
  const eni = await ec2.prepare.createNetworkInterface({
    subnetId: vpc.subnetId,
    securityGroupIds: [G.rds ?? ''],
    description: 'aws-k8s-branch-eni',
    tags: {
      'eks:eni:owner': 'eks-vpc-resource-controller',
      'kubernetes.io/cluster/test': 'owned',
      'vpcresources.k8s.aws/trunk-eni-id': trunkEniId,
      'vpcresources.k8s.aws/vlan-id': String(vlanId),
      'node.k8s.amazonaws.com/instance_id': instanceId,
    },
    clientToken: `eks-${uid}`,
  });
  const association = await ec2.prepare.associateTrunkInterface({
    branchInterfaceId: eni.id,
    trunkInterfaceId: trunkEniId,
    vlanId,
    clientToken: `eks-associate-${uid}`,
  });
  const annotation = JSON.stringify([
    {
      eniId: eni.id,
      ifAddress: eni.macAddress,
      privateIp: eni.privateIpAddress,
      ipv6Addr: '',
      vlanId,
      subnetCidr: vpc.subnetCidr,
      subnetV6Cidr: '',
      associationID: association.associationId,
    },
  ]);
  const wired = pod(name, uid);
  wired.metadata.annotations = { 'vpc.amazonaws.com/pod-eni': annotation };
  kube.seed(Kinds.Pod, wired);
  return { eniId: eni.id, annotation };
}

/** The branch ENIs in EC2, by id. */
const branchEniIds = () => ec2.branchEnis().map((eni) => eni.id);

describe('a pod EKS’s controller wired before the switch', () => {
  test('has its ENI adopted: no new ENI, no association, the annotation kept, the ENI tagged as ours', async () => {
    const { eniId, annotation } = await wiredByEks('web-0', 'pod-uid-1', 2);
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    ec2.reset();

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.calls.map((call) => call.method)).toEqual(['describeNetworkInterfaces', 'createTags']);
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({
      phase: 'Ready',
      eniId,
      vlanId: 2,
      associationId: JSON.parse(annotation)[0].associationID,
      appliedSecurityGroups: [G.rds],
    });
    expect(ec2.eni(eniId)?.tags).toMatchObject({
      'eks:eni:owner': 'sgp-operator',
      'trunking.sgp-operator.io/pod-uid': 'pod-uid-1',
      'vpcresources.k8s.aws/vlan-id': '2',
    });
    expect(kube.stored<LeanPod>(Kinds.Pod, 'catalog/web-0')?.metadata.annotations?.['vpc.amazonaws.com/pod-eni']).toBe(
      annotation,
    );
  });

  test('whose ENI is gone gets a new one', async () => {
    const { eniId } = await wiredByEks('web-0', 'pod-uid-1', 2);
    await ec2.prepare.deleteNetworkInterface(eniId);
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(1);
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'Ready', vlanId: 1 });
  });

  test('keeps its VLAN from a new pod on the node before it is adopted', async () => {
    await wiredByEks('eks-0', 'pod-uid-eks', 1);
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.callsOf('associateTrunkInterface')).toEqual([expect.objectContaining({ vlanId: 2 })]);
  });
});

/** The pod controller, on the same fake API server: it creates BranchInterfaces and judges pod-eni annotations. */
function podReconciler(): PodReconciler {
  return new PodReconciler({
    client: kube,
    recorder,
    pods: kube.reader<LeanPod>(Kinds.Pod, podInformerOptions.indexers, toLeanPod),
    policies: kube.reader<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy),
    serviceAccounts: kube.reader<KubeObject>(Kinds.ServiceAccount),
    namespaces: kube.reader<KubeObject>(Kinds.Namespace),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    branches: kube.reader<BranchInterface>(Kinds.BranchInterface, branchInterfaceInformerOptions.indexers),
    securityGroupAnnotations: { isEnabled: false, allowList: [] },
  });
}

function annotationOf(name: string): string | undefined {
  return kube.stored<LeanPod>(Kinds.Pod, `catalog/${name}`)?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'];
}

const MUTATING_ENI_CALLS = [
  'createNetworkInterface',
  'deleteNetworkInterface',
  'associateTrunkInterface',
  'disassociateTrunkInterface',
] as const;

describe('switching from EKS’s controller: the pod controller’s forged-annotation check and adoption', () => {
  test('the annotation of a pod EKS wired is kept until its branch adopts the ENI, and is the operator’s after', async () => {
    const { eniId, annotation } = await wiredByEks('web-0', 'pod-uid-1', 2);
    ec2.reset();
    const pods = podReconciler();

    // The node is managed (its TrunkInterface adopted EKS's trunk), the pod has no BranchInterface yet: the pod
    // controller creates one and leaves the annotation, which the branch is about to read.
    await pods.reconcile('catalog/web-0', reconcileContext());
    expect(annotationOf('web-0')).toBe(annotation);
    expect(kube.stored<BranchInterface>(Kinds.BranchInterface, 'catalog/web-0')?.spec.podUid).toBe('pod-uid-1');
    // Again before the branch controller ran (the BranchInterface records nothing yet).
    await pods.reconcile('catalog/web-0', reconcileContext());
    expect(annotationOf('web-0')).toBe(annotation);

    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'Ready', eniId, vlanId: 2 });

    // Recorded: the same annotation is now the operator's.
    await pods.reconcile('catalog/web-0', reconcileContext());
    expect(annotationOf('web-0')).toBe(annotation);
    expect(recorder.reasons()).not.toContain('PodENIAnnotationForged');
    // The running pod's ENI was never deleted, replaced or re-associated, and no second one was made.
    for (const method of MUTATING_ENI_CALLS) expect(ec2.callsOf(method)).toEqual([]);
    expect(branchEniIds()).toEqual([eniId]);
  });

  test('an annotation copied from a pod already adopted is refused: the other pod’s ENI is untouched', async () => {
    const { eniId, annotation } = await wiredByEks('web-0', 'pod-uid-1', 2);
    const pods = podReconciler();
    await pods.reconcile('catalog/web-0', reconcileContext());
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    const adoptedTags = { ...ec2.eni(eniId)?.tags };
    // Another pod on the node, with web-0's annotation (written past admission).
    const copycat = pod('copycat', 'pod-uid-2');
    copycat.metadata.annotations = { 'vpc.amazonaws.com/pod-eni': annotation };
    kube.seed(Kinds.Pod, copycat);

    await pods.reconcile('catalog/copycat', reconcileContext());
    await reconciler.reconcile('catalog/copycat', reconcileContext());

    expect(ec2.eni(eniId)?.tags).toEqual(adoptedTags);
    expect(storedBranch('catalog/web-0')?.status?.eniId).toBe(eniId);
    const copied = storedBranch('catalog/copycat')?.status;
    expect(copied?.eniId).toBeDefined();
    expect(copied?.eniId).not.toBe(eniId);
    expect(copied?.vlanId).not.toBe(2);
    expect(JSON.parse(annotationOf('copycat') ?? '[]')[0]?.eniId).toBe(copied?.eniId);
    expect(annotationOf('web-0')).toBe(annotation);
  });

  test('an ENI the operator made for another pod UID is not adopted, even before any BranchInterface records it', async () => {
    const { eniId } = await wiredByEks('web-0', 'pod-uid-1', 2);
    await ec2.prepare.createTags([eniId], {
      'eks:eni:owner': 'sgp-operator',
      'trunking.sgp-operator.io/pod-uid': 'other',
    });
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    ec2.reset();

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.callsOf('createTags')).toEqual([]);
    expect(ec2.eni(eniId)?.tags['trunking.sgp-operator.io/pod-uid']).toBe('other');
    expect(storedBranch('catalog/web-0')?.status?.eniId).not.toBe(eniId);
  });

  test('refused adoption: the branch allocates its own VLAN, then the pod controller removes the old annotation', async () => {
    const { eniId } = await wiredByEks('web-0', 'pod-uid-1', 2);
    await ec2.prepare.deleteNetworkInterface(eniId);
    const pods = podReconciler();
    await pods.reconcile('catalog/web-0', reconcileContext());
    // The branch has chosen a VLAN of its own but not announced its ENI yet (its create failed).
    ec2.failNext(
      'createNetworkInterface',
      new Ec2RetryableError('try again', { code: 'InternalError', action: 'CreateNetworkInterface' }),
    );
    await expect(reconciler.reconcile('catalog/web-0', reconcileContext())).rejects.toThrow();
    expect(storedBranch('catalog/web-0')?.status?.vlanId).toBe(1);

    await pods.reconcile('catalog/web-0', reconcileContext());

    expect(annotationOf('web-0')).toBeUndefined();
    expect(recorder.reasons()).toContain('PodENIAnnotationForged');
  });
});

describe('a new branch', () => {
  test('goes Pending → Ready in one reconcile: ENI, association, exact annotation, event', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1', [G.rds ?? '', G.a ?? '']));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    const [eni] = ec2.branchEnis();
    const groups = [G.rds ?? '', G.a ?? ''].sort();
    expect(eni).toMatchObject({
      description: 'aws-k8s-branch-eni',
      subnetId: vpc.subnetId,
      securityGroupIds: groups,
      tags: expect.objectContaining({
        'eks:eni:owner': 'sgp-operator',
        'kubernetes.io/cluster/test': 'owned',
        'vpcresources.k8s.aws/trunk-eni-id': trunkEniId,
        'vpcresources.k8s.aws/vlan-id': '1',
        'node.k8s.amazonaws.com/instance_id': instanceId,
        'trunking.sgp-operator.io/pod-uid': 'pod-uid-1',
      }),
    });
    expect(ec2.callsOf('associateTrunkInterface')).toEqual([
      expect.objectContaining({ branchInterfaceId: eni?.id, trunkInterfaceId: trunkEniId, vlanId: 1 }),
    ]);
    // The primary ENI's connection tracking, as the trunk recorded it; no IPv6 asked of an IPv4 cluster.
    expect(eni?.connectionTracking).toMatchObject({ tcpEstablishedTimeout: 3600 });
    expect(eni?.ipv6Addresses).toEqual([]);
    expect(ec2.callsOf('createNetworkInterface')[0]).not.toHaveProperty('ipv6AddressCount');
    const annotation = kube.stored<LeanPod>(Kinds.Pod, 'catalog/web-0')?.metadata.annotations?.[
      'vpc.amazonaws.com/pod-eni'
    ];
    expect(JSON.parse(annotation ?? 'null')).toEqual([
      {
        eniId: eni?.id,
        ifAddress: eni?.macAddress,
        privateIp: eni?.privateIpAddress,
        ipv6Addr: '',
        vlanId: 1,
        subnetCidr: vpc.subnetCidr,
        subnetV6Cidr: '',
        associationID: ec2.associations().find((association) => association.branchInterfaceId === eni?.id)
          ?.associationId,
      },
    ]);
    expect(Object.keys(JSON.parse(annotation ?? '[{}]')[0])).toEqual([
      'eniId',
      'ifAddress',
      'privateIp',
      'ipv6Addr',
      'vlanId',
      'subnetCidr',
      'subnetV6Cidr',
      'associationID',
    ]);
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({
      phase: 'Ready',
      vlanId: 1,
      eniId: eni?.id,
      appliedSecurityGroups: groups,
    });
    expect(recorder.events).toEqual([
      expect.objectContaining({
        name: 'web-0',
        uid: 'pod-uid-1',
        type: 'Normal',
        reason: 'ResourceAllocated',
        message: `Allocated ${annotation} to the pod`,
      }),
    ]);
  });

  test('empty spec groups mean the node default groups (the trunk ENI’s)', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1', []));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.branchEnis().map((eni) => eni.securityGroupIds)).toEqual([[vpc.nodeGroupId]]);
  });

  test('a stale cache after a crash mid-way never creates a second ENI', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    kube.freezeCache(); // the informer never sees this reconcile's status writes
    ec2.failNext(
      'associateTrunkInterface',
      new Ec2RetryableError('503', { code: 'Unavailable', action: 'AssociateTrunkInterface' }),
    );
    await expect(reconciler.reconcile('catalog/web-0', reconcileContext())).rejects.toThrow(/associating branch ENI/);
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(1);
    expect(ec2.branchEnis()).toHaveLength(1);
    expect(recorder.reasons()).toEqual(['BranchAllocationFailed', 'ResourceAllocated']);
  });

  test('two branches allocated while the cache lags get different VLANs', async () => {
    kube.seed(Kinds.Pod, pod('a', 'uid-a'));
    kube.seed(Kinds.Pod, pod('b', 'uid-b'));
    kube.seed(Kinds.BranchInterface, branch('a', 'uid-a'));
    kube.seed(Kinds.BranchInterface, branch('b', 'uid-b'));
    kube.freezeCache();
    await Promise.all([
      reconciler.reconcile('catalog/a', reconcileContext()),
      reconciler.reconcile('catalog/b', reconcileContext()),
    ]);
    expect([storedBranch('catalog/a')?.status?.vlanId, storedBranch('catalog/b')?.status?.vlanId].sort()).toEqual([
      1, 2,
    ]);
  });

  test('a pod recreated under the same name before the annotation is never annotated', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    kube.freezeCache(); // the cache still shows the old pod
    kube.remove(Kinds.Pod, 'catalog/web-0');
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-2'));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(kube.stored<LeanPod>(Kinds.Pod, 'catalog/web-0')?.metadata.annotations).toBeUndefined();
    expect(recorder.reasons()).toEqual([]);
    kube.thawCache();
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'CoolingDown' });
  });

  test('an ENI create EC2 rejects as invalid is terminal, with the EKS event', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    ec2.failNext(
      'createNetworkInterface',
      new Ec2InvalidInputError('exceeded limit 5 on the number of interface security group memberships', {
        code: 'InvalidParameterValue',
        action: 'CreateNetworkInterface',
      }),
    );
    const failure = reconciler.reconcile('catalog/web-0', reconcileContext());
    await expect(failure).rejects.toBeInstanceOf(TerminalError);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'BranchAllocationFailed',
        message:
          'failed to allocate branch ENI to pod: exceeded limit 5 on the number of interface security group memberships',
      }),
    ]);
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'Creating', vlanId: 1 });
    expect(storedBranch('catalog/web-0')?.status?.eniId).toBeUndefined();
  });
});

describe('subnet exhaustion', () => {
  /** Takes every free address of the node's subnet (a /28), as other ENIs of the VPC would. */
  const fillNodeSubnet = () => {
    const free = ec2.control.dump().subnets.find((subnet) => subnet.id === vpc.subnetId)?.availableIpAddressCount ?? 0;
    ec2.control.bulkCreateNetworkInterfaces({ subnetId: vpc.subnetId, count: free });
  };

  test('a node subnet known to be full sends the branch to the tagged subnet of the zone, annotated with its CIDR', async () => {
    subnets.view = { vpcId: vpc.vpcId, cidrBlocks: ['10.0.0.0/16', '100.64.0.0/16'], podSubnets: [podSubnet] };
    subnets.exhausted.add(vpc.subnetId);
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.branchEnis().map((eni) => eni.subnetId)).toEqual([podSubnet.id]);
    const annotation = kube.stored<LeanPod>(Kinds.Pod, 'catalog/web-0')?.metadata.annotations?.[
      'vpc.amazonaws.com/pod-eni'
    ];
    expect(JSON.parse(annotation ?? '[{}]')[0].subnetCidr).toBe('100.64.0.0/24');
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'Ready', subnetId: podSubnet.id });
    expect(recorder.events.map((event) => event.reason)).toEqual(['BranchENISubnetFallback', 'ResourceAllocated']);
    expect(recorder.events[0]?.message).toContain(`subnet ${vpc.subnetId} of node node-a has no free IPv4 address`);
  });

  test('EC2 answering "no free addresses" moves the branch within the same reconcile: one ENI, no failure', async () => {
    subnets.view = { vpcId: vpc.vpcId, cidrBlocks: ['10.0.0.0/16'], podSubnets: [podSubnet] };
    fillNodeSubnet();
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(subnets.reported).toEqual([vpc.subnetId]);
    expect(ec2.callsOf('createNetworkInterface')).toEqual([
      expect.objectContaining({ subnetId: vpc.subnetId }),
      expect.objectContaining({ subnetId: podSubnet.id }),
    ]);
    expect(ec2.branchEnis().map((eni) => eni.subnetId)).toEqual([podSubnet.id]);
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'Ready', subnetCidr: '100.64.0.0/24' });
    expect(recorder.events.filter((event) => event.type === 'Warning')).toEqual([]);
  });

  test('with no tagged subnet left the pod waits with a Warning that says what to do, holding no VLAN', async () => {
    subnets.view = { vpcId: vpc.vpcId, cidrBlocks: ['10.0.0.0/16'], podSubnets: [] };
    fillNodeSubnet();
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));

    await expect(reconciler.reconcile('catalog/web-0', reconcileContext())).rejects.toThrow(
      new RegExp(
        `subnet ${vpc.subnetId} of node node-a has no free IPv4 address, and no subnet in us-west-2a is tagged kubernetes\\.io/role/cni`,
      ),
    );
    expect(ec2.branchEnis()).toEqual([]);
    expect(recorder.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'BranchAllocationFailed' })]);
    expect(recorder.events[0]?.message).toContain('tag it kubernetes.io/role/cni');

    // The next attempt finds the node subnet still marked and does not call EC2 again in vain.
    await expect(reconciler.reconcile('catalog/web-0', reconcileContext())).rejects.toThrow(/no free IPv4/);
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(1);

    // A tagged subnet appears: the pod gets its ENI there.
    subnets.view = { vpcId: vpc.vpcId, cidrBlocks: ['10.0.0.0/16'], podSubnets: [podSubnet] };
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({ phase: 'Ready', subnetId: podSubnet.id });
  });
});

describe('capacity', () => {
  test('at capacity the branch waits with one event and a requeue after the cooldown; a release lets it in', async () => {
    kube.remove(Kinds.TrunkInterface, 'node-a');
    kube.seed(Kinds.TrunkInterface, trunk(1));
    kube.seed(Kinds.Pod, pod('a', 'uid-a'));
    kube.seed(Kinds.Pod, pod('b', 'uid-b'));
    kube.seed(Kinds.BranchInterface, branch('a', 'uid-a'));
    kube.seed(Kinds.BranchInterface, branch('b', 'uid-b'));
    await reconciler.reconcile('catalog/a', reconcileContext());

    const first = await reconciler.reconcile('catalog/b', reconcileContext());
    const second = await reconciler.reconcile('catalog/b', reconcileContext());
    expect([first, second]).toEqual([{ requeueAfterMs: COOLDOWN_MS }, { requeueAfterMs: COOLDOWN_MS }]);
    expect(recorder.events.filter((e) => e.name === 'b')).toEqual([
      expect.objectContaining({
        reason: 'BranchENICapacityReached',
        message:
          "node node-a holds 1 of its 1 branch ENIs (in use or cooling down); the pod gets one when another pod's ENI is released (cooldown 1m0s)",
      }),
    ]);

    // Pod a goes: its ENI cools down (still counted), then is released; b gets the freed VLAN.
    kube.remove(Kinds.Pod, 'catalog/a');
    expect(await reconciler.reconcile('catalog/a', reconcileContext())).toEqual({ requeueAfterMs: COOLDOWN_MS });
    expect(await reconciler.reconcile('catalog/b', reconcileContext())).toEqual({ requeueAfterMs: COOLDOWN_MS });
    clock.advance(COOLDOWN_MS);
    await reconciler.reconcile('catalog/a', reconcileContext());
    await reconciler.reconcile('catalog/b', reconcileContext());
    expect(storedBranch('catalog/a')).toBeUndefined();
    expect(storedBranch('catalog/b')?.status).toMatchObject({ phase: 'Ready', vlanId: 1 });
  });
});

describe('release', () => {
  async function readyBranch(): Promise<string> {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    return storedBranch('catalog/web-0')?.status?.eniId ?? '';
  }

  test('pod deleted: the ENI cools down, then one DeleteNetworkInterface releases it, and the object goes', async () => {
    const eniId = await readyBranch();
    kube.remove(Kinds.Pod, 'catalog/web-0');
    expect(await reconciler.reconcile('catalog/web-0', reconcileContext())).toEqual({
      requeueAfterMs: COOLDOWN_MS,
    });
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({
      phase: 'CoolingDown',
      releaseRequestedAt: new Date(clock.now()).toISOString(),
    });
    clock.advance(COOLDOWN_MS - 1);
    expect(await reconciler.reconcile('catalog/web-0', reconcileContext())).toEqual({ requeueAfterMs: 1 });
    expect(ec2.eni(eniId)).toBeDefined();
    clock.advance(1);
    ec2.reset();
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    // Deleting a branch drops its trunk association: no DisassociateTrunkInterface.
    expect(ec2.calls).toEqual([{ method: 'deleteNetworkInterface', input: eniId }]);
    expect(ec2.eni(eniId)).toBeUndefined();
    expect(ec2.associations()).toEqual([]);
    expect(storedBranch('catalog/web-0')).toBeUndefined();
  });

  test('where EC2 refuses to delete an associated branch, the release disassociates and deletes again', async () => {
    const eniId = await readyBranch();
    const [association] = ec2.associations();
    kube.remove(Kinds.Node, 'node-a');
    ec2.reset();
    // EC2 as the EC2 team recommends it: an associated branch cannot be deleted ("currently in use").
    ec2.emulator.store.config.strictBranchDeletion = true;
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.calls.map((call) => call.method)).toEqual([
      'deleteNetworkInterface',
      'disassociateTrunkInterface',
      'deleteNetworkInterface',
    ]);
    expect(ec2.callsOf('disassociateTrunkInterface')).toEqual([
      expect.objectContaining({ associationId: association?.associationId }),
    ]);
    expect(ec2.eni(eniId)).toBeUndefined();
    expect(storedBranch('catalog/web-0')).toBeUndefined();
  });

  test('reconciles while the cache still shows the released branch call EC2 no more', async () => {
    const eniId = await readyBranch();
    kube.remove(Kinds.Node, 'node-a');
    kube.freezeCache(); // the cache lags: it shows the branch as before the release
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([eniId]);
    expect(await reconciler.reconcile('catalog/web-0', reconcileContext())).toEqual({});
    expect(ec2.callsOf('deleteNetworkInterface')).toEqual([eniId]);
    kube.thawCache();
    expect(await reconciler.reconcile('catalog/web-0', reconcileContext())).toEqual({});
    expect(storedBranch('catalog/web-0')).toBeUndefined();
  });

  test('the cooldown survives a restart: a new reconciler counts from status', async () => {
    const eniId = await readyBranch();
    kube.seed(Kinds.Pod, { ...pod('web-0', 'pod-uid-1'), status: { phase: 'Succeeded' } });
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    clock.advance(30_000);
    const restarted = build();
    expect(await restarted.reconcile('catalog/web-0', reconcileContext())).toEqual({ requeueAfterMs: 30_000 });
    clock.advance(30_000);
    await restarted.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.eni(eniId)).toBeUndefined();
  });

  test('node gone: released at once, no cooldown; EC2 not-found counts as done', async () => {
    const eniId = await readyBranch();
    kube.remove(Kinds.Node, 'node-a');
    kube.remove(Kinds.TrunkInterface, 'node-a');
    await ec2.prepare.deleteNetworkInterface(eniId); // the trunk controller got there first
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(storedBranch('catalog/web-0')).toBeUndefined();
  });
});

describe('group drift', () => {
  test('a spec change reaches the running pod’s ENI in place, with an event', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    const eniId = storedBranch('catalog/web-0')?.status?.eniId ?? '';
    const groups = [G.cache ?? '', G.rds ?? ''].sort();
    await kube.mergePatch(Kinds.BranchInterface, 'catalog/web-0', { spec: { securityGroups: groups } });
    recorder.events.length = 0;

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.eni(eniId)?.securityGroupIds).toEqual(groups);
    expect(storedBranch('catalog/web-0')?.status?.appliedSecurityGroups).toEqual(groups);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        reason: 'SecurityGroupsUpdated',
        message: `branch ENI ${eniId} now carries security groups ${formatGroupList(groups)} (was [${G.rds}]), applied without restarting the pod`,
      }),
    ]);
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(1);
  });
});

describe('errors a retry cannot fix today', () => {
  /** Six groups, one over the account's default quota of 5 per ENI, which the emulator holds EC2 to. */
  const sixGroups = () => ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'].map((name) => G[name] ?? '').sort();
  /** The API server bumps generation on every spec change; the fake does not, so the test does. */
  const changeSpec = (spec: Partial<BranchInterface['spec']>, generation: number) =>
    kube.mergePatch(Kinds.BranchInterface, 'catalog/web-0', { metadata: { generation }, spec });

  test('UnauthorizedOperation on create waits on the long backoff with the IAM hint, and the retry after the fix succeeds', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    ec2.control.setFaults([
      {
        action: 'CreateNetworkInterface',
        code: 'UnauthorizedOperation',
        status: 403,
        message: 'You are not authorized to perform this operation.',
      },
    ]);
    const failure = reconciler.reconcile('catalog/web-0', reconcileContext());
    await expect(failure).rejects.toBeInstanceOf(OutsideFixError);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'BranchAllocationFailed',
        message: expect.stringContaining('IAM permissions in config/iam/ec2-policy.json'),
      }),
    ]);
    // The policy is fixed in IAM; nothing in the cluster changes. The backoff's retry creates the ENI.
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(storedBranch('catalog/web-0')?.status?.phase).toBe('Ready');
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(2);
  });

  test('groups over the per-ENI quota: a condition and an event naming the policies and the quota, no retry until the policies change', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, {
      ...branch('web-0', 'pod-uid-1', sixGroups()),
      spec: { ...branch('web-0', 'pod-uid-1', sixGroups()).spec, matchedPolicies: ['db-access', 'web-defaults'] },
    });

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    const message =
      `6 security groups ${formatGroupList(sixGroups())} from policies [db-access web-defaults] exceed the account's ` +
      'quota of 5 security groups per network interface; EC2 refused them, so the pod has no branch ENI yet. ' +
      'Narrow the policies that select the pod, or raise the quota (Service Quotas, Amazon ' +
      'VPC, code L-2AFB9258, at most 16) and then change a policy or recreate the pod; the operator does not retry ' +
      "until the pod's policies change";
    expect(recorder.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'SecurityGroupQuotaExceeded', message }),
    ]);
    expect(storedBranch('catalog/web-0')?.status?.conditions).toEqual([
      expect.objectContaining({
        type: 'SecurityGroupsApplied',
        status: 'False',
        reason: 'SecurityGroupQuotaExceeded',
        message,
        observedGeneration: 1,
      }),
    ]);

    // Pod and trunk events bring more reconciles; none of them calls EC2 again.
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(1);

    // A policy is narrowed: the pod controller rewrites the spec, the block lifts, the ENI is made.
    const two = sixGroups().slice(0, 2);
    await changeSpec({ securityGroups: two, matchedPolicies: ['db-access'] }, 2);
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(2);
    const status = storedBranch('catalog/web-0')?.status;
    expect(status?.phase).toBe('Ready');
    expect(status?.appliedSecurityGroups).toEqual(two);
    expect(status?.conditions?.find((c) => c.type === 'SecurityGroupsApplied')).toMatchObject({
      status: 'True',
      reason: 'Applied',
      observedGeneration: 2,
    });
  });

  test('a running pod whose policies grow over the quota keeps its groups; narrowing them back clears the condition', async () => {
    kube.seed(Kinds.Pod, pod('web-0', 'pod-uid-1'));
    kube.seed(Kinds.BranchInterface, branch('web-0', 'pod-uid-1'));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    const eniId = storedBranch('catalog/web-0')?.status?.eniId ?? '';
    recorder.events.length = 0;

    await changeSpec({ securityGroups: sixGroups(), matchedPolicies: ['rds', 'wide'] }, 2);
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(ec2.callsOf('setSecurityGroups')).toHaveLength(1);
    expect(ec2.eni(eniId)?.securityGroupIds).toEqual([G.rds]);
    expect(recorder.reasons()).toEqual(['SecurityGroupQuotaExceeded']);
    expect(storedBranch('catalog/web-0')?.status).toMatchObject({
      phase: 'Ready',
      appliedSecurityGroups: [G.rds],
    });
    expect(
      storedBranch('catalog/web-0')?.status?.conditions?.find((c) => c.type === 'SecurityGroupsApplied'),
    ).toMatchObject({
      status: 'False',
      reason: 'SecurityGroupQuotaExceeded',
      message: expect.stringContaining("policies [rds wide] exceed the account's quota of 5"),
    });

    // The wide policy is deleted: the spec is back to the groups the ENI carries; no EC2 call is needed.
    await changeSpec({ securityGroups: [G.rds ?? ''], matchedPolicies: ['rds'] }, 3);
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(ec2.callsOf('setSecurityGroups')).toHaveLength(1);
    expect(
      storedBranch('catalog/web-0')?.status?.conditions?.find((c) => c.type === 'SecurityGroupsApplied'),
    ).toMatchObject({
      status: 'True',
      reason: 'Applied',
      observedGeneration: 3,
    });
  });
});

describe('TrunkInterface deleted while the node lives', () => {
  async function readyPod(name: string, uid: string): Promise<{ eniId: string; annotation: string | undefined }> {
    kube.seed(Kinds.Pod, pod(name, uid));
    kube.seed(Kinds.BranchInterface, branch(name, uid));
    await reconciler.reconcile(`catalog/${name}`, reconcileContext());
    return {
      eniId: storedBranch(`catalog/${name}`)?.status?.eniId ?? '',
      annotation: kube.stored<LeanPod>(Kinds.Pod, `catalog/${name}`)?.metadata.annotations?.[
        'vpc.amazonaws.com/pod-eni'
      ],
    };
  }

  test('running pods keep their ENI, VLAN and annotation, with no EC2 call, through the gap and after', async () => {
    const a = await readyPod('a', 'uid-a');
    const b = await readyPod('b', 'uid-b');
    const before = [storedBranch('catalog/a')?.status, storedBranch('catalog/b')?.status];
    ec2.reset();

    // Deleted (finalizer running), then gone, then re-created and not Ready yet, then Ready again (adopted).
    kube.seed(Kinds.TrunkInterface, {
      ...trunk(),
      metadata: { name: 'node-a', deletionTimestamp: '2026-01-01T00:00:00Z' },
    });
    for (const key of ['catalog/a', 'catalog/b']) await reconciler.reconcile(key, reconcileContext());
    kube.remove(Kinds.TrunkInterface, 'node-a');
    for (const key of ['catalog/a', 'catalog/b']) await reconciler.reconcile(key, reconcileContext());
    kube.seed(Kinds.TrunkInterface, { ...trunk(), status: { state: 'Attaching' } });
    for (const key of ['catalog/a', 'catalog/b']) await reconciler.reconcile(key, reconcileContext());
    // A restarted operator (a new leader) reads the same status and does nothing either.
    const restarted = build();
    for (const key of ['catalog/a', 'catalog/b']) await restarted.reconcile(key, reconcileContext());
    kube.remove(Kinds.TrunkInterface, 'node-a');
    kube.seed(Kinds.TrunkInterface, trunk());
    for (const key of ['catalog/a', 'catalog/b']) await restarted.reconcile(key, reconcileContext());

    expect(ec2.calls).toEqual([]);
    expect([storedBranch('catalog/a')?.status, storedBranch('catalog/b')?.status]).toEqual(before);
    const annotationOf = (name: string) =>
      kube.stored<LeanPod>(Kinds.Pod, `catalog/${name}`)?.metadata.annotations?.['vpc.amazonaws.com/pod-eni'];
    expect([annotationOf('a'), annotationOf('b')]).toEqual([a.annotation, b.annotation]);
    expect(branchEniIds().sort()).toEqual([a.eniId, b.eniId].sort());
  });

  test('a pod created in the gap waits, then gets the next free VLAN once the trunk is back', async () => {
    await readyPod('a', 'uid-a');
    kube.remove(Kinds.TrunkInterface, 'node-a');
    kube.seed(Kinds.Pod, pod('c', 'uid-c'));
    kube.seed(Kinds.BranchInterface, branch('c', 'uid-c'));
    expect(await reconciler.reconcile('catalog/c', reconcileContext())).toEqual({});
    expect(storedBranch('catalog/c')?.status?.vlanId).toBeUndefined();
    expect(ec2.callsOf('createNetworkInterface')).toHaveLength(1); // pod a's only
    expect(recorder.events.filter((event) => event.type === 'Warning')).toEqual([]);

    kube.seed(Kinds.TrunkInterface, trunk());
    await reconciler.reconcile('catalog/c', reconcileContext());
    expect(storedBranch('catalog/c')?.status).toMatchObject({ phase: 'Ready', vlanId: 2 });
  });

  test('a cache that has lost the Node is checked against the API server before anything is released', async () => {
    const { eniId } = await readyPod('a', 'uid-a');
    kube.remove(Kinds.Node, 'node-a');
    kube.freezeCache(); // the cache shows no Node…
    kube.seed(Kinds.Node, NODE); // …but the API server has it
    ec2.reset();
    expect(await reconciler.reconcile('catalog/a', reconcileContext())).toEqual({});
    expect(ec2.calls).toEqual([]);
    expect(storedBranch('catalog/a')?.status).toMatchObject({ phase: 'Ready', eniId });
  });
});
