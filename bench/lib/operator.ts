/**
 * The real operator for a benchmark: built in-process through the composition root (createOperator) with the
 * product's option defaults, pointed at the benchmark world's control plane and EC2 emulator. Webhooks are
 * off (pods are created already carrying the pod-eni request the webhook would add).
 */
import type { WarmSettingsSource } from '../../operator/controllers/branchinterface/index.ts';
import type { Operator } from '../../operator/operator.ts';
import type { Options } from '../../operator/options/options.ts';
import { startOperatorOn } from '../../test/kit/world.ts';
import type { BenchWorld } from './world.ts';

export const CLUSTER = 'bench';

export interface RunningOperator {
  operator: Operator;
  /** ms from createOperator until the caches synced. */
  readyAfterMs: number;
  stop(): Promise<void>;
}

export type OperatorOverrides = Partial<Omit<Options, 'ec2RateLimits'>> & {
  cooldownMs?: number;
  bucketScale?: number;
  /** Live warm-branch limits the benchmark switches between phases (default: the options'). */
  warmSettings?: WarmSettingsSource;
};

export function startOperator(world: BenchWorld, overrides: OperatorOverrides = {}): Promise<RunningOperator> {
  const { cooldownMs = 30_000, bucketScale = 1, warmSettings, ...optionOverrides } = overrides;
  return startOperatorOn(
    { clusterAccess: world.clusterAccess, vpcId: world.vpcId, endpoint: world.emulator.endpoint },
    {
      options: { clusterName: CLUSTER, ...optionOverrides },
      cooldownMs,
      ...(warmSettings === undefined ? {} : { warmSettings }),
      ec2: { buckets: { scale: bucketScale } },
    },
  );
}
