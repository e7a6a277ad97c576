/**
 * The controller runner: informer events become keys in a WorkQueue, workers take keys (never two on
 * one key) and call the Reconciler, and one switch (`#finish`) decides what happens to the key next.
 *
 * Outcomes (controller-runtime's reconcileHandler):
 *   error          → re-queued with rate-limited backoff (per-key exponential, capped, plus overall bucket)
 *   terminal error → logged and counted, forgotten; the object waits for a change (TerminalError)
 *   outside fix    → counted as an error, re-queued on the long backoff of OutsideFixError (minutes, capped):
 *                    IAM and quota fixes happen outside the cluster, so no watch event would bring the key back
 *   requeueAfter   → backoff forgotten, key re-added after the delay ("come back later", not a failure)
 *   success        → backoff forgotten
 */
import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { OutsideFixError, outsideFixDelayMs, TerminalError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import {
  activeWorkers,
  reconcileDurationSeconds,
  reconcileErrorsTotal,
  reconcileTerminalErrorsTotal,
  reconcileTotal,
  workqueueAddsTotal,
  workqueueDepth,
  workqueueQueueDurationSeconds,
  workqueueRetriesTotal,
} from '../observability/metrics.ts';
import type { TimerClock } from './clock.ts';
import { keyOf } from './keys.ts';
import { defaultControllerRateLimiter } from './rate-limit.ts';
import { WorkQueue, type QueuePriority } from './workqueue.ts';
import type {
  Controller,
  ControllerOptions,
  Informer,
  KubeObject,
  ObjectKey,
  ReconcileResult,
  Reconciler,
  WatchEvent,
  WatchOptions,
} from './types.ts';

export type ReconcileOutcome =
  | { type: 'success' }
  | { type: 'requeueAfter'; delayMs: number }
  | { type: 'error'; error: unknown }
  | { type: 'terminal'; error: TerminalError }
  | { type: 'outsideFix'; error: OutsideFixError };

/** Pure: what a reconcile's return value or thrown error means. */
export function classifyOutcome(settled: { result: ReconcileResult | void } | { error: unknown }): ReconcileOutcome {
  if ('error' in settled) {
    if (settled.error instanceof TerminalError) return { type: 'terminal', error: settled.error };
    if (settled.error instanceof OutsideFixError) return { type: 'outsideFix', error: settled.error };
    return { type: 'error', error: settled.error };
  }
  const delayMs = settled.result?.requeueAfterMs;
  return delayMs !== undefined && delayMs > 0 ? { type: 'requeueAfter', delayMs } : { type: 'success' };
}

/**
 * Pure: an event that only says an object exists (the initial list) or repeats it unchanged (a resync: same
 * resourceVersion) queues its keys at low priority, so they wait behind keys of objects that changed
 * (workqueue.ts; docs/architecture.md#work-queues-priorities-and-yielding).
 */
export function eventPriority(event: WatchEvent<KubeObject>): QueuePriority {
  if (event.type === 'add') return event.isInitialList ? 'low' : 'normal';
  if (event.type === 'update') {
    const unchanged = event.oldObject.metadata.resourceVersion === event.object.metadata.resourceVersion;
    return unchanged ? 'low' : 'normal';
  }
  return 'normal';
}

/**
 * Every reconcile is one span, `<controller> reconcile`, the root of its trace: the EC2 calls it makes
 * (operator/aws) are its children through the active context, and log lines written meanwhile carry its
 * trace_id. A no-op unless tracing is on (operator/observability/tracing.ts).
 */
const tracer = trace.getTracer('sgp-operator/framework');

/** Span attribute names of a reconcile. */
export const RECONCILE_SPAN_ATTRIBUTES = {
  controller: 'sgp.controller',
  key: 'sgp.key',
  reconcileId: 'sgp.reconcile_id',
  outcome: 'sgp.reconcile.outcome',
} as const;

/** How long in-flight reconciles may take to finish once shutdown aborted their signals. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface ControllerRunnerOptions extends ControllerOptions {
  /** Overall retry bucket (default 10 qps, burst 100). */
  retryQps?: number;
  retryBurst?: number;
  drainTimeoutMs?: number;
}

