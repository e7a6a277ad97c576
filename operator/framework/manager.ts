/**
 * The manager: owns the shared informers, the controllers and other runnables, and leader election.
 *
 * Order at start (controller-runtime's): informers and non-leader runnables (webhooks, metrics, health)
 * start at once on every replica; then the caches sync; then, if leader election is on, the Lease is
 * acquired; only then do controllers and leader-only runnables start. NB: informers start before
 * leadership so a standby replica has warm caches and can take over within the lease duration.
 *
 * On losing leadership the manager stops every controller at once and `start()` rejects with
 * LeaderElectionLostError: the process must exit (the run helper does), because in-memory state
 * (queues, remembered ENIs) of a former leader is not to be trusted by a new term.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { OperatorError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { leaderElectionIsLeader } from '../observability/metrics.ts';
import type { TimerClock } from './clock.ts';
import { systemClock } from './clock.ts';
import { createKubeTransport } from './transport.ts';
import type { KubeTransport } from './transport.ts';
import { ControllerRunner } from './controller.ts';
import type { ControllerRunnerOptions } from './controller.ts';
import { SharedInformer } from './informer.ts';
import { LeaderElector } from './leader-election.ts';
import type { LeaderElectionOptions } from './leader-election.ts';
import type { Informer, InformerOptions, KubeClient, KubeObject, Manager, Runnable } from './types.ts';

export class LeaderElectionLostError extends OperatorError {}

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  client: KubeClient;
  log: Logger;
  leaderElection?: LeaderElectionOptions & { enabled: boolean };
  clock?: TimerClock;
  /** Defaults to a transport over `kubeConfig`. */
  transport?: KubeTransport;
}

export interface FrameworkManager extends Manager {
  controller(options: ControllerRunnerOptions): ControllerRunner;
  /** Aborts everything started by `start`, releases the Lease, and resolves when all has stopped. */
  stop(): Promise<void>;
  /** Test hook: act like a killed process (stop renewing, do not release) — see LeaderElector.crash. */
  crash(): void;
  /** Liveness: false once the manager failed (lost leadership, a runnable crashed). */
  isHealthy(): boolean;
}

