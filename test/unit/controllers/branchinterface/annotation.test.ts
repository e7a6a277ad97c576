import { describe, expect, test } from '@jest/globals';
import { podEniAnnotationValue } from '../../../../operator/controllers/branchinterface/annotation.ts';

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
