/**
 * The real operator for a benchmark: built in-process through the composition root (createOperator) with the
 * product's option defaults, pointed at the benchmark world's control plane and EC2 emulator. Webhooks are
 * off (pods are created already carrying the pod-eni request the webhook would add).
 */
import type { Operator } from '../../operator/operator.ts';
import type { Options } from '../../operator/options.ts';
import { startOperatorOn } from '../../test/kit/world.ts';
import type { BenchWorld } from './world.ts';

export const CLUSTER = 'bench';

export interface RunningOperator {
  operator: Operator;
  /** ms from createOperator until the caches synced. */
  readyAfterMs: number;
  stop(): Promise<void>;
}

export function startOperator(
  world: BenchWorld,
  overrides: Partial<Omit<Options, 'ec2RateLimits'>> & { cooldownMs?: number; bucketScale?: number } = {},
): Promise<RunningOperator> {
  const { cooldownMs = 30_000, bucketScale = 1, ...optionOverrides } = overrides;
  return startOperatorOn(
    { kubeConfig: world.kubeConfig, vpcId: world.vpcId, endpoint: world.emulator.endpoint },
    { options: { clusterName: CLUSTER, ...optionOverrides }, cooldownMs, ec2: { buckets: { scale: bucketScale } } },
  );
}
