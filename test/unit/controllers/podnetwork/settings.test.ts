import { describe, expect, test } from '@jest/globals';
import { defaultOptions } from '../../../../operator/options.ts';
import {
  DEFAULT_POD_NETWORK,
  needsIpv6,
  resolvePodNetwork,
  vpcCniEnvironment,
  type PodNetworkOptions,
  type VpcCniEnvironment,
} from '../../../../operator/controllers/podnetwork/index.ts';

const AUTO: PodNetworkOptions = {
  ipFamily: 'auto',
  dualStackBranchEnis: false,
  customNetworking: 'auto',
  eniConfigLabelKey: undefined,
  eniConfigAnnotationKey: undefined,
};
const cni = (env: Record<string, string>): VpcCniEnvironment => ({ readable: true, env: new Map(Object.entries(env)) });
const UNREADABLE: VpcCniEnvironment = { readable: false, why: 'the operator may not read it (HTTP 403)' };
const DEFAULT_SELECTION = { labelKey: 'k8s.amazonaws.com/eniConfig', annotationKey: 'k8s.amazonaws.com/eniConfig' };

describe('resolvePodNetwork', () => {
  test("the option defaults, with aws-node unreadable, are DEFAULT_POD_NETWORK (EKS's own behaviour)", () => {
    const options = defaultOptions({ clusterName: 'c', region: 'us-west-2' });
    expect(resolvePodNetwork(options, UNREADABLE, true).network).toEqual(DEFAULT_POD_NETWORK);
  });

  test.each<[string, Partial<PodNetworkOptions>, VpcCniEnvironment, boolean, object]>([
    [
      'auto, aws-node unreadable: IPv4, custom networking only for nodes the CNI marks (as EKS)',
      {},
      UNREADABLE,
      true,
      { ipFamily: 'ipv4', isDualStack: false, customNetworking: { mode: 'marked-nodes' } },
    ],
    [
      'auto, ENABLE_IPv6=true: IPv6, and custom networking off (the CNI runs it for IPv4 only)',
      {},
      cni({ ENABLE_IPv6: 'true', ENABLE_IPv4: 'false', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }),
      true,
      { ipFamily: 'ipv6', isDualStack: false, customNetworking: { mode: 'off' } },
    ],
    [
      'auto, custom networking on in aws-node, its label key taken over',
      {},
      cni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone' }),
      true,
      {
        ipFamily: 'ipv4',
        customNetworking: {
          mode: 'on',
          selection: { labelKey: 'topology.kubernetes.io/zone', annotationKey: 'k8s.amazonaws.com/eniConfig' },
        },
      },
    ],
    [
      'an explicit label key beats aws-node',
      { customNetworking: 'enabled', eniConfigLabelKey: 'team/eni' },
      cni({ ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone' }),
      true,
      { customNetworking: { mode: 'on', selection: { ...DEFAULT_SELECTION, labelKey: 'team/eni' } } },
    ],
    [
      'enabled without aws-node: the CNI default keys',
      { customNetworking: 'enabled' },
      UNREADABLE,
      true,
      { customNetworking: { mode: 'on', selection: DEFAULT_SELECTION } },
    ],
    [
      'disabled: off even when aws-node says on',
      { customNetworking: 'disabled' },
      cni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }),
      true,
      { customNetworking: { mode: 'off' } },
    ],
    ['no ENIConfig CRD: off', {}, UNREADABLE, false, { customNetworking: { mode: 'off' } }],
    [
      'dual-stack on an IPv4 cluster',
      { ipFamily: 'ipv4', dualStackBranchEnis: true },
      UNREADABLE,
      true,
      { ipFamily: 'ipv4', isDualStack: true },
    ],
    [
      'dual-stack is moot on an IPv6 cluster',
      { dualStackBranchEnis: true },
      cni({ ENABLE_IPv6: 'true' }),
      true,
      { ipFamily: 'ipv6', isDualStack: false },
    ],
    [
      'an explicit family beats aws-node',
      { ipFamily: 'ipv4' },
      cni({ ENABLE_IPv6: 'true' }),
      true,
      { ipFamily: 'ipv4' },
    ],
  ])('%s', (_name, options, env, hasCrd, expected) => {
    const resolved = resolvePodNetwork({ ...AUTO, ...options }, env, hasCrd);
    expect(resolved.network).toMatchObject(expected);
    expect(resolved.problem).toBeUndefined();
  });

  test('every choice taken from aws-node, or defaulted, says where it came from', () => {
    expect(resolvePodNetwork(AUTO, UNREADABLE, true).notes).toEqual([
      'ip family ipv4: kube-system/aws-node could not be read (the operator may not read it (HTTP 403)); set --ip-family if the cluster is IPv6',
      'custom networking only for nodes the VPC CNI marks (CNINode feature CustomNetworking): the operator may not read it (HTTP 403)',
    ]);
  });

  test('--custom-networking=enabled without the ENIConfig CRD is a problem that stops the start', () => {
    const resolved = resolvePodNetwork({ ...AUTO, customNetworking: 'enabled' }, UNREADABLE, false);
    expect(resolved.problem).toContain('the API server does not serve ENIConfigs');
  });

  test.each([
    [{ ipFamily: 'ipv4', isDualStack: false }, false],
    [{ ipFamily: 'ipv4', isDualStack: true }, true],
    [{ ipFamily: 'ipv6', isDualStack: false }, true],
  ] as const)('needsIpv6(%j) is %s', (network, expected) => {
    expect(needsIpv6({ ...network, customNetworking: { mode: 'off' } })).toBe(expected);
  });
});

describe('vpcCniEnvironment', () => {
  test("reads the aws-node container's literal env; values from elsewhere are left out", () => {
    const env = vpcCniEnvironment({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'aws-node', namespace: 'kube-system' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'aws-eks-nodeagent', env: [{ name: 'ENABLE_IPv6', value: 'false' }] },
              {
                name: 'aws-node',
                env: [
                  { name: 'ENABLE_IPv6', value: 'true' },
                  { name: 'ENABLE_POD_ENI', value: 'true' },
                  { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                ],
              },
            ],
          },
        },
      },
    } as Parameters<typeof vpcCniEnvironment>[0]);
    expect(env).toEqual({
      readable: true,
      env: new Map([
        ['ENABLE_IPv6', 'true'],
        ['ENABLE_POD_ENI', 'true'],
      ]),
    });
    expect(vpcCniEnvironment(undefined)).toEqual({ readable: false, why: 'it does not exist' });
  });
});
