import { describe, expect, test } from '@jest/globals';
import { OutsideFixError, TerminalError } from '../../../operator/errors.ts';
import { FakeClock } from '../../../operator/framework/clock.ts';
import { ControllerRunner, classifyOutcome, eventPriority } from '../../../operator/framework/controller.ts';
import type {
  Informer,
  KubeObject,
  ReconcileContext,
  ReconcileResult,
  WatchEvent,
} from '../../../operator/framework/types.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';

describe('classifyOutcome', () => {
  const transient = new Error('EC2 throttled');
  const terminal = new TerminalError('policy names a group that does not exist');
  const outsideFix = new OutsideFixError('UnauthorizedOperation: check the IAM policy');
  test.each([
    ['void result is success', { result: undefined }, { type: 'success' }],
    ['empty result is success', { result: {} }, { type: 'success' }],
    ['requeueAfterMs 0 is success', { result: { requeueAfterMs: 0 } }, { type: 'success' }],
    [
      'requeueAfterMs is a delayed requeue',
      { result: { requeueAfterMs: 30_000 } },
      { type: 'requeueAfter', delayMs: 30_000 },
    ],
    ['a thrown error is retried', { error: transient }, { type: 'error', error: transient }],
    ['a thrown non-Error is an error too', { error: 'boom' }, { type: 'error', error: 'boom' }],
    ['a TerminalError is terminal', { error: terminal }, { type: 'terminal', error: terminal }],
    ['an OutsideFixError waits for a fix', { error: outsideFix }, { type: 'outsideFix', error: outsideFix }],
  ] as const)('%s', (_name, settled, expected) => {
    expect(classifyOutcome(settled as { result: ReconcileResult } | { error: unknown })).toEqual(expected);
  });
});

type Script = (key: string, context: ReconcileContext) => Promise<ReconcileResult | void>;

function runner(script: Script, clock = new FakeClock(), workers = 1) {
  const calls: string[] = [];
  const controller = new ControllerRunner(
    {
      name: `test-${Math.random().toString(36).slice(2)}`,
      reconciler: {
        reconcile: (key, context) => {
          calls.push(key);
          return script(key, context);
        },
      },
      workers,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
    },
    { clock, log: silentLogger },
  );
  return { controller, calls, clock, signal: new AbortController().signal };
}

