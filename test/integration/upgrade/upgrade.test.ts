/**
 * Upgrading an installation: the previous release's manifests (test/fixtures/upgrade/, config/default at 0.1.0)
 * are applied for real to a private kube-apiserver, objects of every kind the operator keeps state in are
 * created under them (spec and status), and then the current config/default is applied over it, as
 * `kubectl apply -k` would. The objects must come through unchanged (same UID, spec and status), stay valid
 * under the new schemas (a strict server-side create of a copy and a real update both pass), and the CRDs keep
 * their storage version. A private control plane because the old webhooks and CRDs must not touch the run's
 * shared one. Skipped against an existing cluster.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

import { startControlPlane, type ControlPlane } from '../../../hack/control-plane/control-plane.ts';

const run = promisify(execFile);
const REPO = new URL('../../../', import.meta.url).pathname;
const FIXTURE = join(REPO, 'test/fixtures/upgrade/v0.1.0-config-default.yaml');
const START_TIMEOUT_MS = 150_000;
const isLocal = process.env.USE_EXISTING_CLUSTER !== 'true';

/** One object of each kind the operator keeps state in, with the status it would have written. */
const OBJECTS = [
  {
    resource: 'securitygrouppolicies.vpcresources.k8s.aws',
    namespace: 'payments',
    body: {
      apiVersion: 'vpcresources.k8s.aws/v1beta1',
      kind: 'SecurityGroupPolicy',
      metadata: { name: 'payments-db', namespace: 'payments' },
      spec: {
        podSelector: { matchLabels: { app: 'payments' } },
        securityGroups: { groupIds: ['sg-0123456789abcdef0'] },
      },
    },
    status: { observedGeneration: 1, matchedPods: 1, resolvedGroupIds: ['sg-0123456789abcdef0'] },
  },
  {
    resource: 'trunkinterfaces.trunking.sgp-operator.io',
    body: {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'TrunkInterface',
      metadata: { name: 'ip-10-0-1-10.eu-west-1.compute.internal' },
      spec: {
        nodeName: 'ip-10-0-1-10.eu-west-1.compute.internal',
        instanceId: 'i-0123456789abcdef0',
        instanceType: 'm5.large',
      },
    },
    status: {
      observedGeneration: 1,
      state: 'Ready',
      eniId: 'eni-0aaaaaaaaaaaaaaa1',
      subnetId: 'subnet-0123456789abcdef0',
      securityGroups: ['sg-0fedcba9876543210'],
      branchCapacity: 9,
      branchesUsed: 1,
    },
  },
  {
    resource: 'branchinterfaces.trunking.sgp-operator.io',
    namespace: 'payments',
    body: {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'BranchInterface',
      metadata: { name: 'payments-7d9c5b6f4-x2x8q', namespace: 'payments' },
      spec: {
        podName: 'payments-7d9c5b6f4-x2x8q',
        podUid: '3f1e6a52-0c1d-4f3b-9a57-2b8f6a1c9d40',
        nodeName: 'ip-10-0-1-10.eu-west-1.compute.internal',
        securityGroups: ['sg-0123456789abcdef0'],
        matchedPolicies: ['payments-db'],
      },
    },
    status: {
      observedGeneration: 1,
      phase: 'Ready',
      eniId: 'eni-0bbbbbbbbbbbbbbb2',
      vlanId: 1,
      trunkEniId: 'eni-0aaaaaaaaaaaaaaa1',
      privateIp: '10.0.1.23',
      appliedSecurityGroups: ['sg-0123456789abcdef0'],
    },
  },
] as const;

interface Stored {
  metadata: { uid: string; generation: number; name: string; labels?: Record<string, string> };
  spec: unknown;
  status: unknown;
}

