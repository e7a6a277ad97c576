/**
 * Interop and switching with EKS's own VPC resource controller, on the same pods (a scenario, not a timing):
 *
 * 1. EKS's controller serves `--eks-pods` pods on `--nodes` m5.xlarge nodes (its trunks, its branch ENIs, its
 *    annotations). It is stopped with the pods running.
 * 2. sgp-operator starts on the same cluster and EC2. The script records what becomes of each EKS trunk (adopted
 *    or replaced) and each running pod (annotation kept or rewritten, a BranchInterface or none), then serves
 *    `--sgp-pods` new pods on the same nodes.
 * 3. Interop: every annotation, EKS's and ours, is decoded as the VPC CNI decodes it (Go's encoding/json: keys
 *    match case-insensitively) and checked against the CNI's contract (a MAC, an IP, a VLAN id ≠ 0, a parseable
 *    subnet CIDR); the field sets and value shapes of the two producers are compared.
 * 4. The EKS-era pods are deleted; after sgp-operator's cooldown the script lists which branch ENIs are left in
 *    EC2 (leaked: nobody will delete them) and which were released.
 *
 *   node bench/eks-switch.ts --eks-controller-bin PATH [--nodes 3] [--eks-pods 6] [--sgp-pods 6]
 * Prints one JSON line and a table. The emulator's throttling and latency are off (this is about behaviour).
 */
import { parseArgs } from 'node:util';
import { POD_ENI_ANNOTATION } from '../operator/api/constants.ts';
import { Kinds } from '../operator/api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../operator/api/types.ts';
import type { KubeObject } from '../operator/framework/index.ts';
import { startController } from './lib/controller.ts';
import { emit, progress } from './lib/report.ts';
import { counterDelta, podObject, startWorld, waitFor, type BenchWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    'eks-controller-bin': { type: 'string' },
    nodes: { type: 'string', default: '3' },
    'eks-pods': { type: 'string', default: '6' },
    'sgp-pods': { type: 'string', default: '6' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node bench/eks-switch.ts --eks-controller-bin PATH [--nodes 3] [--eks-pods 6] [--sgp-pods 6]\n' +
      "  EKS's VPC resource controller serves --eks-pods pods, is stopped, sgp-operator takes over (adopting trunks\n" +
      '  and branch ENIs) and serves --sgp-pods more; prints the interop checks and the leaked ENIs as JSON and a table.\n' +
      '  PATH: hack/eks-controller/build.sh prints it.\n',
  );
  process.exit(0);
}
const binary = values['eks-controller-bin'];
if (!binary) throw new Error('--eks-controller-bin PATH is required (hack/eks-controller/build.sh prints it)');
const nodes = Number(values.nodes);
const eksPods = Array.from({ length: Number(values['eks-pods']) }, (_, i) => `eks-${i}`);
const sgpPods = Array.from({ length: Number(values['sgp-pods']) }, (_, i) => `sgp-${i}`);
const NS = 'switch';
const COOLDOWN_SECONDS = 30;

/** One element as the VPC CNI reads it: Go's decoder matches keys case-insensitively (`vlanID` ← `vlanId`). */
interface CniView {
  keys: string[];
  eniId: unknown;
  ifAddress: unknown;
  privateIp: unknown;
  ipv6Addr: unknown;
  vlanId: unknown;
  subnetCidr: unknown;
  subnetV6Cidr: unknown;
  associationId: unknown;
}

function cniView(annotation: string | undefined): CniView | undefined {
  if (annotation === undefined) return undefined;
  const parsed: unknown = JSON.parse(annotation);
  const first = Array.isArray(parsed) ? (parsed[0] as Record<string, unknown> | undefined) : undefined;
  if (!first) return undefined;
  const pick = (name: string) => Object.entries(first).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  return {
    keys: Object.keys(first),
    eniId: pick('eniId'),
    ifAddress: pick('ifAddress'),
    privateIp: pick('privateIp'),
    ipv6Addr: pick('ipv6Addr'),
    vlanId: pick('vlanID'),
    subnetCidr: pick('subnetCidr'),
    subnetV6Cidr: pick('subnetV6Cidr'),
    associationId: pick('associationID'),
  };
}

