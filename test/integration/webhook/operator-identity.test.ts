/**
 * The username vpod's matchConditions exempt, as kustomize builds config/default: it must be the operator's own
 * ServiceAccount (what SelfSubjectReview reports in the cluster, and what the configuration sync writes), and it
 * must follow the install namespace and name prefix when someone changes them. Needs kubectl (kustomize), as
 * the other config/ tests do; no API server.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';

import { operatorExcluded } from '../../../operator/webhook/index.ts';

const run = promisify(execFile);
const REPO = new URL('../../../', import.meta.url).pathname;

interface Built {
  kind: string;
  metadata: { name: string; namespace?: string };
  webhooks?: Array<{ name: string; matchConditions?: Array<{ name: string; expression: string }> }>;
}

async function build(root: string): Promise<{ serviceAccount: string; exempted: string | undefined }> {
  const { stdout } = await run('kubectl', ['kustomize', join(root, 'config/default')], { maxBuffer: 32 << 20 });
  const objects = parseAllDocuments(stdout).map((document) => document.toJS() as Built);
  const serviceAccount = objects.find((object) => object.kind === 'ServiceAccount');
  const vpod = objects
    .find((object) => object.kind === 'ValidatingWebhookConfiguration')
    ?.webhooks?.find((webhook) => webhook.name === 'vpod.trunking.sgp-operator.io');
  return {
    serviceAccount: `system:serviceaccount:${serviceAccount?.metadata.namespace}:${serviceAccount?.metadata.name}`,
    exempted: vpod?.matchConditions?.find((condition) => condition.name === 'not-the-operator')?.expression,
  };
}

describe('the operator identity in config/default', () => {
  const copies: string[] = [];
  afterAll(async () => {
    await Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('vpod exempts exactly the operator’s ServiceAccount', async () => {
    const built = await build(REPO);
    expect(built.serviceAccount).toBe('system:serviceaccount:sgp-system:sgp-operator-controller-manager');
    expect(built.exempted).toBe(operatorExcluded(built.serviceAccount));
  });

  test('another install namespace and name prefix reach the expression', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgp-identity-'));
    copies.push(root);
    await cp(join(REPO, 'config'), join(root, 'config'), { recursive: true });
    await cp(join(REPO, 'crds'), join(root, 'crds'), { recursive: true });
    const edit = async (path: string, from: string, to: string): Promise<void> => {
      const text = await readFile(join(root, path), 'utf8');
      if (!text.includes(from)) throw new Error(`${path} no longer contains ${from}`);
      await writeFile(join(root, path), text.replaceAll(from, to));
    };
    await edit('config/default/namespace.yaml', 'name: sgp-system', 'name: netsec');
    await edit('config/default/namespace_transformer.yaml', 'namespace: sgp-system', 'namespace: netsec');
    await edit('config/default/kustomization.yaml', 'namePrefix: sgp-operator-', 'namePrefix: sgp-');
    const built = await build(root);
    expect(built.serviceAccount).toBe('system:serviceaccount:netsec:sgp-controller-manager');
    expect(built.exempted).toBe(operatorExcluded(built.serviceAccount));
  });
});
