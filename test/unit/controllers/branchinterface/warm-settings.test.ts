/**
 * The live warm-branch settings: the flags' values until the ConfigMap kube-system/amazon-vpc-cni sets its keys,
 * which are bounded as the flags are (their option definitions), a bad value keeping the flag's.
 */
import { describe, expect, test } from '@jest/globals';
import { ConfigMapWarmSettings } from '../../../../operator/controllers/branchinterface/index.ts';
import type { KubeObject, Reader } from '../../../../operator/framework/index.ts';
import { optionDefinition } from '../../../../operator/options/definitions.ts';

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

const FLAGS = { limitPerNode: 4, maxIdleMs: 600_000 };

describe('ConfigMapWarmSettings', () => {
  test('the flags, then the ConfigMap’s keys, then the flags again once the keys go', () => {
    let data: Record<string, string> | undefined;
    const source = new ConfigMapWarmSettings(
      readerOf(() => data),
      FLAGS,
    );
    const seen = [source.current()];
    data = { 'warm-branch-eni-limit': '0', 'warm-branch-eni-max-idle': '30' };
    seen.push(source.current());
    data = {};
    seen.push(source.current());
    expect(seen).toEqual([FLAGS, { limitPerNode: 0, maxIdleMs: 30_000 }, FLAGS]);
  });

  test('values outside the flags’ bounds, or not whole numbers, keep the flags’ values', () => {
    const limit = optionDefinition('warm-branch-enis-per-node');
    const idle = optionDefinition('warm-branch-max-idle-seconds');
    let data: Record<string, string> = {};
    const source = new ConfigMapWarmSettings(
      readerOf(() => data),
      FLAGS,
    );
    const at = (limitValue: string, idleValue: string) => {
      data = { 'warm-branch-eni-limit': limitValue, 'warm-branch-eni-max-idle': idleValue };
      return source.current();
    };
    expect(at(String(limit.max), String(idle.max))).toEqual({
      limitPerNode: limit.max,
      maxIdleMs: (idle.max ?? 0) * 1000,
    });
    expect(at(String((limit.max ?? 0) + 1), String((idle.min ?? 0) - 1))).toEqual(FLAGS);
    expect(at('-1', String((idle.max ?? 0) + 1))).toEqual(FLAGS);
    expect(at('2.5', 'ten')).toEqual(FLAGS);
    expect(at(' 3 ', '')).toEqual({ limitPerNode: 3, maxIdleMs: FLAGS.maxIdleMs });
  });
});
