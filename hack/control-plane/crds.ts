/**
 * Installs CustomResourceDefinitions (by default every file in crds/) and waits until each is Established,
 * the point from which the apiserver serves and validates its resources. Re-running updates them in place,
 * so a persistent demo control plane picks up schema changes.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  ApiException,
  ApiextensionsV1Api,
  KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

import { ControlPlaneError } from './errors.ts';

export const CRDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crds');

/** Every CustomResourceDefinition in the YAML files of `dir` (multi-document files allowed). */
export async function loadCrds(dir: string = CRDS_DIR): Promise<V1CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    // loadAllYaml, not a plain YAML parse: client-node's typed APIs serialize model attribute names
    // (x_kubernetes_validations) back to wire names and silently drop keys they do not know, so a raw
    // `x-kubernetes-validations` key would never reach the apiserver.
    for (const object of loadAllYaml(
      await readFile(join(dir, file), 'utf8'),
    ) as (V1CustomResourceDefinition | null)[]) {
      if (object?.kind === 'CustomResourceDefinition') crds.push(object);
    }
  }
  return crds;
}

export async function installCrds(
  kubeconfigPath: string,
  crds?: V1CustomResourceDefinition[],
  options: { timeoutMs?: number } = {},
): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const list = crds ?? (await loadCrds());
  for (const crd of list) {
    const name = crd.metadata?.name ?? '';
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      if (!(error instanceof ApiException) || error.code !== 409) {
        throw new ControlPlaneError(`installing CRD ${name} failed: ${describe(error)}`, { cause: error });
      }
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const pending = new Set(list.map((c) => c.metadata?.name ?? ''));
  while (pending.size > 0) {
    for (const name of [...pending]) {
      const crd = await api.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      if (established) pending.delete(name);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      throw new ControlPlaneError(`CRDs not Established in time: ${[...pending].join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return list.map((c) => c.metadata?.name ?? '');
}

function describe(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: string } | string;
    return `HTTP ${error.code}: ${typeof body === 'string' ? body : (body.message ?? '')}`;
  }
  return error instanceof Error ? error.message : String(error);
}
