/**
 * `make demo`: the EKS workshop's Security Groups for Pods lab on one machine, with no cluster and no AWS.
 * A local kube-apiserver + etcd, the EC2 emulator seeded like the lab's VPC, three m5.large nodes, the
 * operator in-process, the lab's SecurityGroupPolicy and catalog pods; progress as trunks attach and pods
 * get branch ENIs, then a summary read back from EC2 and the cluster.
 *
 *   node hack/demo/demo.ts          runs until Ctrl-C (kubectl works against it meanwhile)
 *   node hack/demo/demo.ts --once   exits after the summary: 0 only if every catalog pod got its ENI with
 *                                   the policy's groups (the end-to-end check scripts and CI can run)
 *   --mode ipv4|ipv6|dual-stack|custom-networking
 *                                   the pod network (hack/demo/modes.ts, docs/networks.md); default ipv4
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Kinds } from '../../operator/api/kinds.ts';
import { POD_ENI_ANNOTATION } from '../../operator/api/constants.ts';
import type { PodEniAnnotationEntry, TrunkInterface } from '../../operator/api/types.ts';
import { createEc2Api, type Ec2Api } from '../../operator/aws/index.ts';
import { createKubeClient, type KubeClient, type KubeObject } from '../../operator/framework/index.ts';
import { createLogger } from '../../operator/observability/logger.ts';
import { createOperator, type Operator } from '../../operator/operator.ts';
import { parseOptions } from '../../operator/options.ts';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.ts';
import { installCrds } from '../control-plane/crds.ts';
import { startEc2Emulator, type RunningEc2Emulator, type Seed } from '../ec2-emulator/index.ts';
import { DEMO_MODES, demoNetwork, type DemoMode } from './modes.ts';
import {
  judgeRow,
  podLine,
  summaryTable,
  trunkLine,
  type NetworkCheck,
  type PodRow,
  type TrunkView,
} from './report.ts';
import {
  applyCatalog,
  CATALOG_NAMESPACE,
  CLUSTER_NAME,
  enablePodEni,
  expectedGroups,
  registerNode,
  type WorkshopGroups,
} from './scenario.ts';

const REGION = 'us-west-2';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEMO_DIR = join(REPO, '.demo');
/** How long `--once` waits for every pod before it reports what is missing and fails. */
const ONCE_TIMEOUT_MS = 180_000;
const POLL_INTERVAL_MS = 500;

interface Running {
  controlPlane?: ControlPlane;
  emulator?: RunningEc2Emulator;
  operator?: Operator;
  operatorRun?: Promise<void>;
}