(isLocal ? describe : describe.skip)('upgrading from the previous release (0.1.0)', () => {
  let plane: ControlPlane;
  let workDir: string;

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    let file: string | undefined;
    if (input !== undefined) {
      file = join(workDir, `input-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(file, input);
    }
    const { stdout } = await run('kubectl', [...args, ...(file ? ['-f', file] : [])], {
      env: { ...process.env, KUBECONFIG: plane.kubeconfigPath },
      maxBuffer: 64 << 20,
    });
    return stdout;
  };
  const read = async (object: (typeof OBJECTS)[number]): Promise<Stored> =>
    JSON.parse(
      await kubectl([
        'get',
        object.resource,
        object.body.metadata.name,
        ...('namespace' in object ? ['-n', object.namespace] : []),
        '-o',
        'json',
      ]),
    ) as Stored;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'sgp-upgrade-'));
    plane = await startControlPlane();
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await plane?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, START_TIMEOUT_MS);

  test(
    'objects created under 0.1.0 survive the current config/default applied over it, unchanged and valid',
    async () => {
      // 0.1.0 as its users installed it.
      await kubectl(['apply', '-f', FIXTURE]);
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
      await kubectl(['create', 'namespace', 'payments']);
      await kubectl(['create', 'namespace', 'payments-copy']);
      const before = new Map<string, Stored>();
      for (const object of OBJECTS) {
        await kubectl(['create'], JSON.stringify(object.body));
        await kubectl([
          'patch',
          object.resource,
          object.body.metadata.name,
          ...('namespace' in object ? ['-n', object.namespace] : []),
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: object.status }),
        ]);
        before.set(object.resource, await read(object));
      }

      // The current release over it.
      const current = (await run('kubectl', ['kustomize', join(REPO, 'config/default')], { maxBuffer: 64 << 20 }))
        .stdout;
      await kubectl(['apply'], current);
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);

      for (const object of OBJECTS) {
        const previous = before.get(object.resource);
        const after = await read(object);
        expect({ kind: object.body.kind, uid: after.metadata.uid, spec: after.spec, status: after.status }).toEqual({
          kind: object.body.kind,
          uid: previous?.metadata.uid,
          spec: object.body.spec,
          status: object.status,
        });
        // Valid under the new schema: a strict create of a copy, and a real update of the object itself.
        // The copy keeps the names (CEL rules tie a BranchInterface's to its pod's and a TrunkInterface's to its
        // node's): another namespace, or for the cluster-scoped trunk another node.
        const copy = structuredClone(object.body) as {
          metadata: { name: string; namespace?: string };
          spec: Record<string, unknown>;
        };
        if (copy.metadata.namespace) copy.metadata.namespace = 'payments-copy';
        else copy.metadata.name = copy.spec.nodeName = 'ip-10-0-1-11.eu-west-1.compute.internal';
        await expect(
          kubectl(['create', '--dry-run=server', '--validate=strict'], JSON.stringify(copy)),
        ).resolves.toContain('(server dry run)');
        await kubectl([
          'label',
          object.resource,
          object.body.metadata.name,
          ...('namespace' in object ? ['-n', object.namespace] : []),
          'upgraded=true',
        ]);
        expect((await read(object)).metadata.labels).toEqual({ upgraded: 'true' });
      }

      const crds = parse(await kubectl(['get', 'crd', '-o', 'yaml'])) as {
        items: Array<{ metadata: { name: string }; status: { storedVersions: string[] } }>;
      };
      const stored = Object.fromEntries(crds.items.map((crd) => [crd.metadata.name, crd.status.storedVersions]));
      expect(stored).toEqual({
        'branchinterfaces.trunking.sgp-operator.io': ['v1alpha1'],
        'cninodes.vpcresources.k8s.aws': ['v1alpha1'],
        'securitygroupgrants.trunking.sgp-operator.io': ['v1alpha1'],
        'securitygrouppolicies.vpcresources.k8s.aws': ['v1beta1'],
        'trunkinterfaces.trunking.sgp-operator.io': ['v1alpha1'],
      });
    },
    START_TIMEOUT_MS,
  );
});
