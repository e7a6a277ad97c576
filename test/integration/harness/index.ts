/**
 * What every integration test needs from the run's control plane (started once by ../global-setup.ts, which
 * exports KUBECONFIG to the jest workers): a client config, a private namespace, unique names, and waiting
 * for a condition instead of sleeping.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

import { clusterAccessFromKubeconfig, type ClusterAccess } from '../../../operator/framework/index.ts';

export { createNode, createPod, createServiceAccount, markPodRunning } from './objects.ts';
export type { NodeOptions, PodOptions } from './objects.ts';

/** Label on every namespace the harness creates, so a developer can find and delete them in a long-lived cluster. */
export const TEST_NAMESPACE_LABEL = 'sgp-operator.io/test-namespace';

let cached: KubeConfig | undefined;
let cachedAccess: ClusterAccess | undefined;

/** The kubeconfig file of the run's control plane (admin, system:masters). */
export function kubeconfigPath(): string {
  const path = process.env.KUBECONFIG;
  if (!path) {
    throw new Error(
      'KUBECONFIG is not set: integration tests run through jest with --selectProjects integration, whose global setup starts the control plane',
    );
  }
  return resolve(path.split(':')[0] ?? path);
}

/** @kubernetes/client-node's KubeConfig of the run's control plane, for its generated APIs (CoreV1Api, …). */
export function kubeConfig(): KubeConfig {
  if (cached) return cached;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  cached = kc;
  return kc;
}

/** The operator's view of the same kubeconfig (operator/framework/kubeconfig.ts), for its client and manager. */
export function clusterAccess(): ClusterAccess {
  const path = kubeconfigPath();
  cachedAccess ??= clusterAccessFromKubeconfig([{ path, content: parseYaml(readFileSync(path, 'utf8')) }]);
  return cachedAccess;
}

/**
 * `prefix-xxxxxx`: a DNS-1123 label unique across runs and workers (random suffix), at most 63 characters.
 * The prefix is lower-cased and stripped of characters a name cannot hold.
 */
export function uniqueName(prefix: string): string {
  const suffix = randomBytes(4).toString('hex').slice(0, 6);
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - suffix.length - 1);
  return clean ? `${clean}-${suffix}` : `t-${suffix}`;
}

/**
 * Creates a namespace with a unique name and returns the name. Namespaces are not deleted afterwards: without
 * kube-controller-manager a deleted namespace stays Terminating forever, so per-test names are the isolation.
 */
export async function testNamespace(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true' } } } });
  return name;
}

export interface EventuallyOptions {
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
  /** Pause between attempts; default 100 ms. */
  intervalMs?: number;
  /** What the test waits for, in words: it leads the timeout message. */
  waitingFor: string;
}

/**
 * Calls `check` until it returns (resolves) without throwing, and returns its value. A check asserts with
 * `expect(...)` or throws. On timeout it throws an error naming `waitingFor` and the last error seen.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const last = lastError instanceof Error ? lastError.message : JSON.stringify(lastError);
  throw new Error(
    `timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${options.waitingFor}; last error: ${last}`,
    { cause: lastError },
  );
}
