/**
 * Upgrading a running installation the way users do it: `kubectl apply -k config/default` over the previous
 * release, then the Deployment rolls (the new replica starts, the old one gets SIGTERM and hands over the Lease).
 *
 * 0.1.0, for real: its manifests (test/fixtures/upgrade/, config/default at 0.1.0) are applied to a private world
 * (test/kit/world.ts: kube-apiserver + etcd, the EC2 emulator), and 0.1.0's own operator — the code of commit
 * 1a27b3f, extracted with `git archive` and run as a child process through its own command line, as the
 * ServiceAccount 0.1.0's RBAC grants (impersonated) — gives a node its trunk and three pods their branch ENIs.
 * This API server has no cluster network to reach a webhook Service and 0.1.0 cannot be pointed elsewhere, so
 * 0.1.0's two webhook configurations are removed and its pods carry the pod-eni request its webhook would add.
 *
 * The upgrade: the current config/default is applied over it; the current operator starts in process as the
 * current ServiceAccount (webhooks on a loopback URL), first as a follower; 0.1.0 is stopped with SIGTERM and
 * the current operator takes the Lease. Then, once it has visibly done its work (the trunk status it adds, a new
 * pod admitted by its webhook and given a branch ENI, three leak sweeps over every ENI, its queues idle), the
 * running pods must have kept their annotation and ENI byte for byte, the emulator's mutation log must show no
 * EC2 change since the upgrade but the new pod's, and every object 0.1.0 wrote must still read, pass strict
 * validation under the new schemas and take updates.
 * Needs the git history (commit 1a27b3f); skipped against an existing cluster.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse, stringify } from 'yaml';

import { freePorts } from '../../../hack/control-plane/control-plane.ts';
import type { DumpAssociation, DumpNetworkInterface } from '../../../hack/ec2-emulator/index.ts';
import { POD_ENI_ANNOTATION, POD_ENI_RESOURCE } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, TrunkInterface } from '../../../operator/api/types.ts';
import {
  loadKubeconfigFiles,
  type ClusterAccess,
  type KubeObject,
  type ResourceKind,
} from '../../../operator/framework/index.ts';
import { activeWorkers, gcSweepsTotal, workqueueDepth } from '../../../operator/observability/metrics.ts';
import { startOperatorOn, startWorld, type World, type WorldOperator } from '../../kit/world.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { createTestPod, testPolicy, waitAnnotated } from '../pods/fixture.ts';

const execute = promisify(execFile);
const REPO = new URL('../../../', import.meta.url).pathname;
const FIXTURE = join(REPO, 'test/fixtures/upgrade/v0.1.0-config-default.yaml');
/** Release 0.1.0 (test/fixtures/upgrade/README.md). */
const RELEASE_COMMIT = '1a27b3f';
const INSTALL_NAMESPACE = 'sgp-system';
/** The user the ServiceAccount of config/default (0.1.0's and today's) authenticates as. */
const OPERATOR_USER = `system:serviceaccount:${INSTALL_NAMESPACE}:sgp-operator-controller-manager`;
const APP = { app: 'api' };
const RUNNING_PODS = ['api-0', 'api-1', 'api-2'];
/** Leader election fast enough for a test; both releases validate lease > renew deadline > retry period. */
const LEASE = { leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 };
const SETUP_TIMEOUT_MS = 300_000;

const isLocal = process.env.USE_EXISTING_CLUSTER !== 'true';
const hasRelease =
  spawnSync('git', ['-C', REPO, 'cat-file', '-e', `${RELEASE_COMMIT}^{commit}`], { stdio: 'ignore' }).status === 0;
// In CI a clone without the release's commit is a broken setup, not a reason to skip.
const runOrSkip = isLocal && (hasRelease || process.env.CI === 'true') ? describe : describe.skip;
const SKIP_NOTE = hasRelease ? '' : ` (skipped: commit ${RELEASE_COMMIT} missing; git fetch --unshallow)`;

