/**
 * The install manifests against the real apiserver (server-side dry run: nothing is left behind, and the
 * cluster-scoped samples cannot disturb operators other tests run): config/samples and config/default.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, test } from '@jest/globals';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';

import { kubeConfig, testNamespace } from '../harness/index.ts';

const run = promisify(execFile);

function kubectl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('kubectl', args, { env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG } });
}

/** `kind/name created (server dry run)` lines, sorted. */
const dryRunResults = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l.endsWith('(server dry run)'))
    .sort();

describe('config/ against the real apiserver', () => {
  test('every sample in config/samples passes server-side validation', async () => {
    const namespace = await testNamespace('samples');
    const { stdout } = await kubectl(['apply', '-k', 'config/samples', '-n', namespace, '--dry-run=server']);
    expect(dryRunResults(stdout)).toEqual([
      'branchinterface.trunking.sgp-operator.io/payments-7d9c5b6f4-x2x8q created (server dry run)',
      'cninode.vpcresources.k8s.aws/ip-192-168-0-10.us-west-2.compute.internal created (server dry run)',
      'securitygroupgrant.trunking.sgp-operator.io/payments-data created (server dry run)',
      'securitygrouppolicy.vpcresources.k8s.aws/my-security-group-policy created (server dry run)',
      'securitygrouppolicy.vpcresources.k8s.aws/payments-database-access created (server dry run)',
      'trunkinterface.trunking.sgp-operator.io/ip-192-168-0-10.us-west-2.compute.internal created (server dry run)',
    ]);
  });

  test('kubectl apply -k config/default --dry-run=server succeeds', async () => {
    // A server-side dry run of namespaced objects needs their namespace to exist.
    try {
      await kubeConfig()
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: 'sgp-system' } } });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
    const { stdout } = await kubectl(['apply', '-k', 'config/default', '--dry-run=server']);
    const kinds = dryRunResults(stdout).map((l) => l.split('/')[0]);
    expect(new Set(kinds)).toEqual(
      new Set([
        'namespace',
        'customresourcedefinition.apiextensions.k8s.io',
        'serviceaccount',
        'role.rbac.authorization.k8s.io',
        'clusterrole.rbac.authorization.k8s.io',
        'rolebinding.rbac.authorization.k8s.io',
        'clusterrolebinding.rbac.authorization.k8s.io',
        'configmap',
        'service',
        'deployment.apps',
        'poddisruptionbudget.policy',
        'networkpolicy.networking.k8s.io',
        'mutatingwebhookconfiguration.admissionregistration.k8s.io',
        'validatingwebhookconfiguration.admissionregistration.k8s.io',
        'validatingadmissionpolicy.admissionregistration.k8s.io',
        'validatingadmissionpolicybinding.admissionregistration.k8s.io',
      ]),
    );
    expect(stdout).toContain('mutatingwebhookconfiguration.admissionregistration.k8s.io/sgp-operator-mutating-webhook');
    expect(stdout).toContain(
      'validatingwebhookconfiguration.admissionregistration.k8s.io/sgp-operator-validating-webhook',
    );
  });
});