describe('ControllerRunner outcome switch', () => {
  test('an error re-queues the key with growing, capped backoff; success forgets it', async () => {
    let failuresLeft = 6;
    const { controller, clock, signal } = runner(async () => {
      if (failuresLeft-- > 0) throw new Error('transient');
    });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await controller.reconcileKey('ns/a', signal);
      expect(controller.queue.delayedCount).toBe(1);
      const before = clock.now();
      while (controller.queue.length === 0) clock.advance(1);
      delays.push(clock.now() - before);
      const key = await controller.queue.get();
      controller.queue.done(key as string);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    await expect(controller.reconcileKey('ns/a', signal)).resolves.toEqual({ type: 'success' });
    expect(controller.queue.failures('ns/a')).toBe(0);
    expect(controller.queue.delayedCount).toBe(0);
  });

  test('a TerminalError is not re-queued', async () => {
    const { controller, clock, signal } = runner(async () => {
      throw new TerminalError('cannot be fixed by retrying');
    });
    const outcome = await controller.reconcileKey('ns/a', signal);
    expect(outcome.type).toBe('terminal');
    clock.advance(10_000_000);
    expect(controller.queue.length + controller.queue.delayedCount).toBe(0);
  });

  test('an OutsideFixError comes back on the long backoff (1 min doubling to 10 min), not at once and not never', async () => {
    let failuresLeft = 6;
    const { controller, clock, signal } = runner(async () => {
      if (failuresLeft-- > 0) throw new OutsideFixError('UnauthorizedOperation on CreateNetworkInterface');
    });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await expect(controller.reconcileKey('ns/a', signal)).resolves.toMatchObject({ type: 'outsideFix' });
      const before = clock.now();
      while (controller.queue.length === 0) clock.advance(1000);
      delays.push(clock.now() - before);
      const key = await controller.queue.get();
      controller.queue.done(key as string);
    }
    expect(delays).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    // The fix landed: the retry succeeds and the key's failure history is gone.
    await expect(controller.reconcileKey('ns/a', signal)).resolves.toEqual({ type: 'success' });
    expect(controller.queue.failures('ns/a')).toBe(0);
    expect(controller.queue.delayedCount).toBe(0);
  });

  test('requeueAfterMs brings the key back after exactly that delay', async () => {
    const { controller, clock, signal } = runner(async () => ({ requeueAfterMs: 30_000 }));
    await controller.reconcileKey('ns/a', signal);
    clock.advance(29_999);
    expect(controller.queue.length).toBe(0);
    clock.advance(1);
    expect(controller.queue.length).toBe(1);
  });

  test('each reconcile gets its own id and a signal that aborts on shutdown', async () => {
    // Recorded here and asserted after: a failed expect inside the reconciler would be an error the
    // controller catches and re-queues, not a failed test.
    const seen: { reconcileId: string; abortedOnShutdown: boolean }[] = [];
    const shutdown = new AbortController();
    const { controller } = runner(async (_key, context) => {
      const abortedBefore = context.signal.aborted;
      if (seen.length === 0) shutdown.abort();
      seen.push({ reconcileId: context.reconcileId, abortedOnShutdown: !abortedBefore && context.signal.aborted });
    });
    await controller.reconcileKey('ns/a', shutdown.signal);
    const again = new AbortController();
    await controller.reconcileKey('ns/a', again.signal);
    expect(seen).toEqual([
      { reconcileId: expect.any(String), abortedOnShutdown: true },
      { reconcileId: expect.any(String), abortedOnShutdown: false },
    ]);
    expect(seen[0]?.reconcileId).not.toBe(seen[1]?.reconcileId);
  });

  test('two workers never hold one key; a key re-added while in flight runs again after it finishes', async () => {
    const running = new Set<string>();
    let overlaps = 0;
    const release = new Map<string, () => void>();
    const { controller, calls } = runner(
      async (key) => {
        if (running.has(key)) overlaps++;
        running.add(key);
        await new Promise<void>((resolve) => release.set(key, resolve));
        running.delete(key);
      },
      new FakeClock(),
      2,
    );
    const stop = new AbortController();
    const started = controller.start(stop.signal);
    controller.enqueue('ns/a');
    await waitFor(() => release.has('ns/a'));
    controller.enqueue('ns/a'); // re-added while processing: must wait for the first run
    controller.enqueue('ns/b');
    await waitFor(() => release.has('ns/b'));
    release.get('ns/b')?.();
    release.delete('ns/b');
    await settle();
    expect(calls).toEqual(['ns/a', 'ns/b']); // the idle worker did not take ns/a
    release.get('ns/a')?.();
    release.delete('ns/a');
    await waitFor(() => release.has('ns/a'));
    expect(calls).toEqual(['ns/a', 'ns/b', 'ns/a']);
    release.get('ns/a')?.();
    stop.abort();
    await started;
    expect(overlaps).toBe(0);
  });

  test('workers draining a long queue of cache-only reconciles still let the event loop read I/O', async () => {
    const reconciled: string[] = [];
    // Each reconcile is 2 ms of CPU that never awaits anything outside the microtask queue.
    const { controller } = runner(async (key) => {
      const until = performance.now() + 2;
      while (performance.now() < until);
      reconciled.push(key);
    });
    for (let i = 0; i < 100; i++) controller.enqueue(`ns/pod-${i}`);
    const stop = new AbortController();
    const started = controller.start(stop.signal);
    // A macrotask queued now stands for a probe request or a watch event arriving meanwhile.
    const seenAfter = await new Promise<number>((resolve) => setImmediate(() => resolve(reconciled.length)));
    expect(seenAfter).toBeGreaterThan(0);
    expect(seenAfter).toBeLessThan(100);
    await waitFor(() => reconciled.length === 100);
    stop.abort();
    await started;
  });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error('condition never became true');
}