async function main(): Promise<number> {
  const isOnce = process.argv.includes('--once');
  const modeIndex = process.argv.indexOf('--mode');
  const mode = (modeIndex < 0 ? 'ipv4' : (process.argv[modeIndex + 1] ?? '')) as DemoMode;
  if (!DEMO_MODES.includes(mode)) {
    say(`unknown --mode ${mode}; use one of ${DEMO_MODES.join(', ')}`);
    return 2;
  }
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    say('\nstopping (Ctrl-C again to force)…');
    stop.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const running: Running = {};
  try {
    return await runDemo(isOnce, mode, stop.signal, running);
  } catch (error) {
    if (stop.signal.aborted) return 130;
    say(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
    say(`operator log: ${relative(process.cwd(), join(DEMO_DIR, 'operator.log'))}`);
    return 1;
  } finally {
    await shutdown(running);
  }
}

async function runDemo(isOnce: boolean, mode: DemoMode, signal: AbortSignal, running: Running): Promise<number> {
  const network = demoNetwork(mode);
  await rm(DEMO_DIR, { recursive: true, force: true });
  await mkdir(DEMO_DIR, { recursive: true });

  step('starting kube-apiserver + etcd');
  running.controlPlane = await startControlPlane({ dataDir: join(DEMO_DIR, 'control-plane'), keepDataDir: true });
  const kubeconfigPath = running.controlPlane.kubeconfigPath;
  await installCrds(kubeconfigPath);
  say(`  ${running.controlPlane.server}, CRDs installed`);
  signal.throwIfAborted();

  step('starting the EC2 emulator (workshop VPC, node group, RDS-access group, 3 × m5.large)');
  const seed = JSON.parse(await readFile(join(REPO, 'hack/ec2-emulator/seeds/workshop.json'), 'utf8')) as Seed;
  running.emulator = await startEc2Emulator({ seed, region: REGION, trunkingEnabled: true });
  const vpcId = running.emulator.control.dump().vpcs[0]?.id ?? '';
  step(`pod network: ${network.title}`);
  network.prepareVpc(running.emulator.control, vpcId);
  const dump = running.emulator.control.dump();
  for (const subnet of dump.subnets) {
    say(
      `  ${subnet.id} ${subnet.availabilityZone} ${[subnet.cidrBlock, subnet.ipv6CidrBlock].filter(Boolean).join(' ')}`,
    );
  }
  const groups: WorkshopGroups = {
    nodeGroupId: dump.securityGroups.find((group) => group.name === 'eks-workshop-node')?.id ?? '',
    rdsAccessGroupId: dump.securityGroups.find((group) => group.name === 'eks-workshop-catalog')?.id ?? '',
  };
  say(
    `  ${running.emulator.endpoint}, ${vpcId}, node group ${groups.nodeGroupId}, RDS access ${groups.rdsAccessGroupId}`,
  );

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const client = createKubeClient(kubeConfig);
  await network.prepareCluster(client);
  step('registering the nodes (as the kubelet would)');
  const nodeNames: string[] = [];
  for (const instance of dump.instances) {
    nodeNames.push(await registerNode(client, instance, REGION));
    say(`  ${nodeNames.at(-1)} → aws:///${instance.availabilityZone}/${instance.id} (${instance.instanceType})`);
  }

  step(`starting sgp-operator in-process with ${network.flags.join(' ')} (log: .demo/operator.log)`);
  const ec2 = createEc2Api({
    region: REGION,
    endpoint: running.emulator.endpoint,
    credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
  });
  const parsed = parseOptions(
    [
      '--cluster-name',
      CLUSTER_NAME,
      '--vpc-id',
      vpcId,
      '--region',
      REGION,
      '--enable-webhooks=false',
      '--log-level=debug',
      ...network.flags,
    ],
    {},
  );
  if (parsed.kind !== 'options') throw new Error('unreachable: no --help given');
  const logFile = createWriteStream(join(DEMO_DIR, 'operator.log'));
  const log = createLogger({ level: 'debug', write: (line) => logFile.write(line) });
  running.operator = await createOperator(parsed.options, { kubeConfig, ec2, log });
  running.operatorRun = running.operator.start(signal);
  running.operatorRun.catch((error: unknown) => say(`operator stopped: ${String(error)}`));

  step('the VPC CNI opts the nodes in (CNINode feature SecurityGroupsForPods)');
  for (const nodeName of nodeNames) await enablePodEni(client, nodeName);

  step(`applying SecurityGroupPolicy ${CATALOG_NAMESPACE}/catalog-rds-access and the catalog pods`);
  const podNames = await applyCatalog(client, groups, nodeNames);
  say(`  pods with app.kubernetes.io/component=service get [${expectedGroups(groups).join(', ')}]`);

  step('waiting for trunks and branch ENIs');
  const check: NetworkCheck = (row) =>
    network.check({
      privateIp: row.ip,
      ipv6Addr: row.ipv6,
      subnetCidr: row.subnetCidr,
      subnetV6Cidr: row.subnetV6Cidr,
      eniSubnetId: row.eniSubnetId,
      zone: row.zone,
    });
  const rows = await watchProgress({ client, ec2, podNames, expected: expectedGroups(groups), check, isOnce, signal });

  step('summary (annotation from the cluster, ENI and association from EC2)');
  say(summaryTable(rows, expectedGroups(groups), check));
  const failures = rows.filter((row) => !judgeRow(row, expectedGroups(groups), check).ok);
  say(
    failures.length === 0
      ? `\nall ${rows.length} catalog pods have their branch ENI with the policy's groups (${mode})`
      : `\n${failures.length} of ${rows.length} catalog pods are not right (see the OK column)`,
  );
  if (isOnce) return failures.length === 0 ? 0 : 1;

  const kubeconfigShown = relative(process.cwd(), kubeconfigPath);
  say(`\nthe cluster stays up until Ctrl-C; try:`);
  say(`  kubectl --kubeconfig ${kubeconfigShown} get sgp,trunkinterfaces,branchinterfaces -A`);
  say(`  kubectl --kubeconfig ${kubeconfigShown} describe pod -n ${CATALOG_NAMESPACE} ${podNames[0]}`);
  say(`  curl -s ${running.emulator.endpoint}/_emulator/dump -d '{}'   # the EC2 side`);
  await new Promise<void>((resolveWait) => signal.addEventListener('abort', () => resolveWait(), { once: true }));
  return 0;
}

/** Prints each trunk and pod once, as it becomes ready; resolves with the rows when all pods are right. */
async function watchProgress(input: {
  client: KubeClient;
  ec2: Ec2Api;
  podNames: readonly string[];
  expected: readonly string[];
  check: NetworkCheck;
  isOnce: boolean;
  signal: AbortSignal;
}): Promise<PodRow[]> {
  const shownTrunks = new Set<string>();
  const shownPods = new Set<string>();
  const deadline = Date.now() + ONCE_TIMEOUT_MS;
  for (;;) {
    const trunks = await input.client.list<TrunkInterface>(Kinds.TrunkInterface);
    for (const trunk of trunks.map(trunkView)) {
      const line = trunkLine(trunk);
      if (trunk.state === 'Ready' && !shownTrunks.has(trunk.node)) {
        shownTrunks.add(trunk.node);
        say(line);
      }
    }
    const rows = await readRows(input.client, input.ec2, input.podNames, trunks);
    for (const row of rows) {
      if (row.eniId !== undefined && !shownPods.has(row.pod)) {
        shownPods.add(row.pod);
        say(podLine(row));
      }
    }
    if (rows.every((row) => judgeRow(row, input.expected, input.check).ok)) return rows;
    if (input.isOnce && Date.now() > deadline) {
      say(`  gave up after ${ONCE_TIMEOUT_MS / 1000} s`);
      return rows;
    }
    input.signal.throwIfAborted();
    await new Promise((resolveWait) => setTimeout(resolveWait, POLL_INTERVAL_MS));
  }
}

function trunkView(trunk: TrunkInterface): TrunkView {
  return {
    node: trunk.metadata.name ?? '',
    state: trunk.status?.state ?? 'Pending',
    eniId: trunk.status?.eniId ?? '',
    capacity: trunk.status?.branchCapacity,
  };
}

async function readRows(
  client: KubeClient,
  ec2: Ec2Api,
  podNames: readonly string[],
  trunks: readonly TrunkInterface[],
): Promise<PodRow[]> {
  type Pod = KubeObject & { spec?: { nodeName?: string } };
  const pods = await Promise.all(podNames.map((name) => client.get<Pod>(Kinds.Pod, `${CATALOG_NAMESPACE}/${name}`)));
  const nodes = await client.list<KubeObject>(Kinds.Node);
  const entries = pods.map((pod) => annotationOf(pod));
  const eniIds = entries.flatMap((entry) => (entry ? [entry.eniId] : []));
  const enis =
    eniIds.length === 0 ? [] : await ec2.describeNetworkInterfaces({ ids: eniIds }, { priority: 'background' });
  const trunkEnis = trunks.flatMap((trunk) => (trunk.status?.eniId ? [trunk.status.eniId] : []));
  const associations = (
    await Promise.all(
      trunkEnis.map((trunkInterfaceId) =>
        ec2.describeTrunkInterfaceAssociations({ trunkInterfaceId }, { priority: 'background' }),
      ),
    )
  ).flat();
  return podNames.map((name, index) => {
    const entry = entries[index];
    const nodeName = pods[index]?.spec?.nodeName ?? '';
    const trunkEni = trunks.find((trunk) => trunk.metadata.name === nodeName)?.status?.eniId;
    const eni = enis.find((candidate) => candidate.id === entry?.eniId);
    return {
      pod: name,
      node: nodeName,
      vlanId: entry?.vlanId,
      eniId: entry?.eniId,
      ip: entry?.privateIp || undefined,
      ipv6: entry?.ipv6Addr || undefined,
      subnetCidr: entry?.subnetCidr || undefined,
      subnetV6Cidr: entry?.subnetV6Cidr || undefined,
      eniSubnetId: eni?.subnetId,
      zone: nodes.find((node) => node.metadata.name === nodeName)?.metadata.labels?.['topology.kubernetes.io/zone'],
      groups: [...(eni?.securityGroupIds ?? [])].sort(),
      isAssociated: associations.some(
        (association) =>
          association.branchInterfaceId === entry?.eniId &&
          association.trunkInterfaceId === trunkEni &&
          association.vlanId === entry?.vlanId,
      ),
    };
  });
}

function annotationOf(pod: KubeObject | undefined): PodEniAnnotationEntry | undefined {
  const raw = pod?.metadata.annotations?.[POD_ENI_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const entries = JSON.parse(raw) as PodEniAnnotationEntry[];
    return Array.isArray(entries) ? entries[0] : undefined;
  } catch {
    return undefined; // a malformed annotation counts as none yet; the summary says so
  }
}

async function shutdown(running: Running): Promise<void> {
  if (running.operator) {
    await running.operator.stop().catch((error: unknown) => say(`stopping the operator: ${String(error)}`));
    await running.operatorRun?.catch(() => undefined);
  }
  await running.emulator?.stop().catch((error: unknown) => say(`stopping the EC2 emulator: ${String(error)}`));
  await running.controlPlane?.stop().catch((error: unknown) => say(`stopping the control plane: ${String(error)}`));
}

function step(text: string): void {
  say(`\n▸ ${text}`);
}

function say(text: string): void {
  process.stdout.write(text + '\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`demo failed: ${String(error)}`);
    process.exit(1);
  },
);