export function createManager(options: ManagerOptions): FrameworkManager {
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ component: 'manager' });
  const transport = options.transport ?? createKubeTransport(options.kubeConfig);
  const informers = new Map<string, SharedInformer<KubeObject>>();
  const controllers = new Map<string, ControllerRunner>();
  const runnables: Runnable[] = [];
  const elector = options.leaderElection?.enabled
    ? new LeaderElector(options.leaderElection, { client: options.client, clock, log: options.log })
    : undefined;
  const internal = new AbortController();
  let running: Promise<void> | undefined;
  let started = false;
  let failed = false;
  let leading = false;
  let leaderSignal: AbortSignal | undefined;
  const tasks: Promise<unknown>[] = [];

  const runRunnable = (runnable: Runnable, signal: AbortSignal) => {
    const task = runnable.start(signal).catch((error: unknown) => {
      if (signal.aborted) return;
      failed = true;
      log.error('runnable failed; stopping the manager', { runnable: runnable.name, error });
      internal.abort(error);
    });
    tasks.push(task);
  };

  const startLeaderWork = (signal: AbortSignal) => {
    leading = true;
    leaderSignal = signal;
    for (const controller of controllers.values()) runRunnable(controllerRunnable(controller), signal);
    for (const runnable of runnables) if (runnable.needLeaderElection) runRunnable(runnable, signal);
  };

  const manager: FrameworkManager = {
    informer<T extends KubeObject>(informerOptions: InformerOptions<T>): Informer<T> {
      const { kind } = informerOptions;
      const id = [
        kind.group,
        kind.version,
        kind.plural,
        informerOptions.namespace ?? '',
        informerOptions.labelSelector ?? '',
        informerOptions.fieldSelector ?? '',
      ].join('|');
      const existing = informers.get(id) as SharedInformer<T> | undefined;
      if (existing) {
        if (informerOptions.transform && existing.transformFn !== informerOptions.transform) {
          throw new RangeError(
            `informer for ${kind.kind} (same namespace and selectors) was already created with a different transform; share one transform function`,
          );
        }
        for (const [name, fn] of Object.entries(informerOptions.indexers ?? {})) existing.addIndexer(name, fn);
        return existing;
      }
      const informer = new SharedInformer<T>(informerOptions, { transport, clock, log: options.log });
      informers.set(id, informer as unknown as SharedInformer<KubeObject>);
      if (started) tasks.push(informer.start(internal.signal));
      return informer;
    },

    controller(controllerOptions: ControllerRunnerOptions): ControllerRunner {
      if (controllers.has(controllerOptions.name)) {
        throw new RangeError(
          `controller name "${controllerOptions.name}" is already used; names label metrics and logs and must be unique`,
        );
      }
      const controller = new ControllerRunner(controllerOptions, { clock, log: options.log });
      controllers.set(controllerOptions.name, controller);
      if (leading && leaderSignal) runRunnable(controllerRunnable(controller), leaderSignal);
      return controller;
    },

    add(runnable: Runnable): void {
      runnables.push(runnable);
      if (!started) return;
      if (!runnable.needLeaderElection) runRunnable(runnable, internal.signal);
      else if (leading && leaderSignal) runRunnable(runnable, leaderSignal);
    },

    isReady(): boolean {
      return started && !failed && [...informers.values()].every((i) => i.hasSynced());
    },

    isLeader(): boolean {
      return leading;
    },

    isHealthy(): boolean {
      return !failed;
    },

    start(signal: AbortSignal): Promise<void> {
      running ??= run(signal);
      return running;
    },

    async stop(): Promise<void> {
      internal.abort(new Error('manager stopped'));
      await running?.catch(() => undefined);
    },

    crash(): void {
      elector?.crash();
    },
  };

  async function run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const onAbort = () => internal.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const stopSignal = internal.signal;
    started = true;
    try {
      for (const informer of informers.values()) tasks.push(informer.start(stopSignal));
      for (const runnable of runnables) if (!runnable.needLeaderElection) runRunnable(runnable, stopSignal);
      await Promise.all([...informers.values()].map((i) => i.waitForSync(stopSignal)));
      log.info('caches synced', { informers: informers.size });
      if (!elector) {
        // Without election this replica is the leader: say so, or a "no leader" alert would fire.
        leaderElectionIsLeader.set(1);
        startLeaderWork(stopSignal);
        await untilAborted(stopSignal);
        leaderElectionIsLeader.set(0);
      } else {
        if (!(await elector.acquire(stopSignal))) return;
        const leadership = new AbortController();
        const onStop = () => leadership.abort(stopSignal.reason);
        stopSignal.addEventListener('abort', onStop, { once: true });
        startLeaderWork(leadership.signal);
        const outcome = await elector.holdLeadership(stopSignal);
        leading = false;
        leadership.abort(new Error('leadership ended'));
        if (outcome === 'lost') {
          failed = true;
          internal.abort(new Error('lost leadership'));
          throw new LeaderElectionLostError(
            `lost the leader Lease ${options.leaderElection?.namespace}/${options.leaderElection?.name}; exiting so a fresh process starts clean`,
          );
        }
      }
    } catch (error) {
      if (error instanceof LeaderElectionLostError) throw error;
      if (!stopSignal.aborted) throw error;
    } finally {
      leading = false;
      internal.abort(new Error('manager stopped'));
      signal.removeEventListener('abort', onAbort);
      await Promise.allSettled(tasks);
    }
  }

  return manager;
}

function controllerRunnable(controller: ControllerRunner): Runnable {
  return {
    name: `controller/${controller.name}`,
    needLeaderElection: true,
    start: (signal) => controller.start(signal),
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Stops `manager` on SIGTERM/SIGINT (Kubernetes sends SIGTERM, then SIGKILL after the grace period).
 * Returns a function that removes the handlers.
 */
export function stopOnSignals(
  manager: Pick<FrameworkManager, 'stop'>,
  log: Logger,
  signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): () => void {
  const handler = (signal: NodeJS.Signals) => {
    log.info('received signal; shutting down', { signal });
    void manager.stop();
  };
  for (const signal of signals) process.once(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
