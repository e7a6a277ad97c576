/**
 * The real operator, built in-process by the composition root against the run's control plane and an EC2
 * emulator, for integration tests. Options go through the same parser as the binary (so defaults and
 * validation are the product's), then a test may override any of them; the branch ENI cooldown can be set
 * below the 30 s minimum through `cooldownMs`, which the binary never allows.
 */
import { createEc2Api } from '../../../operator/aws/index.ts';
import { silentLogger, type Logger } from '../../../operator/observability/logger.ts';
import { createOperator, type Operator } from '../../../operator/operator.ts';
import { parseOptions, type Options } from '../../../operator/options.ts';
import type { TimerClock } from '../../../operator/framework/index.ts';
import { clusterAccess, uniqueName } from './index.ts';

/** Caches of a fresh operator sync in well under a second locally; this only bounds a broken start. */
const READY_TIMEOUT_MS = 60_000;

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

/** Starts the operator and resolves once its caches have synced (rejects if it fails before that). */
export async function startTestOperator(testOptions: TestOperatorOptions): Promise<TestOperator> {
  const { cooldownMs = 1_000, log = silentLogger, clock, ...overrides } = testOptions;
  const parsed = parseOptions(
    ['--cluster-name', overrides.clusterName ?? uniqueName('cluster'), '--region', 'us-west-2'],
    {},
  );
  if (parsed.kind !== 'options') throw new Error('unreachable: no --help given');
  const options: Readonly<Options> = Object.freeze({
    ...parsed.options,
    enableWebhooks: false,
    metricsBindAddress: undefined,
    healthProbeBindAddress: undefined,
    ...overrides,
  });
  const ec2 = createEc2Api({
    region: options.region,
    endpoint: testOptions.ec2Endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: options.ec2MaxAttempts,
  });
  const operator = await createOperator(options, {
    clusterAccess: clusterAccess(),
    ec2,
    log,
    ...(clock === undefined ? {} : { clock }),
    cooldown: { currentMs: () => cooldownMs },
    identity: uniqueName('test-operator'),
  });
  const stopping = new AbortController();
  const running = operator.start(stopping.signal);
  let failure: unknown;
  running.catch((error: unknown) => {
    failure = error;
  });
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const check = setInterval(() => {
      if (Date.now() > deadline) {
        clearInterval(check);
        stopping.abort(new Error('test operator never became ready'));
        reject(new Error(`the test operator's caches did not sync within ${READY_TIMEOUT_MS / 1000} s`));
      } else if (failure !== undefined) {
        clearInterval(check);
        reject(failure instanceof Error ? failure : new Error(String(failure)));
      } else if (operator.manager.isReady()) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  let stopped: Promise<void> | undefined;
  return {
    operator,
    options,
    stop: () => {
      stopped ??= (async () => {
        stopping.abort(new Error('test operator stopped'));
        await operator.stop();
        await running.catch(() => undefined);
      })();
      return stopped;
    },
  };
}