/**
 * How long workers may run reconciles back to back before letting the event loop take I/O. A reconcile that
 * only reads caches never leaves the microtask queue, and neither does a worker whose next key is already
 * queued, so without a yield the tens of thousands of keys queued after a start would run in one go: no watch
 * event, API response or probe request would be read until every queue had drained (at 5,000 nodes / 50,000
 * pods, /readyz went unanswered for seconds after the caches had synced). Measured with performance.now(),
 * not the injected clock: this is CPU scheduling, not a decision
 * (docs/architecture.md#work-queues-priorities-and-yielding).
 */
const WORKER_SLICE_MS = 10;
let sliceStartedAt: number | undefined;

/** Resolves at once while the current slice lasts; once it is spent, after the event loop's next I/O phase. */
function yieldWhenSliceSpent(): Promise<void> | void {
  const now = performance.now();
  if (sliceStartedAt === undefined) {
    sliceStartedAt = now;
    // Runs once the loop has been round: whatever runs after it starts a new slice.
    setImmediate(() => (sliceStartedAt = undefined));
    return;
  }
  if (now - sliceStartedAt < WORKER_SLICE_MS) return;
  return new Promise((resolve) => setImmediate(resolve));
}

export class ControllerRunner implements Controller {
  readonly name: string;
  readonly queue: WorkQueue<ObjectKey>;
  readonly #reconciler: Reconciler;
  readonly #workers: number;
  readonly #clock: TimerClock;
  readonly #log: Logger;
  readonly #drainTimeoutMs: number;
  readonly #inFlight = new Set<AbortController>();
  #started = false;