/** The VPC CNI's checks before it wires a branch ENI into an IPv4 pod (ipamd's rpc handler). */
function cniContractProblems(view: CniView | undefined): string[] {
  if (!view) return ['no annotation array element'];
  const problems: string[] = [];
  if (typeof view.privateIp !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(view.privateIp)) problems.push('privateIp');
  if (typeof view.ifAddress !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(view.ifAddress))
    problems.push('ifAddress (MAC)');
  if (typeof view.vlanId !== 'number' || view.vlanId === 0) problems.push('vlanId');
  if (typeof view.subnetCidr !== 'string' || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(view.subnetCidr))
    problems.push('subnetCidr');
  return problems;
}

const shape = (view: CniView | undefined) =>
  view === undefined
    ? undefined
    : {
        keys: view.keys.join(','),
        types: Object.entries(view)
          .filter(([key]) => key !== 'keys')
          .map(([key, value]) => `${key}:${typeof value}`)
          .join(','),
      };

async function annotations(world: BenchWorld, names: readonly string[]): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    const pod = await world.client.get<KubeObject>(Kinds.Pod, `${NS}/${name}`);
    out[name] = pod?.metadata.annotations?.[POD_ENI_ANNOTATION];
  }
  return out;
}

const branchEnis = (world: BenchWorld) =>
  world.emulator.control.dump().networkInterfaces.filter((eni) => eni.description === 'aws-k8s-branch-eni');
const trunkEnis = (world: BenchWorld) =>
  world.emulator.control.dump().networkInterfaces.filter((eni) => eni.interfaceType === 'trunk');

