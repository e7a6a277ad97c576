/**
 * Which SecurityGroupPolicy updates re-enqueue the pods of its namespace: only those that change what a pod's
 * decision reads. The matched-pod count in status changes with every pod and must not re-enqueue them all.
 */
import { describe, expect, test } from '@jest/globals';
import type { SecurityGroupPolicy } from '../../../../operator/api/types.ts';
import { isPolicyChangeForPods } from '../../../../operator/controllers/pod/index.ts';

function policy(
  options: { generation?: number; groups?: string[]; valid?: 'True' | 'False'; message?: string; pods?: number } = {},
): SecurityGroupPolicy {
  const generation = options.generation ?? 1;
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name: 'web', namespace: 'shop', generation },
    spec: { podSelector: { matchLabels: { app: 'web' } }, securityGroups: { groupIds: options.groups ?? ['sg-1'] } },
    status: {
      observedGeneration: generation,
      matchedPods: options.pods ?? 3,
      conditions: [
        {
          type: 'Valid',
          status: options.valid ?? 'True',
          reason: options.valid === 'False' ? 'GroupNotFound' : 'Valid',
          message: options.message ?? 'ok',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

describe('isPolicyChangeForPods', () => {
  test.each([
    ['only the matched-pod count changed', policy({ pods: 3 }), policy({ pods: 4 }), false],
    ['nothing changed (a resync)', policy(), policy(), false],
    ['the spec changed (new generation)', policy(), policy({ generation: 2, groups: ['sg-2'] }), true],
    ['the spec changed without a generation bump', policy(), policy({ groups: ['sg-2'] }), true],
    ['validated: now invalid', policy(), policy({ valid: 'False', message: 'sg-1 does not exist' }), true],
    [
      'still invalid, for another reason',
      policy({ valid: 'False', message: 'sg-1 does not exist' }),
      policy({ valid: 'False', message: 'sg-1 is not granted' }),
      true,
    ],
  ])('%s', (_name, before, after, expected) => {
    expect(isPolicyChangeForPods(before, after)).toBe(expected);
  });
});
