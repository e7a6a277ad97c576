/**
 * What the kubectl sgp integration tests share: running the CLI in-process as a given kubeconfig, and the
 * operator's Deployment as config/default installs it (nothing runs it here: the plugin only reads its flags).
 */
import { Writable } from 'node:stream';

import { Kinds } from '../../../operator/api/kinds.ts';
import type { KubeClient, KubeObject, ResourceKind } from '../../../operator/framework/index.ts';
import { runKubectlSgp } from '../../../kubectl-sgp/cli.ts';

export interface SgpRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl sgp <args> --kubeconfig <kubeconfigPath>` in-process, with an empty environment. */
export async function runSgp(kubeconfigPath: string, args: readonly string[]): Promise<SgpRun> {
  const out = collector();
  const err = collector();
  const code = await runKubectlSgp([...args, '--kubeconfig', kubeconfigPath], {
    stdout: out.stream,
    stderr: err.stream,
    env: {},
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Like runSgp with `-o json`, parsed; fails with the CLI's stderr when it exits non-zero. */
export async function sgpJson<T>(kubeconfigPath: string, args: readonly string[]): Promise<T> {
  const run = await runSgp(kubeconfigPath, [...args, '-o', 'json']);
  if (run.code !== 0) throw new Error(`kubectl sgp ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

const DEPLOYMENT: ResourceKind = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
};

/**
 * The operator's Deployment in `namespace` as config/default shapes it (label app.kubernetes.io/name=sgp-operator,
 * container `manager`, flags in args, the rest from the `params` ConfigMap), with security-group annotations on
 * and `allowList` in the ConfigMap.
 */
export async function createOperatorDeployment(
  client: KubeClient,
  namespace: string,
  allowList: readonly string[],
): Promise<void> {
  await client.create(Kinds.ConfigMap, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'params', namespace },
    data: { SGP_SECURITY_GROUP_ANNOTATION_ALLOW_LIST: allowList.join(',') },
  } as KubeObject);
  await client.create(DEPLOYMENT, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'sgp-operator-controller-manager',
      namespace,
      labels: { 'app.kubernetes.io/name': 'sgp-operator' },
    },
    spec: {
      selector: { matchLabels: { app: 'sgp' } },
      template: {
        metadata: { labels: { app: 'sgp' } },
        spec: {
          containers: [
            {
              name: 'manager',
              image: 'sgp-operator:test',
              args: ['--leader-elect', '--enable-security-group-annotations'],
              envFrom: [{ configMapRef: { name: 'params' } }],
            },
          ],
        },
      },
    },
  } as KubeObject);
}
