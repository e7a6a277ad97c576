/**
 * The real operator, built in-process by the composition root against the run's control plane and an EC2
 * emulator, for integration tests. Options go through the same parser as the binary (so defaults and
 * validation are the product's), then a test may override any of them; the branch ENI cooldown can be set
 * below the 30 s minimum through `cooldownMs`, which the binary never allows.
 */
import type { Logger } from '../../../operator/observability/logger.ts';
import type { Operator } from '../../../operator/operator.ts';
import type { Options } from '../../../operator/options.ts';
import type { TimerClock } from '../../../operator/framework/index.ts';
import { startOperatorOn } from '../../kit/world.ts';
import { kubeConfig, uniqueName } from './index.ts';

export interface TestOperatorOptions extends Partial<Omit<Options, 'ec2RateLimits'>> {
  /** The emulator's endpoint, e.g. `emulator.endpoint`. */
  ec2Endpoint: string;
  vpcId: string;
  /** Default: a unique name, so sweeps of concurrent tests never see each other's ENIs. */
  clusterName?: string;
  /** Live branch ENI cooldown; default 1 s. */
  cooldownMs?: number;
  log?: Logger;
  clock?: TimerClock;
}

export interface TestOperator {
  readonly operator: Operator;
  readonly options: Readonly<Options>;
  /** Stops the operator (releases its Lease, drains queues); idempotent. */
  stop(): Promise<void>;
}

/** Starts the operator on the run's control plane and resolves once its caches have synced (test/kit/world.ts). */
export function startTestOperator(testOptions: TestOperatorOptions): Promise<TestOperator> {
  const { cooldownMs, log, clock, ec2Endpoint, vpcId, ...overrides } = testOptions;
  return startOperatorOn(
    { kubeConfig: kubeConfig(), vpcId, endpoint: ec2Endpoint },
    {
      options: { clusterName: uniqueName('cluster'), ...overrides },
      ...(cooldownMs === undefined ? {} : { cooldownMs }),
      ...(log === undefined ? {} : { log }),
      ...(clock === undefined ? {} : { clock }),
    },
  );
}
