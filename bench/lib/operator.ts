/**
 * The real operator for a benchmark: built in-process through the composition root (createOperator) with the
 * product's option defaults, pointed at the benchmark world's control plane and EC2 emulator. Webhooks are
 * off (pods are created already carrying the pod-eni request the webhook would add).
 */
import { createEc2Api } from '../../operator/aws/index.ts';
import { silentLogger } from '../../operator/observability/logger.ts';
import type { WarmSettingsSource } from '../../operator/controllers/branchinterface/index.ts';
import { createOperator, type Operator } from '../../operator/operator.ts';
import { parseOptions, type Options } from '../../operator/options.ts';
import { REGION, type BenchWorld } from './world.ts';

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

export async function startOperator(world: BenchWorld, overrides: OperatorOverrides = {}): Promise<RunningOperator> {
  const { cooldownMs = 30_000, bucketScale = 1, warmSettings, ...optionOverrides } = overrides;
  const parsed = parseOptions(['--cluster-name', CLUSTER, '--region', REGION], {});
  if (parsed.kind !== 'options') throw new Error('unreachable: no --help given');
  const options: Readonly<Options> = Object.freeze({
    ...parsed.options,
    vpcId: world.vpcId,
    ec2Endpoint: world.emulator.endpoint,
    enableWebhooks: false,
    metricsBindAddress: undefined,
    healthProbeBindAddress: undefined,
    ...optionOverrides,
  });
  const ec2 = createEc2Api({
    region: REGION,
    endpoint: world.emulator.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: options.ec2MaxAttempts,
    buckets: { scale: bucketScale },
  });
  const started = performance.now();
  const operator = await createOperator(options, {
    kubeConfig: world.kubeConfig,
    ec2,
    log: silentLogger,
    cooldown: { currentMs: () => cooldownMs },
    ...(warmSettings ? { warmSettings } : {}),
  });
  const stopping = new AbortController();
  const running = operator.start(stopping.signal);
  let failure: unknown;
  running.catch((error: unknown) => {
    failure = error;
  });
  while (!operator.manager.isReady()) {
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const readyAfterMs = performance.now() - started;
  let stopped: Promise<void> | undefined;
  return {
    operator,
    readyAfterMs,
    stop: () => {
      stopped ??= (async () => {
        stopping.abort(new Error('benchmark operator stopped'));
        await operator.stop();
        await running.catch(() => undefined);
        ec2.destroy();
      })();
      return stopped;
    },
  };
}