describe('ControllerRunner.watch', () => {
  type Obj = KubeObject & { spec?: { size?: number }; status?: { count?: number } };
  function informer() {
    const handlers: ((event: WatchEvent<Obj>) => void)[] = [];
    const fake = {
      kind: { group: '', version: 'v1', kind: 'Thing', plural: 'things', namespaced: true },
      onEvent: (handler: (event: WatchEvent<Obj>) => void) => void handlers.push(handler),
      emit: (event: WatchEvent<Obj>) => handlers.forEach((handler) => handler(event)),
    };
    return fake as unknown as Informer<Obj> & { emit(event: WatchEvent<Obj>): void };
  }
  const thing = (size: number, count: number): Obj => ({
    apiVersion: 'v1',
    kind: 'Thing',
    metadata: { name: 'a', namespace: 'ns' },
    spec: { size },
    status: { count },
  });

  test('isRelevantUpdate filters updates only; adds and deletes always enqueue', () => {
    const { controller } = runner(async () => {});
    const things = informer();
    controller.watch(things, (object) => [`ns/size-${object.spec?.size}`], {
      isRelevantUpdate: (oldObject, newObject) => oldObject.spec?.size !== newObject.spec?.size,
    });

    things.emit({ type: 'update', oldObject: thing(1, 1), object: thing(1, 2) });
    expect(controller.queue.length).toBe(0);
    things.emit({ type: 'update', oldObject: thing(1, 2), object: thing(2, 2) });
    expect(controller.queue.length).toBe(2); // both the old and the new object's keys
    things.emit({ type: 'add', object: thing(3, 1) });
    things.emit({ type: 'delete', object: thing(4, 1) });
    expect(controller.queue.length).toBe(4);
  });

  test('keys of listed and resynced objects wait behind keys of changed objects', async () => {
    const { controller } = runner(async () => {});
    const things = informer();
    controller.watch(things, (object) => [`ns/${object.metadata.name}`]);
    const named = (name: string, resourceVersion: string): Obj => ({
      ...thing(1, 1),
      metadata: { name, namespace: 'ns', resourceVersion },
    });

    things.emit({ type: 'add', object: named('listed', '1'), isInitialList: true });
    things.emit({ type: 'update', oldObject: named('resynced', '2'), object: named('resynced', '2') });
    things.emit({ type: 'add', object: named('created', '3') });
    things.emit({ type: 'update', oldObject: named('edited', '4'), object: named('edited', '5') });
    things.emit({ type: 'delete', object: named('deleted', '6') });

    const order: (string | undefined)[] = [];
    while (controller.queue.length > 0) order.push(await controller.queue.get());
    expect(order).toEqual(['ns/created', 'ns/edited', 'ns/deleted', 'ns/listed', 'ns/resynced']);
  });
});

describe('eventPriority', () => {
  const object = (resourceVersion: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Thing',
    metadata: { name: 'a', resourceVersion },
  });
  test.each([
    ['an add from the initial list', { type: 'add', object: object('1'), isInitialList: true }, 'low'],
    ['an add seen by the watch', { type: 'add', object: object('1') }, 'normal'],
    ['a resync (same resourceVersion)', { type: 'update', object: object('1'), oldObject: object('1') }, 'low'],
    ['an update', { type: 'update', object: object('2'), oldObject: object('1') }, 'normal'],
    ['a delete', { type: 'delete', object: object('1') }, 'normal'],
  ] as const)('%s is %s', (_name, event, priority) => {
    expect(eventPriority(event)).toBe(priority);
  });
});