/** 0.1.0's operator, from its own source, as a child process. */
interface Release010 {
  /** SIGTERM, as the kubelet sends it; resolves with the exit code. */
  stop(): Promise<number | null>;
}

async function startRelease010(dir: string, args: string[], healthPort: number, logPath: string): Promise<Release010> {
  const log = createWriteStream(logPath);
  const child: ChildProcess = spawn(process.execPath, ['operator/main.ts', ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      POD_NAMESPACE: INSTALL_NAMESPACE,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const tail = async () => (await readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
  try {
    await eventually(
      async () => {
        if (exitCode !== undefined) throw new Error(`0.1.0 exited with ${exitCode}:\n${await tail()}`);
        const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
        expect(response.status).toBe(200);
      },
      { waitingFor: "0.1.0's operator ready (/readyz)", timeoutMs: 60_000 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const code = await exited;
      log.end();
      return code;
    },
  };
}

/** A kubeconfig like the control plane's that acts as the operator's ServiceAccount (impersonation). */
async function operatorKubeconfig(adminPath: string, path: string): Promise<ClusterAccess> {
  const config = parse(await readFile(adminPath, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
  for (const entry of config.users) entry.user.as = OPERATOR_USER;
  await writeFile(path, stringify(config));
  return loadKubeconfigFiles([path]);
}

/** Leak sweeps the current operator (this process) finished, by result. */
async function sweeps(result: 'success' | 'error'): Promise<number> {
  const { values } = await gcSweepsTotal.get();
  return values.find((value) => value.labels.result === result)?.value ?? 0;
}

async function gaugeValues(metric: typeof workqueueDepth | typeof activeWorkers): Promise<Record<string, number>> {
  const { values } = await metric.get();
  return Object.fromEntries(values.map((value) => [String(value.labels.controller), value.value]));
}

interface Stored extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** What 0.1.0 left: the objects, the annotations and the EC2 side of each running pod. */
interface Before {
  trunk: TrunkInterface;
  objects: Array<{ kind: ResourceKind; key: string; object: Stored }>;
  annotations: Record<string, string>;
  enis: DumpNetworkInterface[];
  associations: DumpAssociation[];
}

runOrSkip(`upgrading a running 0.1.0 installation to this release${SKIP_NOTE}`, () => {
  let world: World;
  let workDir: string;
  let release010: Release010 | undefined;
  let current: WorldOperator;
  let node: string;
  let namespace: string;
  let before: Before;
  /** The last EC2 mutation before the current release was applied. */
  let lastMutationBefore: number;
  let release010ExitCode: number | null;

  const kubectl = async (args: string[]): Promise<string> =>
    (
      await execute('kubectl', args, {
        env: { ...process.env, KUBECONFIG: world.plane.kubeconfigPath },
        maxBuffer: 64 << 20,
      })
    ).stdout;

  beforeAll(async () => {
    if (!hasRelease)
      throw new Error(`commit ${RELEASE_COMMIT} (release 0.1.0) is not in this clone: git fetch --unshallow`);
    workDir = await mkdtemp(join(tmpdir(), 'sgp-upgrade-'));
    world = await startWorld({
      installCrds: false,
      seed: {
        vpcs: [
          {
            cidrBlocks: ['10.0.0.0/16'],
            subnets: [{ cidrBlock: '10.0.0.0/24', availabilityZone: 'us-west-2a', tags: { Name: 'nodes' } }],
            securityGroups: [{ name: 'node-group' }, { name: 'api' }],
          },
        ],
      },
    });
    const clusterName = uniqueName('upgrade');
    const { client } = world;

    // ---- 0.1.0 as its users installed and ran it ----
    await kubectl(['apply', '-f', FIXTURE]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl([
      'delete',
      'mutatingwebhookconfiguration/sgp-operator-mutating-webhook',
      'validatingwebhookconfiguration/sgp-operator-validating-webhook',
    ]);
    const source = join(workDir, 'v0.1.0');
    await mkdir(source);
    await execute('sh', [
      '-c',
      `git -C "$1" archive ${RELEASE_COMMIT} operator package.json | tar -x -C "$2"`,
      'sh',
      REPO,
      source,
    ]);
    // 0.1.0's dependencies are a subset of today's at the same versions (package.json at both commits).
    await symlink(join(REPO, 'node_modules'), join(source, 'node_modules'));
    const kubeconfig010 = join(workDir, 'kubeconfig-0.1.0');
    await operatorKubeconfig(world.plane.kubeconfigPath, kubeconfig010);
    const [health010, webhookPort] = await freePorts(2);
    release010 = await startRelease010(
      source,
      [
        `--kubeconfig=${kubeconfig010}`,
        `--cluster-name=${clusterName}`,
        '--region=us-west-2',
        `--vpc-id=${world.vpcId}`,
        `--ec2-endpoint=${world.emulator.endpoint}`,
        '--leader-elect',
        `--lease-duration-seconds=${LEASE.leaseDurationSeconds}`,
        `--renew-deadline-seconds=${LEASE.renewDeadlineSeconds}`,
        `--retry-period-seconds=${LEASE.retryPeriodSeconds}`,
        '--enable-webhooks=false',
        '--metrics-bind-address=0',
        `--health-probe-bind-address=127.0.0.1:${health010}`,
      ],
      health010 ?? 0,
      join(workDir, 'operator-0.1.0.log'),
    );

    node = uniqueName('node');
    await world.addNode(node, { optIn: 'cninode-feature' });
    const trunk = await eventually(
      async () => {
        const found = await client.get<TrunkInterface>(Kinds.TrunkInterface, node);
        expect(found?.status?.state).toBe('Ready');
        return found as TrunkInterface;
      },
      { waitingFor: `0.1.0: TrunkInterface ${node} Ready`, timeoutMs: 60_000 },
    );
    namespace = await world.namespace('payments');
    await client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(namespace, 'api', [world.groups.api ?? ''], { podSelector: { matchLabels: APP } }),
    );
    for (const pod of RUNNING_PODS) await createTestPod(client, namespace, pod, { nodeName: node, labels: APP });
    const annotations: Record<string, string> = {};
    for (const pod of RUNNING_PODS) {
      await waitAnnotated(client, namespace, pod);
      const annotated = await client.get<KubeObject>(Kinds.Pod, `${namespace}/${pod}`);
      annotations[pod] = annotated?.metadata.annotations?.[POD_ENI_ANNOTATION] ?? '';
    }
    const objects: Before['objects'] = [
      { kind: Kinds.TrunkInterface, key: node, object: {} as Stored },
      { kind: Kinds.CNINode, key: node, object: {} as Stored },
      { kind: Kinds.SecurityGroupPolicy, key: `${namespace}/api`, object: {} as Stored },
      ...RUNNING_PODS.map((pod) => ({ kind: Kinds.BranchInterface, key: `${namespace}/${pod}`, object: {} as Stored })),
    ];
    for (const entry of objects) entry.object = (await client.get<Stored>(entry.kind, entry.key)) as Stored;
    const eniIds = new Set(
      objects
        .filter((entry) => entry.kind === Kinds.BranchInterface)
        .map((entry) => (entry.object as BranchInterface).status?.eniId),
    );
    const dump = world.emulator.control.dump();
    before = {
      trunk,
      objects,
      annotations,
      enis: dump.networkInterfaces.filter((eni) => eniIds.has(eni.id) || eni.id === trunk.status?.eniId),
      associations: dump.associations.filter((association) => eniIds.has(association.branchInterfaceId)),
    };
    lastMutationBefore = world.emulator.control.mutations().at(-1)?.seq ?? 0;

    // ---- the upgrade: today's config/default over it, then a rolling update of the operator ----
    const manifests = join(workDir, 'current.yaml');
    await writeFile(
      manifests,
      (await execute('kubectl', ['kustomize', join(REPO, 'config/default')], { maxBuffer: 64 << 20 })).stdout,
    );
    await kubectl(['apply', '-f', manifests]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    current = await startOperatorOn(
      {
        clusterAccess: await operatorKubeconfig(world.plane.kubeconfigPath, join(workDir, 'kubeconfig-current')),
        vpcId: world.vpcId,
        endpoint: world.emulator.endpoint,
      },
      {
        options: {
          clusterName,
          leaderElect: true,
          leaderElectionNamespace: INSTALL_NAMESPACE,
          ...LEASE,
          enableWebhooks: true,
          webhookBindAddress: { host: '127.0.0.1', port: webhookPort ?? 0 },
          leakSweepIntervalSeconds: 1,
          leakSweepInitialDelaySeconds: 0,
        },
        webhookBaseUrl: `https://127.0.0.1:${webhookPort}`,
      },
    );
    release010ExitCode = await release010.stop();
    release010 = undefined;
    await eventually(() => expect(current.operator.manager.isLeader()).toBe(true), {
      waitingFor: 'the current operator to take the Lease 0.1.0 released',
      timeoutMs: 30_000,
    });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await release010?.stop();
    await world?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  test('0.1.0 stopped cleanly on SIGTERM and handed over the Lease', () => {
    expect(release010ExitCode).toBe(0);
    expect(current.operator.manager.isLeader()).toBe(true);
  });

  test('running pods keep their annotation and branch ENI, and no mutating EC2 call names them', async () => {
    const { client } = world;
    // The current operator at work, first. Its trunk reconciler writes what 0.1.0 did not know (and so did not
    // write: the trunk was 0.1.0's work).
    expect(before.trunk.status?.branchSubnet).toBeUndefined();
    await eventually(
      async () => {
        const trunk = await client.get<TrunkInterface>(Kinds.TrunkInterface, node);
        expect(trunk?.status?.branchSubnet?.subnetId).toBe(before.trunk.status?.subnetId);
      },
      { waitingFor: `the current operator's status.branchSubnet on TrunkInterface ${node}`, timeoutMs: 30_000 },
    );
    // A new pod on the same node goes through the current webhooks (which add the pod-eni request) and
    // gets its branch ENI from the current operator. The create is retried while the API server still calls
    // the webhook Service config/default names, until the operator has pointed the configurations at itself.
    await eventually(
      () => createTestPod(client, namespace, 'api-new', { nodeName: node, labels: APP, podEni: false }),
      {
        waitingFor: 'the current webhooks to admit a pod',
        timeoutMs: 30_000,
      },
    );
    const admitted = await client.get<KubeObject & { spec: { containers: Array<{ resources?: unknown }> } }>(
      Kinds.Pod,
      `${namespace}/api-new`,
    );
    expect(admitted?.spec.containers[0]?.resources).toEqual({
      limits: { [POD_ENI_RESOURCE]: '1' },
      requests: { [POD_ENI_RESOURCE]: '1' },
    });
    const served = await waitAnnotated(client, namespace, 'api-new');
    // Leak sweeps look at every ENI of the cluster and delete one no pod or node claims on its second look.
    await eventually(async () => expect(await sweeps('success')).toBeGreaterThanOrEqual(3), {
      waitingFor: 'three successful leak sweeps by the current operator',
      timeoutMs: 30_000,
    });
    // Every key from the initial lists has been reconciled: nothing waits in any queue, no worker is busy.
    await eventually(
      async () => {
        expect(Object.values(await gaugeValues(workqueueDepth)).every((depth) => depth === 0)).toBe(true);
        expect(Object.values(await gaugeValues(activeWorkers)).every((busy) => busy === 0)).toBe(true);
      },
      { waitingFor: "the current operator's queues idle", timeoutMs: 30_000 },
    );

    // Since the current release was applied, EC2 was changed only for the new pod.
    const since = world.emulator.control.mutations().filter((mutation) => mutation.seq > lastMutationBefore);
    expect(since.length).toBeGreaterThan(0);
    expect(since.filter((mutation) => mutation.networkInterfaceId !== served.eniId)).toEqual([]);
    const dump = world.emulator.control.dump();
    const old = new Set(before.enis.map((eni) => eni.id));
    expect(dump.networkInterfaces.filter((eni) => old.has(eni.id))).toEqual(before.enis);
    expect(
      dump.associations.filter((association) =>
        before.associations.some((earlier) => earlier.associationId === association.associationId),
      ),
    ).toEqual(before.associations);
    for (const pod of RUNNING_PODS) {
      const running = await client.get<KubeObject>(Kinds.Pod, `${namespace}/${pod}`);
      expect({ pod, annotation: running?.metadata.annotations?.[POD_ENI_ANNOTATION] }).toEqual({
        pod,
        annotation: before.annotations[pod],
      });
    }
  }, 120_000);

  test('every object 0.1.0 wrote still reads, keeps its identity, passes strict validation and takes updates', async () => {
    const copies = await world.namespace('copies');
    for (const { kind, key, object } of before.objects) {
      const after = await world.client.get<Stored>(kind, key);
      expect({ kind: kind.kind, key, uid: after?.metadata.uid, spec: after?.spec }).toEqual({
        kind: kind.kind,
        key,
        uid: object.metadata.uid,
        spec: object.spec,
      });
      // What users and the VPC CNI rely on keeps its 0.1.0 value; the current operator may add status fields.
      const identity = ['eniId', 'vlanId', 'trunkEniId', 'subnetId', 'phase', 'state', 'privateIp'];
      const kept = Object.fromEntries(
        Object.entries(object.status ?? {}).filter(([field]) => identity.includes(field)),
      );
      expect({ kind: kind.kind, key, status: after?.status }).toMatchObject({ kind: kind.kind, key, status: kept });

      // Valid under the new schema: a strict create of a copy (another namespace keeps the names, which CEL
      // rules tie to the pod's and node's), and a real update of the object itself.
      const copy = {
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata.name, ...(object.metadata.namespace ? { namespace: copies } : {}) },
        spec: object.spec,
      } as Stored;
      if (!object.metadata.namespace) {
        copy.metadata.name = uniqueName('ip-10-0-0-99');
        if (copy.spec && 'nodeName' in copy.spec) copy.spec = { ...copy.spec, nodeName: copy.metadata.name };
      }
      const file = join(workDir, `${uniqueName('copy')}.json`);
      await writeFile(file, JSON.stringify(copy));
      await expect(kubectl(['create', '--dry-run=server', '--validate=strict', '-f', file])).resolves.toContain(
        '(server dry run)',
      );
      await world.client.mergePatch(kind, key, { metadata: { labels: { upgraded: 'true' } } });
      expect((await world.client.get<Stored>(kind, key))?.metadata.labels).toMatchObject({ upgraded: 'true' });
    }

    const crds = parse(await kubectl(['get', 'crd', '-o', 'yaml'])) as {
      items: Array<{ metadata: { name: string }; status: { storedVersions: string[] } }>;
    };
    expect(Object.fromEntries(crds.items.map((crd) => [crd.metadata.name, crd.status.storedVersions]))).toEqual({
      'branchinterfaces.trunking.sgp-operator.io': ['v1alpha1'],
      'cninodes.vpcresources.k8s.aws': ['v1alpha1'],
      'eniconfigs.crd.k8s.amazonaws.com': ['v1alpha1'],
      'securitygroupgrants.trunking.sgp-operator.io': ['v1alpha1'],
      'securitygrouppolicies.vpcresources.k8s.aws': ['v1beta1'],
      'trunkinterfaces.trunking.sgp-operator.io': ['v1alpha1'],
      'warmbranches.trunking.sgp-operator.io': ['v1alpha1'],
    });
  }, 60_000);
});
