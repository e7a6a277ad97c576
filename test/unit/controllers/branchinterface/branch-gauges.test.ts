/**
 * sgp_branch_pods_waiting_for_capacity follows the BranchInterface cache: a branch counts while its Ready
 * condition says NodeAtCapacity, and stops counting when that changes or the branch goes.
 */
import { describe, expect, test } from '@jest/globals';
import type { BranchInterface } from '../../../../operator/api/types.ts';
import {
  BranchGauges,
  NODE_AT_CAPACITY_REASON,
} from '../../../../operator/controllers/branchinterface/branch-gauges.ts';
import type { Informer, WatchEvent } from '../../../../operator/framework/types.ts';
import { branchPodsWaitingForCapacity } from '../../../../operator/observability/metrics.ts';

function branch(uid: string, readyReason?: string): BranchInterface {
  return {
    metadata: { name: uid, namespace: 'shop', uid },
    spec: { nodeName: 'node-1' },
    status: {
      phase: 'Pending',
      ...(readyReason ? { conditions: [{ type: 'Ready', status: 'False', reason: readyReason, message: '' }] } : {}),
    },
  } as unknown as BranchInterface;
}

async function waiting(): Promise<number> {
  return (await branchPodsWaitingForCapacity.get()).values[0]?.value ?? NaN;
}

describe('BranchGauges: pods waiting for capacity', () => {
  test('counts branches whose Ready reason is NodeAtCapacity, through updates and deletes', async () => {
    let emit: (event: WatchEvent<BranchInterface>) => void = () => undefined;
    new BranchGauges().observe({
      onEvent: (handler: (event: WatchEvent<BranchInterface>) => void) => {
        emit = handler;
      },
    } as unknown as Informer<BranchInterface>);
    const [a, b, c] = [branch('a', NODE_AT_CAPACITY_REASON), branch('b', NODE_AT_CAPACITY_REASON), branch('c')];
    for (const object of [a, b, c]) emit({ type: 'add', object });
    expect(await waiting()).toBe(2);
    emit({ type: 'update', object: branch('a', 'Creating'), oldObject: a });
    expect(await waiting()).toBe(1);
    emit({ type: 'update', object: branch('c', NODE_AT_CAPACITY_REASON), oldObject: c });
    emit({ type: 'delete', object: b });
    expect(await waiting()).toBe(1);
  });
});