const world = await startWorld({ throttling: false, latency: false });
try {
  // 1. EKS's controller serves the first pods.
  const eks = await startController(
    world,
    { controller: 'eks', eksControllerBin: binary },
    { cooldownSeconds: COOLDOWN_SECONDS },
  );
  const nodeNames = await world.addNodes(nodes);
  await eks.waitNodesReady(nodes, 120_000);
  await world.createPolicyNamespace(NS, { waitValid: false });
  for (const [i, name] of eksPods.entries())
    await world.client.create(Kinds.Pod, podObject(NS, name, nodeNames[i % nodes] ?? ''));
  await waitFor(
    async () => Object.values(await annotations(world, eksPods)).every(Boolean),
    120_000,
    'EKS annotations',
  );
  const eksAnnotations = await annotations(world, eksPods);
  const eksTrunks = trunkEnis(world).map((eni) => eni.id);
  const eksBranches = branchEnis(world);
  progress(`EKS served ${eksPods.length} pods; stopping it with the pods running`);
  await eks.stop();

  // 2. sgp-operator takes over.
  const before = world.counters();
  const sgp = await startController(world, { controller: 'sgp-operator' }, { cooldownSeconds: COOLDOWN_SECONDS });
  await sgp.waitNodesReady(nodes, 120_000);
  await waitFor(
    async () => {
      const policy = await world.client.get<KubeObject & { status?: { conditions?: { type: string }[] } }>(
        Kinds.SecurityGroupPolicy,
        `${NS}/bench`,
      );
      return (policy?.status?.conditions?.length ?? 0) > 0;
    },
    60_000,
    'policy status from sgp-operator',
  );
  // Give the pod controller time to act on the running pods (it has nothing to wait for: their nodes are managed).
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const trunkObjects = await world.client.list<TrunkInterface>(Kinds.TrunkInterface);
  const afterTakeover = await annotations(world, eksPods);
  const branchObjects = await world.client.list<BranchInterface>(Kinds.BranchInterface, { namespace: NS });
  const takeoverCalls = counterDelta(before, world.counters());

  for (const [i, name] of sgpPods.entries())
    await world.client.create(Kinds.Pod, podObject(NS, name, nodeNames[i % nodes] ?? ''));
  await waitFor(
    async () => Object.values(await annotations(world, sgpPods)).every(Boolean),
    120_000,
    'sgp-operator annotations',
  );
  const sgpAnnotations = await annotations(world, sgpPods);

  // 4. The EKS-era pods go; what is left in EC2 after sgp-operator's cooldown?
  for (const name of eksPods) await world.deletePod(NS, name);
  await new Promise((resolve) => setTimeout(resolve, (COOLDOWN_SECONDS + 15) * 1000));
  const remaining = new Set(branchEnis(world).map((eni) => eni.id));
  const sgpEniIds = new Set(Object.values(sgpAnnotations).map((a) => String(cniView(a)?.eniId)));

  const eksViews = Object.fromEntries(eksPods.map((name) => [name, cniView(eksAnnotations[name])]));
  const sgpViews = Object.fromEntries(sgpPods.map((name) => [name, cniView(sgpAnnotations[name])]));
  const perPod = eksPods.map((name) => {
    const was = eksViews[name];
    const now = cniView(afterTakeover[name]);
    const branch = branchObjects.find((b) => b.metadata.name === name);
    return {
      pod: name,
      eksEni: was?.eniId,
      eksVlan: was?.vlanId,
      annotationAfterTakeover: afterTakeover[name] === eksAnnotations[name] ? 'kept' : 'rewritten',
      eniAfterTakeover: now?.eniId,
      vlanAfterTakeover: now?.vlanId,
      branchInterface: branch ? { eniId: branch.status?.eniId, phase: branch.status?.phase } : null,
      eksEniAfterPodDeleted: remaining.has(String(was?.eniId)) ? 'left in EC2 (leaked)' : 'deleted',
      replacementEniAfterPodDeleted:
        now?.eniId !== undefined && now.eniId !== was?.eniId
          ? remaining.has(String(now.eniId))
            ? 'left in EC2'
            : 'deleted'
          : null,
    };
  });
  const leaked = branchEnis(world).filter((eni) => !sgpEniIds.has(eni.id));
  const result = {
    benchmark: 'eks-switch',
    nodes,
    trunks: {
      eks: eksTrunks,
      afterTakeover: trunkObjects.map((t) => ({
        node: t.spec.nodeName,
        eniId: t.status?.eniId,
        state: t.status?.state,
      })),
      adopted: trunkObjects.filter((t) => eksTrunks.includes(t.status?.eniId ?? '')).length,
      trunkEnisInEc2: trunkEnis(world).length,
    },
    takeoverEc2Calls: takeoverCalls.byAction,
    pods: perPod,
    interop: {
      eksShape: shape(Object.values(eksViews)[0]),
      sgpShape: shape(Object.values(sgpViews)[0]),
      eksContractProblems: Object.fromEntries(eksPods.map((n) => [n, cniContractProblems(eksViews[n])])),
      sgpContractProblems: Object.fromEntries(sgpPods.map((n) => [n, cniContractProblems(sgpViews[n])])),
      eksExample: eksAnnotations[eksPods[0] ?? ''],
      sgpExample: sgpAnnotations[sgpPods[0] ?? ''],
    },
    eksBranchEnisBefore: eksBranches.map((eni) => ({ id: eni.id, tags: eni.tags })),
    leakedBranchEnis: leaked.map((eni) => ({ id: eni.id, status: eni.status, owner: eni.tags['eks:eni:owner'] })),
  };
  await sgp.stop();
  emit(result, {
    'trunks adopted': `${result.trunks.adopted} of ${eksTrunks.length} (trunk ENIs in EC2: ${result.trunks.trunkEnisInEc2})`,
    'running pods, annotation': perPod.map((p) => p.annotationAfterTakeover).join(', '),
    'running pods, BranchInterface': perPod.map((p) => (p.branchInterface ? 'yes' : 'no')).join(', '),
    'EKS ENIs after their pods went': perPod.map((p) => p.eksEniAfterPodDeleted).join(', '),
    'branch ENIs leaked': leaked.length,
    'EKS annotation keys': result.interop.eksShape?.keys ?? '—',
    'sgp annotation keys': result.interop.sgpShape?.keys ?? '—',
    'CNI contract problems (EKS / sgp)': `${Object.values(result.interop.eksContractProblems).flat().length} / ${Object.values(result.interop.sgpContractProblems).flat().length}`,
  });
} finally {
  await world.stop();
}
