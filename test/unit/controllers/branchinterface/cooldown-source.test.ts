import { describe, expect, test } from '@jest/globals';
import { ConfigMapCooldown } from '../../../../operator/controllers/branchinterface/index.ts';
import type { KubeObject, Reader } from '../../../../operator/framework/index.ts';

function readerOf(
  data: () => Record<string, string> | undefined,
): Reader<KubeObject & { data?: Record<string, string> }> {
  return {
    get: (key) =>
      key === 'kube-system/amazon-vpc-cni' && data()
        ? { metadata: { name: 'amazon-vpc-cni' }, data: data() }
        : undefined,
    list: () => [],
    byIndex: () => [],
    hasSynced: () => true,
  };
}

describe('ConfigMapCooldown', () => {
  test('default, configured, raised to the minimum, kept when the key goes or breaks', () => {
    let data: Record<string, string> | undefined;
    const source = new ConfigMapCooldown(
      readerOf(() => data),
      { defaultMs: 60_000, minimumMs: 30_000 },
    );
    const seen: number[] = [];
    seen.push(source.currentMs());
    data = { 'branch-eni-cooldown': '90' };
    seen.push(source.currentMs());
    data = { 'branch-eni-cooldown': '5' };
    seen.push(source.currentMs());
    data = { 'branch-eni-cooldown': '120' };
    seen.push(source.currentMs());
    data = {};
    seen.push(source.currentMs());
    data = { 'branch-eni-cooldown': 'soon' };
    seen.push(source.currentMs());
    expect(seen).toEqual([60_000, 90_000, 30_000, 120_000, 120_000, 120_000]);
  });

  test('a test-only minimum allows sub-second cooldowns', () => {
    const source = new ConfigMapCooldown(
      readerOf(() => ({ 'branch-eni-cooldown': '0.2' })),
      { defaultMs: 1_000, minimumMs: 100 },
    );
    expect(source.currentMs()).toBe(200);
  });
});
