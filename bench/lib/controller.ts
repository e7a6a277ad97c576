/**
 * The controller under test in an operator benchmark: sgp-operator (in-process, bench/lib/operator.ts) or EKS's
 * VPC resource controller (child process, bench/lib/eks-controller.ts), behind one shape so a workload is written
 * once and run against either (`--controller sgp-operator|eks --eks-controller-bin PATH`).
 */
import { EKS_DEFAULTS, startEksController, waitNodesAdvertisePodEni } from './eks-controller.ts';
import { CLUSTER, startOperator } from './operator.ts';
import { waitTrunksReady } from './trunks.ts';
import type { BenchWorld } from './world.ts';

export const CONTROLLERS = ['sgp-operator', 'eks'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface ControllerUnderTest {
  name: ControllerName;
  /** Which settings it runs with, for the output. */
  settings: string;
  /** ms from start until it reported ready (caches synced; for EKS's controller, its health endpoint). */
  readyAfterMs: number;
  /** Resolves once `count` nodes have their trunk up (as each controller shows it). */
  waitNodesReady(count: number, timeoutMs: number): Promise<void>;
  /** Whether the benchmark may wait for its SecurityGroupPolicy status (only sgp-operator writes one). */
  writesPolicyStatus: boolean;
  stop(): Promise<void>;
}

export interface ControllerArgs {
  controller: ControllerName;
  eksControllerBin?: string;
}

/** The `--controller` and `--eks-controller-bin` options every side-by-side benchmark takes. */
export const CONTROLLER_OPTIONS = {
  controller: { type: 'string', default: 'sgp-operator' },
  'eks-controller-bin': { type: 'string' },
} as const;

export function controllerArgs(values: { controller?: string; 'eks-controller-bin'?: string }): ControllerArgs {
  const controller = values.controller ?? 'sgp-operator';
  if (!(CONTROLLERS as readonly string[]).includes(controller)) {
    throw new Error(`--controller must be one of ${CONTROLLERS.join(', ')}, not ${controller}`);
  }
  if (controller === 'eks' && !values['eks-controller-bin']) {
    throw new Error('--controller eks needs --eks-controller-bin (the path hack/eks-controller/build.sh prints)');
  }
  return { controller: controller as ControllerName, eksControllerBin: values['eks-controller-bin'] };
}

export async function startController(
  world: BenchWorld,
  args: ControllerArgs,
  options: { cooldownSeconds: number; eksArgs?: readonly string[]; bucketScale?: number },
): Promise<ControllerUnderTest> {
  switch (args.controller) {
    case 'sgp-operator': {
      const running = await startOperator(world, {
        cooldownMs: options.cooldownSeconds * 1000,
        bucketScale: options.bucketScale,
      });
      return {
        name: 'sgp-operator',
        settings: `option defaults (EC2 buckets shaped as AWS's, 10 % reserve; 20 pod / 30 branch / 10 node workers), branch-ENI cooldown ${options.cooldownSeconds} s`,
        readyAfterMs: running.readyAfterMs,
        waitNodesReady: (count, timeoutMs) => waitTrunksReady(world.client, count, timeoutMs),
        writesPolicyStatus: true,
        stop: () => running.stop(),
      };
    }
    case 'eks': {
      const running = await startEksController(world, {
        binary: args.eksControllerBin ?? '',
        cluster: CLUSTER,
        cooldownSeconds: options.cooldownSeconds,
        args: options.eksArgs,
      });
      return {
        name: 'eks',
        settings: `${EKS_DEFAULTS}, branch-eni-cooldown ${options.cooldownSeconds} s${options.eksArgs?.length ? ` (${options.eksArgs.join(' ')})` : ''}`,
        readyAfterMs: running.readyAfterMs,
        waitNodesReady: (count, timeoutMs) => waitNodesAdvertisePodEni(world, count, timeoutMs),
        writesPolicyStatus: false,
        stop: () => running.stop(),
      };
    }
    default: {
      const never: never = args.controller;
      throw new Error(`unknown controller ${String(never)}`);
    }
  }
}