  constructor(options: ControllerRunnerOptions, deps: { clock: TimerClock; log: Logger }) {
    if (!options.name) throw new RangeError('controller name must not be empty (it labels metrics and logs)');
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`controller ${options.name}: workers must be an integer >= 1, got ${workers}`);
    }
    this.name = options.name;
    this.#reconciler = options.reconciler;
    this.#workers = workers;
    this.#clock = deps.clock;
    this.#log = deps.log.child({ controller: options.name });
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const labels = { controller: this.name };
    this.queue = new WorkQueue<ObjectKey>({
      clock: deps.clock,
      rateLimiter: defaultControllerRateLimiter<ObjectKey>({
        ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
        ...(options.backoffMaxMs !== undefined ? { backoffMaxMs: options.backoffMaxMs } : {}),
        ...(options.retryQps !== undefined ? { qps: options.retryQps } : {}),
        ...(options.retryBurst !== undefined ? { burst: options.retryBurst } : {}),
      }),
      metrics: {
        add: () => workqueueAddsTotal.inc(labels),
        retry: () => workqueueRetriesTotal.inc(labels),
        depth: (n) => workqueueDepth.set(labels, n),
        latency: (s) => workqueueQueueDurationSeconds.observe(labels, s),
      },
    });
    // Known series start at zero so alerts and dashboards see them before the first reconcile.
    for (const counter of [
      workqueueAddsTotal,
      workqueueRetriesTotal,
      reconcileTotal,
      reconcileErrorsTotal,
      reconcileTerminalErrorsTotal,
    ]) {
      counter.inc(labels, 0);
    }
    workqueueDepth.set(labels, 0);
    activeWorkers.set(labels, 0);
  }

  watch<T extends KubeObject>(
    informer: Informer<T>,
    map?: (object: T) => ObjectKey[],
    options: WatchOptions<T> = {},
  ): void {
    const keysOf = map ?? ((object: T) => [keyOf(object)]);
    const isRelevantUpdate = options.isRelevantUpdate ?? (() => true);
    informer.onEvent((event) => {
      if (event.type === 'update' && !isRelevantUpdate(event.oldObject, event.object)) return;
      const priority = eventPriority(event);
      for (const key of keysOf(event.object)) this.queue.add(key, priority);
      if (event.type === 'update') for (const key of keysOf(event.oldObject)) this.queue.add(key, priority);
    });
  }

  enqueue(key: ObjectKey): void {
    this.queue.add(key);
  }

  enqueueAfter(key: ObjectKey, delayMs: number): void {
    this.queue.addAfter(key, delayMs);
  }

  /**
   * Runs the workers until `signal` aborts, then aborts in-flight reconciles and waits (bounded) for them.
   * NB: keys may have been queued by informer events before start (informers run on every replica);
   * they are processed now, which is the initial reconcile of every object after leadership is acquired.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} was already started`);
    this.#started = true;
    const workers = Array.from({ length: this.#workers }, () => this.#worker(signal));
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    for (const inFlight of this.#inFlight) inFlight.abort(signal.reason);
    const drained = await this.queue.shutdown(this.#drainTimeoutMs);
    if (!drained)
      this.#log.warn('reconciles still running after drain timeout', { drainTimeoutMs: this.#drainTimeoutMs });
    else await Promise.all(workers);
  }

  async #worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      await yieldWhenSliceSpent();
      const key = await this.queue.get();
      if (key === undefined || signal.aborted) {
        if (key !== undefined) this.queue.done(key);
        return;
      }
      try {
        await this.reconcileKey(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** One reconcile of `key` and the queue bookkeeping for its outcome (exposed for tests and benchmarks). */
  async reconcileKey(key: ObjectKey, shutdown: AbortSignal): Promise<ReconcileOutcome> {
    const reconcileId = randomUUID();
    return tracer.startActiveSpan(
      `${this.name} reconcile`,
      {
        kind: SpanKind.INTERNAL,
        // A work-queue item starts its own trace, whatever context the code that enqueued it had.
        root: true,
        attributes: {
          [RECONCILE_SPAN_ATTRIBUTES.controller]: this.name,
          [RECONCILE_SPAN_ATTRIBUTES.key]: key,
          [RECONCILE_SPAN_ATTRIBUTES.reconcileId]: reconcileId,
        },
      },
      async (span) => {
        try {
          return await this.#reconcileInSpan(key, reconcileId, shutdown, span);
        } finally {
          span.end();
        }
      },
    );
  }

  async #reconcileInSpan(
    key: ObjectKey,
    reconcileId: string,
    shutdown: AbortSignal,
    span: Span,
  ): Promise<ReconcileOutcome> {
    const labels = { controller: this.name };
    const log = this.#log.child({ key, reconcileId });
    const abort = new AbortController();
    const onShutdown = () => abort.abort(shutdown.reason);
    shutdown.addEventListener('abort', onShutdown, { once: true });
    this.#inFlight.add(abort);
    activeWorkers.inc(labels);
    const startedAt = this.#clock.now();
    let settled: { result: ReconcileResult | void } | { error: unknown };
    try {
      settled = { result: await this.#reconciler.reconcile(key, { signal: abort.signal, log, reconcileId }) };
    } catch (error) {
      // A throw of anything (a bug included) is an error outcome: counted and retried, never a crash.
      settled = { error };
    } finally {
      this.#inFlight.delete(abort);
      shutdown.removeEventListener('abort', onShutdown);
      activeWorkers.dec(labels);
    }
    reconcileTotal.inc(labels);
    reconcileDurationSeconds.observe(labels, (this.#clock.now() - startedAt) / 1000);
    const outcome = classifyOutcome(settled);
    span.setAttribute(RECONCILE_SPAN_ATTRIBUTES.outcome, outcome.type);
    if ('error' in outcome) {
      const error = outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    this.#finish(key, outcome, log);
    return outcome;
  }

  #finish(key: ObjectKey, outcome: ReconcileOutcome, log: Logger): void {
    const labels = { controller: this.name };
    switch (outcome.type) {
      case 'error': {
        reconcileErrorsTotal.inc(labels);
        const retryInMs = this.queue.addRateLimited(key);
        log.warn('reconcile failed; retrying', { error: outcome.error, retryInMs, failures: this.queue.failures(key) });
        return;
      }
      case 'terminal':
        reconcileErrorsTotal.inc(labels);
        reconcileTerminalErrorsTotal.inc(labels);
        this.queue.forget(key);
        log.error('reconcile failed terminally; waiting for a change', { error: outcome.error });
        return;
      case 'outsideFix': {
        reconcileErrorsTotal.inc(labels);
        const retryInMs = this.queue.addWithBackoff(key, outsideFixDelayMs);
        log.warn('reconcile failed; waiting for a fix outside the cluster', {
          error: outcome.error,
          retryInMs,
          failures: this.queue.failures(key),
        });
        return;
      }
      case 'requeueAfter':
        this.queue.forget(key);
        this.queue.addAfter(key, outcome.delayMs);
        return;
      case 'success':
        this.queue.forget(key);
        return;
      default: {
        const unhandled: never = outcome;
        throw new Error(`unhandled reconcile outcome ${JSON.stringify(unhandled)}`);
      }
    }
  }
}
