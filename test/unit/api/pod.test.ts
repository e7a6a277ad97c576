import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../operator/api/pod.ts';
import {
  branchInterfaceInformerOptions,
  isPodFinished,
  podInformerOptions,
  requestsPodEni,
  serviceAccountNameOf,
  toLeanPod,
} from '../../../operator/api/pod.ts';

/** A full pod as the API server sends it (only the fields the projection must drop or keep). */
const fullPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-0',
    namespace: 'catalog',
    uid: 'uid-1',
    resourceVersion: '42',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { app: 'web' },
    annotations: {
      'vpc.amazonaws.com/pod-eni': '[]',
      'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"blob"}',
    },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'ss-1' }],
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: {
    nodeName: 'node-a',
    serviceAccountName: 'catalog-sa',
    containers: [
      {
        name: 'app',
        image: 'nginx',
        env: [{ name: 'A', value: 'b' }],
        resources: {
          requests: { cpu: '100m', 'vpc.amazonaws.com/pod-eni': '1' },
          limits: { memory: '1Gi', 'vpc.amazonaws.com/pod-eni': '1' },
        },
      },
      { name: 'sidecar', image: 'envoy', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } },
    ],
    volumes: [{ name: 'data' }],
  },
  status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready' }] },
} as unknown as LeanPod;

describe('toLeanPod', () => {
  test('keeps exactly what the operator reads', () => {
    expect(toLeanPod(fullPod)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-0',
        namespace: 'catalog',
        uid: 'uid-1',
        resourceVersion: '42',
        creationTimestamp: '2026-01-01T00:00:00Z',
        deletionTimestamp: undefined,
        labels: { app: 'web' },
        annotations: { 'vpc.amazonaws.com/pod-eni': '[]' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'ss-1' }],
      },
      spec: {
        nodeName: 'node-a',
        serviceAccountName: 'catalog-sa',
        hostNetwork: undefined,
        containers: [
          {
            name: 'app',
            resources: { requests: { 'vpc.amazonaws.com/pod-eni': '1' }, limits: { 'vpc.amazonaws.com/pod-eni': '1' } },
          },
        ],
      },
      status: { phase: 'Running' },
    });
  });

  test('a pod without annotations or vpc resources projects to empty', () => {
    const lean = toLeanPod({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } });
    expect(lean.metadata.annotations).toBeUndefined();
    expect(lean.spec?.containers).toEqual([{ name: 'c' }]);
    expect(requestsPodEni(lean)).toBe(false);
  });
});

describe('requestsPodEni', () => {
  const withResources = (resources: object): LeanPod =>
    ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', resources }] } }) as LeanPod;
  test.each<[string, LeanPod, boolean]>([
    ['limits', withResources({ limits: { 'vpc.amazonaws.com/pod-eni': '1' } }), true],
    ['requests', withResources({ requests: { 'vpc.amazonaws.com/pod-eni': '1' } }), true],
    ['zero', withResources({ limits: { 'vpc.amazonaws.com/pod-eni': '0' } }), false],
    ['other vpc resource', withResources({ limits: { 'vpc.amazonaws.com/PrivateIPv4Address': '1' } }), false],
    ['no containers', { metadata: { name: 'p' } }, false],
    [
      'only a later container asks (the CNI reads containers[0])',
      toLeanPod({
        ...fullPod,
        spec: {
          containers: [{ name: 'a' }, { name: 'b', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } }],
        },
      }),
      false,
    ],
  ])('%s', (_name, pod, expected) => {
    expect(requestsPodEni(pod)).toBe(expected);
  });
});

describe('pod helpers', () => {
  test('finished phases', () => {
    expect(
      ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((phase) =>
        isPodFinished({ metadata: { name: 'p' }, status: { phase: phase as 'Running' } }),
      ),
    ).toEqual([false, false, true, true, false]);
  });
  test('service account defaults to "default"', () => {
    expect(serviceAccountNameOf({ metadata: { name: 'p' }, spec: {} })).toBe('default');
    expect(serviceAccountNameOf({ metadata: { name: 'p' }, spec: { serviceAccountName: 'sa' } })).toBe('sa');
  });
});

describe('informer options', () => {
  test('pods are indexed by node name, unscheduled pods nowhere', () => {
    const index = podInformerOptions.indexers?.nodeName;
    expect(index?.(toLeanPod(fullPod))).toEqual(['node-a']);
    expect(index?.({ metadata: { name: 'p' }, spec: {} })).toEqual([]);
  });
  test('branches are indexed by node and by namespace/pod name', () => {
    const branch = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1' as const,
      kind: 'BranchInterface' as const,
      metadata: { name: 'web-0-abcdef12', namespace: 'catalog' },
      spec: { podName: 'web-0', podUid: 'u', nodeName: 'node-a', securityGroups: [] },
    };
    expect(branchInterfaceInformerOptions.indexers?.nodeName?.(branch)).toEqual(['node-a']);
    expect(branchInterfaceInformerOptions.indexers?.pod?.(branch)).toEqual(['catalog/web-0']);
  });
});
