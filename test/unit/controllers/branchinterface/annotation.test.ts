import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import type { BranchInterface } from '../../../../operator/api/types.ts';
import {
  foreignVlans,
  parsePodEniAnnotation,
  podEniAnnotationValue,
} from '../../../../operator/controllers/branchinterface/annotation.ts';

const status = {
  eniId: 'eni-0abc',
  macAddress: '0e:ee:11:22:33:44',
  privateIp: '192.168.19.148',
  vlanId: 3,
  subnetCidr: '192.168.0.0/19',
  associationId: 'trunk-assoc-0123',
};

describe('podEniAnnotationValue', () => {
  test('is exactly the JSON array the VPC CNI parses, fields in EKS order', () => {
    expect(podEniAnnotationValue(status)).toBe(
      '[{"eniId":"eni-0abc","ifAddress":"0e:ee:11:22:33:44","privateIp":"192.168.19.148","ipv6Addr":"",' +
        '"vlanId":3,"subnetCidr":"192.168.0.0/19","subnetV6Cidr":"","associationID":"trunk-assoc-0123"}]',
    );
  });

  test.each<[string, Record<string, unknown>]>([
    ['no ENI yet', { ...status, eniId: undefined }],
    ['not associated yet', { ...status, associationId: undefined }],
    ['no MAC', { ...status, macAddress: undefined }],
    ['no IP of either family', { ...status, privateIp: undefined }],
  ])('is undefined when %s', (_name, partial) => {
    expect(podEniAnnotationValue(partial)).toBeUndefined();
  });

  test('carries IPv6 fields when present', () => {
    const value = podEniAnnotationValue({ ...status, ipv6Address: '2600:1f14::1', subnetV6Cidr: '2600:1f14::/64' });
    expect(JSON.parse(value ?? '[]')).toEqual([
      expect.objectContaining({ ipv6Addr: '2600:1f14::1', subnetV6Cidr: '2600:1f14::/64', vlanId: 3 }),
    ]);
  });
});

/** EKS's VPC resource controller v1.8.0 as it annotated a pod in the side-by-side benchmark (bench/eks-switch.ts). */
const EKS_ANNOTATION =
  '[{"eniId":"eni-8c39944a72b3fda25","ifAddress":"02:51:b5:e1:0c:08","privateIp":"10.0.0.18","ipv6Addr":"",' +
  '"vlanId":2,"subnetCidr":"10.0.0.0/16","subnetV6Cidr":"","associationID":"trunk-assoc-cb6c224d2f32f12da"}]';

describe('parsePodEniAnnotation', () => {
  test("reads EKS's annotation, and ours decodes to the same fields", () => {
    const eks = parsePodEniAnnotation(EKS_ANNOTATION);
    expect(eks).toEqual({
      eniId: 'eni-8c39944a72b3fda25',
      ifAddress: '02:51:b5:e1:0c:08',
      privateIp: '10.0.0.18',
      ipv6Addr: '',
      vlanId: 2,
      subnetCidr: '10.0.0.0/16',
      subnetV6Cidr: '',
      associationID: 'trunk-assoc-cb6c224d2f32f12da',
    });
    expect(
      podEniAnnotationValue({
        eniId: eks?.eniId,
        macAddress: eks?.ifAddress,
        privateIp: eks?.privateIp,
        vlanId: eks?.vlanId,
        subnetCidr: eks?.subnetCidr,
        associationId: eks?.associationID,
      }),
    ).toBe(EKS_ANNOTATION);
  });

  test('matches keys case-insensitively, as Go decodes them for the CNI', () => {
    expect(parsePodEniAnnotation(EKS_ANNOTATION.replace('"vlanId"', '"vlanID"'))?.vlanId).toBe(2);
  });

  test.each<[string, string | undefined]>([
    ['no annotation', undefined],
    ['not JSON', 'eni-1'],
    ['an empty array', '[]'],
    ['VLAN 0', EKS_ANNOTATION.replace('"vlanId":2', '"vlanId":0')],
    ['VLAN as a string', EKS_ANNOTATION.replace('"vlanId":2', '"vlanId":"2"')],
    ['no association id', EKS_ANNOTATION.replace('trunk-assoc-cb6c224d2f32f12da', '')],
    ['no IP of either family', EKS_ANNOTATION.replace('10.0.0.18', '')],
  ])('is undefined for %s', (_name, value) => {
    expect(parsePodEniAnnotation(value)).toBeUndefined();
  });
});

describe('foreignVlans', () => {
  const podWith = (name: string, annotation: string | undefined, deleting = false): LeanPod => ({
    metadata: {
      name,
      namespace: 'shop',
      uid: `${name}-uid`,
      ...(annotation ? { annotations: { 'vpc.amazonaws.com/pod-eni': annotation } } : {}),
      ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: 'node-a' },
  });
  const recordedBranch = (eniId: string): BranchInterface => ({
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: 'ours', namespace: 'shop' },
    spec: { podName: 'ours', podUid: 'ours-uid', nodeName: 'node-a', securityGroups: [] },
    status: { eniId, vlanId: 1 },
  });

  test.each<[string, LeanPod[], BranchInterface[], number[]]>([
    ['a pod EKS wired, not adopted yet', [podWith('eks', EKS_ANNOTATION)], [], [2]],
    [
      'the same pod once a BranchInterface records its ENI',
      [podWith('eks', EKS_ANNOTATION)],
      [recordedBranch('eni-8c39944a72b3fda25')],
      [],
    ],
    ['a pod without annotation', [podWith('plain', undefined)], [], []],
    ['a terminating pod', [podWith('eks', EKS_ANNOTATION, true)], [], []],
  ])('%s', (_name, pods, siblings, expected) => {
    expect([...foreignVlans(pods, siblings)]).toEqual(expected);
  });
});
