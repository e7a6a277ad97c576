/**
 * The CRDs as the real kube-apiserver enforces them: config/crd renders and installs, EKS manifests apply
 * unchanged, and invalid policies are rejected with a message that names the field and the rule.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

import { describe, expect, test } from '@jest/globals';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  loadAllYaml,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

import { installCrds } from '../../../hack/control-plane/crds.ts';
import { eventually, kubeConfig, testNamespace, uniqueName } from '../harness/index.ts';

const run = promisify(execFile);

/** The apiserver's rejection message for creating `body`, or a failure when it was accepted. */
async function rejection(create: () => Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await create();
  } catch (error) {
    if (error instanceof ApiException) {
      const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { message: string };
      return { code: error.code, message: body.message };
    }
    throw error;
  }
  throw new Error('the apiserver accepted an object it should have rejected');
}

function sgp(name: string, groupIds: string[]) {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name },
    spec: { podSelector: { matchLabels: { role: 'my-role' } }, securityGroups: { groupIds } },
  };
}

const createSgp = (namespace: string, body: object) => () =>
  kubeConfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'vpcresources.k8s.aws',
    version: 'v1beta1',
    namespace,
    plural: 'securitygrouppolicies',
    body,
  });

describe('CRDs on the real apiserver', () => {
  test('config/crd renders with kustomize and every CRD in it is Established', async () => {
    const { stdout } = await run('kubectl', ['kustomize', 'config/crd']);
    const crds = loadAllYaml(stdout) as V1CustomResourceDefinition[];
    const names = await installCrds(process.env.KUBECONFIG ?? '', crds);
    expect(names.sort()).toEqual([
      'branchinterfaces.trunking.sgp-operator.io',
      'cninodes.vpcresources.k8s.aws',
      'eniconfigs.crd.k8s.amazonaws.com',
      'securitygroupgrants.trunking.sgp-operator.io',
      'securitygrouppolicies.vpcresources.k8s.aws',
      'trunkinterfaces.trunking.sgp-operator.io',
    ]);
    const api = kubeConfig().makeApiClient(ApiextensionsV1Api);
    for (const name of names) {
      const crd = await api.readCustomResourceDefinition({ name });
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    }
  });

  test('an EKS-style SecurityGroupPolicy applies unchanged and reads back as written', async () => {
    const namespace = await testNamespace('sgp-valid');
    const body = sgp('my-security-group-policy', ['sg-0123456789abcdef0', 'sg-12345678']);
    await createSgp(namespace, body)();
    const read = await eventually(
      () =>
        kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
          group: 'vpcresources.k8s.aws',
          version: 'v1beta1',
          namespace,
          plural: 'securitygrouppolicies',
          name: 'my-security-group-policy',
        }) as Promise<{ spec: unknown }>,
      { waitingFor: 'the policy to be readable' },
    );
    expect(read.spec).toEqual(body.spec);
  });

  test.each([
    {
      name: 'empty groupIds',
      groupIds: [],
      message:
        'spec.securityGroups.groupIds: Invalid value: 0: spec.securityGroups.groupIds in body should have at least 1 items',
    },
    {
      name: 'a malformed id',
      groupIds: ['sg-xyz'],
      message: `spec.securityGroups.groupIds[0]: Invalid value: "sg-xyz": spec.securityGroups.groupIds[0] in body should match '^sg-([0-9a-f]{8}|[0-9a-f]{17})$'`,
    },
    {
      name: '17 groups',
      groupIds: Array.from({ length: 17 }, (_, i) => `sg-${String(i).padStart(8, '0')}`),
      message: 'spec.securityGroups.groupIds: Too many: 17: must have at most 16 items',
    },
  ])('a SecurityGroupPolicy with $name is rejected with a clear message', async ({ groupIds, message }) => {
    const namespace = await testNamespace('sgp-invalid');
    const name = uniqueName('bad');
    const result = await rejection(createSgp(namespace, sgp(name, groupIds)));
    expect(result.code).toBe(422);
    expect(result.message).toContain(`SecurityGroupPolicy.vpcresources.k8s.aws "${name}" is invalid`);
    expect(result.message).toContain(message);
  });

  const withGroups = (name: string, securityGroups: object) => ({
    ...sgp(name, []),
    spec: { podSelector: { matchLabels: { role: 'my-role' } }, securityGroups },
  });

  test('groups by name and tag selector (our extension) apply and read back as written', async () => {
    const namespace = await testNamespace('sgp-names');
    const body = withGroups('by-name', {
      groupIds: ['sg-0123456789abcdef0'],
      groupNames: ['payments-db', 'Payments Cache (prod)'],
      groupSelectors: [{ tags: { Name: 'ledger', team: 'payments' } }],
    });
    await createSgp(namespace, body)();
    const read = (await kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'vpcresources.k8s.aws',
      version: 'v1beta1',
      namespace,
      plural: 'securitygrouppolicies',
      name: 'by-name',
    })) as { spec: unknown };
    expect(read.spec).toEqual(body.spec);
  });

  test.each([
    {
      name: 'a group name that is an id',
      securityGroups: { groupNames: ['sg-0123456789abcdef0'] },
      message: 'EC2 group names never start with sg-; put security group ids in groupIds',
    },
    {
      name: 'a selector without tags',
      securityGroups: { groupSelectors: [{ tags: {} }] },
      message:
        'spec.securityGroups.groupSelectors[0].tags: Invalid value: 0: spec.securityGroups.groupSelectors[0].tags in body should have at least 1 properties',
    },
    {
      name: '17 groups across ids, names and selectors',
      securityGroups: {
        groupIds: Array.from({ length: 8 }, (_, i) => `sg-${String(i).padStart(8, '0')}`),
        groupNames: Array.from({ length: 8 }, (_, i) => `group-${i}`),
        groupSelectors: [{ tags: { Name: 'one-more' } }],
      },
      message: 'groupIds, groupNames and groupSelectors name at most 16 security groups together',
    },
  ])('a SecurityGroupPolicy with $name is rejected naming the rule', async ({ securityGroups, message }) => {
    const namespace = await testNamespace('sgp-names-invalid');
    const name = uniqueName('bad');
    const result = await rejection(createSgp(namespace, withGroups(name, securityGroups)));
    expect(result.code).toBe(422);
    expect(result.message).toContain(message);
  });

  test('a TrunkInterface not named as its node is rejected by the CEL rule', async () => {
    const name = uniqueName('node');
    const result = await rejection(() =>
      kubeConfig()
        .makeApiClient(CustomObjectsApi)
        .createClusterCustomObject({
          group: 'trunking.sgp-operator.io',
          version: 'v1alpha1',
          plural: 'trunkinterfaces',
          dryRun: 'All',
          body: {
            apiVersion: 'trunking.sgp-operator.io/v1alpha1',
            kind: 'TrunkInterface',
            metadata: { name },
            spec: { nodeName: `${name}-other`, instanceId: 'i-0123456789abcdef0', instanceType: 'm5.large' },
          },
        }),
    );
    expect(result.code).toBe(422);
    expect(result.message).toContain(
      'spec.nodeName: Invalid value: a TrunkInterface is named as its node (metadata.name must equal spec.nodeName)',
    );
  });

  // Dry runs only: a stored grant would restrict the policies of every other test sharing this apiserver.
  const createGrant = (body: object) => () =>
    kubeConfig().makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: 'trunking.sgp-operator.io',
      version: 'v1alpha1',
      plural: 'securitygroupgrants',
      body,
      dryRun: 'All',
    });

  test('the sample SecurityGroupGrant applies; one without namespaces or groups is rejected naming the fields', async () => {
    const [sample] = loadAllYaml(readFileSync('config/samples/trunking_v1alpha1_securitygroupgrant.yaml', 'utf8'));
    await createGrant(sample as object)();
    const empty = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'SecurityGroupGrant',
      metadata: { name: uniqueName('grant') },
      spec: { namespaces: {}, securityGroups: { groupIds: ['sg-xyz'] } },
    };
    const { code, message } = await rejection(createGrant(empty));
    expect(code).toBe(422);
    expect(message).toContain('spec.namespaces: Invalid value');
    expect(message).toContain('set spec.namespaces.names, spec.namespaces.selector, or both');
    expect(message).toContain('spec.securityGroups.groupIds[0]: Invalid value: "sg-xyz"');
  });

  test("a CNINode as EKS's v1.8 controller writes it keeps every field; managedBy cannot change or go", async () => {
    const api = kubeConfig().makeApiClient(CustomObjectsApi);
    const name = uniqueName('cninode');
    const kind = { group: 'vpcresources.k8s.aws', version: 'v1alpha1', plural: 'cninodes', name };
    await api.createClusterCustomObject({
      ...kind,
      body: {
        apiVersion: 'vpcresources.k8s.aws/v1alpha1',
        kind: 'CNINode',
        metadata: { name },
        spec: {
          features: [{ name: 'SecurityGroupsForPods' }, { name: 'CustomNetworking', value: 'us-west-2a' }],
          managedBy: 'vpc-resource-controller',
        },
      },
    });
    try {
      const status = {
        nodeNetworkState: {
          instanceID: 'i-0123456789abcdef0',
          instanceType: 'm5.large',
          subnetID: 'subnet-0123456789abcdef0',
          subnetCIDRBlock: '100.64.0.0/19',
          subnetV6CIDRBlock: '2600:1f14:abc:1201::/64',
          primaryNetworkInterfaceSecurityGroups: ['sg-0123456789abcdef0'],
          connectionTracking: { tcpEstablishedTimeout: 3600, udpStreamTimeout: 120, udpTimeout: 45 },
        },
        trunkInterface: {
          id: 'eni-0123456789abcdef0',
          macAddress: '02:42:ac:11:00:02',
          deviceIndex: 2,
          subnetID: 'subnet-0123456789abcdef0',
          branches: [
            {
              id: 'eni-0fedcba9876543210',
              vlanID: 1,
              associationID: 'trunk-assoc-0123456789abcdef0',
              ipv4CIDRs: ['100.64.1.10/32'],
              ipv6CIDRs: ['2600:1f14:abc:1201::10/128'],
            },
          ],
        },
        // A field another controller version writes (its restart checkpoint) is kept, not pruned.
        reinitCheckpoint: { snapshotVersion: 'v1' },
      };
      await api.patchClusterCustomObjectStatus(
        { ...kind, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const read = (await api.getClusterCustomObject(kind)) as { status: unknown };
      expect(read.status).toEqual(status);

      const patchSpec = (spec: object) => () =>
        api.patchClusterCustomObject(
          { ...kind, body: { spec } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      expect((await rejection(patchSpec({ managedBy: 'eks-auto-mode' }))).message).toContain(
        'managedBy is immutable once set',
      );
      expect((await rejection(patchSpec({ managedBy: null }))).message).toContain(
        'managedBy cannot be removed once set',
      );
    } finally {
      await api.deleteClusterCustomObject(kind);
    }
  });
});
