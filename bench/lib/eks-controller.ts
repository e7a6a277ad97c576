/**
 * EKS's own VPC resource controller (github.com/aws/amazon-vpc-resource-controller-k8s, built by
 * hack/eks-controller/build.sh) as a child process against the benchmark world, with its own default settings.
 *
 * What it needs to run outside EKS, and how each is met here:
 * - region and account: read from the instance metadata service (IMDSv2) at start — the EC2 emulator serves it
 *   (hack/ec2-emulator/imds.ts), named by the SDK's `AWS_EC2_METADATA_SERVICE_ENDPOINT`;
 * - EC2: `AWS_ENDPOINT_URL_EC2` at the emulator, static test credentials; no `--role-arn`, so no STS and one EC2
 *   client for every call (at the user client's 24 QPS / burst 36);
 * - `--cluster-name`, `--vpc-id`, `--aws-region`, and the world's kubeconfig through `KUBECONFIG`;
 * - webhook serving certificates: controller-runtime looks in `$TMPDIR/k8s-webhook-server/serving-certs`, so each
 *   run gets its own `TMPDIR` with a self-signed pair (the webhooks are never registered with the apiserver:
 *   benchmark pods already carry the pod-eni request);
 * - the ConfigMap `kube-system/amazon-vpc-cni` (its `branch-eni-cooldown`).
 * Its metrics server is off and its introspection server on a free loopback port. Two ports are fixed in its
 * main.go: the webhook server (9443, every interface) and the health probe (61779, every interface), so only one
 * EKS controller can run on a machine at a time.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Kinds } from '../../operator/api/kinds.ts';
import type { KubeObject } from '../../operator/framework/index.ts';
import { progress } from './report.ts';
import { REGION, waitFor, type BenchWorld } from './world.ts';

const run = promisify(execFile);

/** Fixed in the controller's main.go (HealthProbeBindAddress). */
export const EKS_HEALTH_PORT = 61779;
/** The controller's defaults we rely on, for the report (main.go flags and pkg/config). */
export const EKS_DEFAULTS =
  'v1.8.0 defaults: one EC2 client (no --role-arn) at 24 QPS / burst 36 client-side, SDK standard retryer ' +
  '3 attempts, 20 pod workers, 30 branch workers, 20 node workers';

export interface EksControllerOptions {
  /** Path of the controller binary (hack/eks-controller/build.sh prints it). */
  binary: string;
  cluster: string;
  /** `branch-eni-cooldown` in kube-system/amazon-vpc-cni (the controller raises anything below 30 to 30). */
  cooldownSeconds?: number;
  /** Extra flags (e.g. higher client QPS while a benchmark seeds its state). */
  args?: readonly string[];
}

export interface RunningEksController {
  process: ChildProcess;
  pid: number;
  /** ms from spawn until its health endpoint answered 200. */
  readyAfterMs: number;
  logPath: string;
  stop(): Promise<void>;
}

export async function startEksController(
  world: BenchWorld,
  options: EksControllerOptions,
): Promise<RunningEksController> {
  const dir = await mkdtemp(join(tmpdir(), 'eks-controller-'));
  const certDir = join(dir, 'k8s-webhook-server', 'serving-certs');
  await mkdir(certDir, { recursive: true });
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    join(certDir, 'tls.key'),
    '-out',
    join(certDir, 'tls.crt'),
  ]);
  await ensureCniConfigMap(world, options.cooldownSeconds ?? 60);

  const logPath = join(dir, 'controller.log');
  const log = createWriteStream(logPath);
  const started = performance.now();
  const child = spawn(
    options.binary,
    [
      `--cluster-name=${options.cluster}`,
      `--vpc-id=${world.vpcId}`,
      `--aws-region=${REGION}`,
      '--metrics-bind-address=0',
      '--introspect-bind-addr=127.0.0.1:0',
      ...(options.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        TMPDIR: dir,
        KUBECONFIG: world.plane.kubeconfigPath,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: world.emulator.endpoint,
        AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv4',
        AWS_ENDPOINT_URL_EC2: world.emulator.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | string | null | undefined;
  child.on('exit', (code, signal) => {
    exited = code ?? signal;
  });
  const pid = child.pid ?? 0;
  try {
    await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`EKS controller exited (${exited}); log: ${await tail(logPath)}`);
        return healthy();
      },
      120_000,
      `EKS controller health on :${EKS_HEALTH_PORT} (log ${logPath})`,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const readyAfterMs = performance.now() - started;
  progress(`EKS controller (pid ${pid}) healthy after ${Math.round(readyAfterMs)} ms; log ${logPath}`);
  let stopped: Promise<void> | undefined;
  return {
    process: child,
    pid,
    readyAfterMs,
    logPath,
    stop: () => {
      stopped ??= (async () => {
        if (exited === undefined) {
          const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await gone;
          clearTimeout(timer);
        }
        log.end();
        if (process.env.KEEP_EKS_CONTROLLER_LOGS === undefined) await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

async function healthy(): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${EKS_HEALTH_PORT}/healthz`);
    await response.text();
    return response.ok;
  } catch {
    // Not listening yet: keep waiting.
    return false;
  }
}

async function tail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: unknown) => `(unreadable: ${String(error)})`);
  return text.split('\n').slice(-15).join('\n');
}

/** The VPC CNI's ConfigMap, which the controller reads at start (and watches) for `branch-eni-cooldown`. */
async function ensureCniConfigMap(world: BenchWorld, cooldownSeconds: number): Promise<void> {
  const data = { 'branch-eni-cooldown': String(cooldownSeconds) };
  const existing = await world.client.get(Kinds.ConfigMap, 'kube-system/amazon-vpc-cni');
  if (existing) await world.client.mergePatch(Kinds.ConfigMap, 'kube-system/amazon-vpc-cni', { data });
  else
    await world.client.create(Kinds.ConfigMap, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
      data,
    } as KubeObject);
}

/** Every node advertises `vpc.amazonaws.com/pod-eni` capacity: what the controller does once a node's trunk is up. */
export async function waitNodesAdvertisePodEni(world: BenchWorld, count: number, timeoutMs: number): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      const nodes = await world.client.list<KubeObject & { status?: { capacity?: Record<string, string> } }>(
        Kinds.Node,
      );
      const ready = nodes.filter(
        (node) => Number(node.status?.capacity?.['vpc.amazonaws.com/pod-eni'] ?? 0) > 0,
      ).length;
      if (ready !== last) progress(`nodes advertising pod-eni: ${ready}/${count}`);
      last = ready;
      return ready >= count;
    },
    timeoutMs,
    `${count} nodes advertising vpc.amazonaws.com/pod-eni`,
  );
}
