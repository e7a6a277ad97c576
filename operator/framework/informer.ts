/**
 * A shared informer: list, then watch from the listed resourceVersion, keeping an ObjectStore current and
 * telling handlers what changed.
 *
 * We run our own list/watch loop (over transport.ts) rather than client-node's `makeInformer` because we
 * need what it does not give:
 * bookmarks (`allowWatchBookmarks`, so a quiet watch resumes from a recent resourceVersion instead of
 * relisting), a transform applied before caching (a lean Pod projection), indexers, a resync timer, a
 * retry of every failure (1.x's ListWatch stops on non-410 errors), and a watch whose idle timeout we
 * choose (client-node's Watch aborts after 30 s without bytes, shorter than the apiserver's ~1 min
 * bookmark interval, which would restart quiet watches needlessly).
 *
 * The list is streamed when the API server offers it (KEP-3157 "watch-list", on by default since Kubernetes
 * 1.32): one watch with `sendInitialEvents=true` delivers every object as its own ADDED event, then a bookmark
 * marked `k8s.io/initial-events-end`, and carries on as the watch. Each object is parsed and projected on its
 * own, so no page of hundreds of full objects (megabytes of JSON, then of objects, most of it dropped by the
 * transform) is ever held, which is what set the operator's peak memory at start (bench/README.md); the API
 * server serves it from its watch cache instead of paging through etcd. A server that refuses the parameter
 * (the feature gate off, Kubernetes 1.30–1.31) gets paged lists of LIST_PAGE_SIZE, as before, from then on.
 *
 * Failure handling, as client-go's reflector: a 410 Gone (HTTP status or an in-stream ERROR event) means
 * our resourceVersion was compacted, so relist; the relist diff emits deletes for cached objects that
 * vanished meanwhile. Any other failure re-opens the watch from the last seen resourceVersion after an
 * exponential backoff (800 ms doubling to 30 s, reset once a watch delivers). A list that fails is retried
 * the same way.
 */
import { KubeApiError, KubeGoneError } from './errors.ts';
import { ObjectStore } from './cache.ts';
import { listPage } from './client.ts';
import { apiError, resourcePath } from './transport.ts';
import type { KubeTransport } from './transport.ts';
import { sleep, type TimerClock } from './clock.ts';
import type { Informer, InformerOptions, KubeObject, ObjectKey, ResourceKind, WatchEvent } from './types.ts';
import { keyOf } from './keys.ts';
import type { Logger } from '../observability/logger.ts';
import { informerObjects, informerRelistsTotal, informerWatchRestartsTotal } from '../observability/metrics.ts';

export const WATCH_BACKOFF_INITIAL_MS = 800;
export const WATCH_BACKOFF_MAX_MS = 30_000;
/** Server-side watch timeout is drawn from [MIN, 2*MIN) seconds so replicas do not reconnect in step. */
export const WATCH_TIMEOUT_MIN_SECONDS = 300;
/** If the server sends nothing (not even a bookmark) for this long after its own timeout, we abort. */
export const WATCH_CLIENT_GRACE_MS = 30_000;
/** The annotation on the bookmark that ends a streamed list's initial events. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

interface RawWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface InformerDeps {
  transport: KubeTransport;
  clock: TimerClock;
  log: Logger;
}

export class SharedInformer<T extends KubeObject> implements Informer<T> {
  readonly kind: ResourceKind;
  readonly #options: InformerOptions<T>;
  readonly #deps: InformerDeps;
  readonly #store: ObjectStore<T>;
  readonly #handlers: ((event: WatchEvent<T>) => void)[] = [];
  readonly #log: Logger;
  #resourceVersion: string | undefined;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #running: Promise<void> | undefined;
  #lists = 0;
  #watches = 0;
  /** The API server refused `sendInitialEvents`: list in pages from now on. */
  #isStreamingListRefused = false;
  /** While a streamed list runs: the objects of its initial events, by key, until the end bookmark. */
  #initial: Map<ObjectKey, T> | undefined;

  constructor(options: InformerOptions<T>, deps: InformerDeps) {
    this.kind = options.kind;
    this.#options = options;
    this.#deps = deps;
    this.#store = new ObjectStore<T>(options.indexers ?? {});
    this.#log = deps.log.child({
      informer: options.kind.kind,
      ...(options.namespace ? { namespace: options.namespace } : {}),
    });
    informerRelistsTotal.inc({ kind: this.kind.kind }, 0);
    informerWatchRestartsTotal.inc({ kind: this.kind.kind }, 0);
  }

  get(key: ObjectKey): T | undefined {
    return this.#store.get(key);
  }

  list(namespace?: string): readonly T[] {
    return this.#store.list(namespace);
  }

  byIndex(indexName: string, value: string): readonly T[] {
    return this.#store.byIndex(indexName, value);
  }

  /** The transform this informer applies (shared informers must agree on it). */
  get transformFn(): ((object: T) => T) | undefined {
    return this.#options.transform;
  }

  /** Adds an index (a second user of a shared informer may need one); existing objects are indexed now. */
  addIndexer(name: string, fn: (object: T) => string[]): void {
    this.#store.addIndexer(name, fn);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  onEvent(handler: (event: WatchEvent<T>) => void): void {
    this.#handlers.push(handler);
    // A handler added after the initial list still sees every cached object, as client-go's AddEventHandler.
    if (this.#synced) {
      for (const object of this.#store.list()) this.#deliver(handler, { type: 'add', object, isInitialList: true });
    }
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error(`waiting for ${this.kind.kind} cache sync aborted`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Starts the list/watch loop once; resolves when `signal` aborts and the loop has ended. */
  start(signal: AbortSignal): Promise<void> {
    this.#running ??= this.#run(signal);
    return this.#running;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const cancelResync = this.#scheduleResync();
    let backoffMs = WATCH_BACKOFF_INITIAL_MS;
    try {
      while (!signal.aborted) {
        try {
          const isListing = this.#resourceVersion === undefined;
          if (isListing && this.#isStreamingListRefused) await this.#relist(signal);
          const openedAt = this.#deps.clock.now();
          let delivered: boolean;
          try {
            delivered = await this.#watch(signal, { streamsList: this.#resourceVersion === undefined });
          } catch (error) {
            if (!isListing || this.#isStreamingListRefused || !isRefusal(error)) throw error;
            this.#isStreamingListRefused = true;
            this.#log.info('the API server does not stream lists (sendInitialEvents); listing in pages', {
              error,
            });
            continue;
          }
          if (delivered) {
            backoffMs = WATCH_BACKOFF_INITIAL_MS;
          } else if (this.#deps.clock.now() - openedAt < WATCH_BACKOFF_INITIAL_MS) {
            // A stream that ends at once with nothing in it (a proxy closing it) must not spin.
            await sleep(this.#deps.clock, backoffMs, signal);
            backoffMs = Math.min(backoffMs * 2, WATCH_BACKOFF_MAX_MS);
          }
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof KubeGoneError) {
            this.#log.info('watch resourceVersion expired; relisting', { resourceVersion: this.#resourceVersion });
            this.#resourceVersion = undefined;
            continue;
          }
          this.#log.warn('list/watch failed; retrying', { error, retryInMs: backoffMs });
          await sleep(this.#deps.clock, backoffMs, signal);
          backoffMs = Math.min(backoffMs * 2, WATCH_BACKOFF_MAX_MS);
        }
      }
    } finally {
      cancelResync();
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    this.#countList();
    const listed: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await listPage<T>(this.#deps.transport, this.kind, {
        ...(this.#options.namespace ? { namespace: this.#options.namespace } : {}),
        ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
        ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
        ...(continueToken ? { continueToken } : {}),
        signal,
      });
      for (const item of page.items) listed.push(this.#transform(item));
      // Every page of one list is served from the same snapshot; the first page's version is the list's.
      if (!resourceVersion) resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
    } while (continueToken);
    this.#replace(listed, resourceVersion);
  }

  #countList(): void {
    if (this.#lists++ > 0) informerRelistsTotal.inc({ kind: this.kind.kind });
  }

  /** A complete list (paged or streamed) becomes the cache; the difference goes out as events. */
  #replace(listed: readonly T[], resourceVersion: string): void {
    const events = this.#store.replace(listed);
    this.#resourceVersion = resourceVersion;
    informerObjects.set({ kind: this.kind.kind }, this.#store.size);
    const isInitialList = !this.#synced;
    for (const event of events) this.#emit(isInitialList && event.type === 'add' ? { ...event, isInitialList } : event);
    if (!this.#synced) {
      this.#synced = true;
      this.#log.debug('cache synced', { objects: this.#store.size, resourceVersion });
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  /**
   * One watch stream; resolves when the server ends it, returns whether any event arrived. With `streamsList`
   * it starts with the streamed list (see the module comment); a stream that ends before the list's end
   * bookmark leaves the cache as it was, and the next attempt lists again.
   */
  async #watch(signal: AbortSignal, options: { streamsList: boolean }): Promise<boolean> {
    if (this.#watches++ > 0) informerWatchRestartsTotal.inc({ kind: this.kind.kind });
    if (options.streamsList) this.#countList();
    const timeoutSeconds = WATCH_TIMEOUT_MIN_SECONDS + Math.floor(Math.random() * WATCH_TIMEOUT_MIN_SECONDS);
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const guard = setTimeout(
      () => abort.abort(new Error('watch exceeded its timeout')),
      timeoutSeconds * 1000 + WATCH_CLIENT_GRACE_MS,
    );
    guard.unref();
    let delivered = false;
    try {
      const lines = await this.#deps.transport.stream(
        resourcePath(this.kind, this.#options.namespace ? { namespace: this.#options.namespace } : {}),
        { kind: this.kind, verb: 'watch' },
        {
          query: {
            watch: true,
            ...(options.streamsList
              ? { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }
              : { resourceVersion: this.#resourceVersion }),
            allowWatchBookmarks: true,
            timeoutSeconds,
            labelSelector: this.#options.labelSelector,
            fieldSelector: this.#options.fieldSelector,
          },
          signal: abort.signal,
        },
      );
      if (options.streamsList) this.#initial = new Map();
      for await (const line of lines) {
        this.#handleWatchEvent(JSON.parse(line) as RawWatchEvent);
        delivered = true;
      }
      return delivered;
    } finally {
      this.#initial = undefined;
      clearTimeout(guard);
      signal.removeEventListener('abort', onAbort);
      abort.abort();
    }
  }

  #handleWatchEvent(event: RawWatchEvent): void {
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; reason?: string; message?: string };
      throw apiError({ kind: this.kind, verb: 'watch' }, status.code ?? 500, status);
    }
    const raw = event.object as T;
    const resourceVersion = raw.metadata.resourceVersion;
    const initial = this.#initial;
    if (initial !== undefined) {
      // Inside a streamed list: collect, and make it the cache at the end bookmark.
      if (event.type === 'BOOKMARK') {
        if (raw.metadata.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== 'true') return;
        this.#initial = undefined;
        this.#replace([...initial.values()], resourceVersion ?? '');
      } else if (event.type === 'DELETED') {
        initial.delete(keyOf(raw));
      } else {
        const object = this.#transform(raw);
        initial.set(keyOf(object), object);
      }
      return;
    }
    switch (event.type) {
      case 'BOOKMARK':
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.#transform(raw);
        const old = this.#store.upsert(object);
        if (!old) this.#emit({ type: 'add', object });
        else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
          this.#emit({ type: 'update', object, oldObject: old });
        }
        break;
      }
      case 'DELETED': {
        const old = this.#store.remove(keyOf(raw));
        this.#emit({ type: 'delete', object: old ?? this.#transform(raw) });
        break;
      }
      default: {
        const unknownType: never = event.type;
        this.#log.warn('unknown watch event type ignored', { type: unknownType });
      }
    }
    if (resourceVersion) this.#resourceVersion = resourceVersion;
    informerObjects.set({ kind: this.kind.kind }, this.#store.size);
  }

  /**
   * managedFields (server-side apply's bookkeeping, often the largest part of an object) go from every object,
   * as client-go's informers commonly strip them: nothing in the operator reads them, and objects are only
   * ever patched, never written back whole. Then the informer's own projection, if any.
   */
  #transform(object: T): T {
    delete (object.metadata as { managedFields?: unknown }).managedFields;
    return this.#options.transform ? this.#options.transform(object) : object;
  }

  #emit(event: WatchEvent<T>): void {
    for (const handler of this.#handlers) this.#deliver(handler, event);
  }

  #deliver(handler: (event: WatchEvent<T>) => void, event: WatchEvent<T>): void {
    try {
      handler(event);
    } catch (error) {
      // Handlers only enqueue keys; one that throws is a bug, but it must not stop the watch.
      this.#log.error('informer event handler threw', { error, key: keyOf(event.object) });
    }
  }

  #scheduleResync(): () => void {
    const period = this.#options.resyncPeriodMs ?? 0;
    if (period <= 0) return () => undefined;
    let cancel = () => {};
    const tick = () => {
      if (this.#synced) {
        for (const object of this.#store.list()) this.#emit({ type: 'update', object, oldObject: object });
      }
      cancel = this.#deps.clock.schedule(period, tick);
    };
    cancel = this.#deps.clock.schedule(period, tick);
    return () => cancel();
  }
}

/**
 * How an API server without watch-list answers `sendInitialEvents`: 422 Invalid ("forbidden unless the WatchList
 * feature gate is enabled") or 400. Anything else (403, 5xx, a broken connection) is an ordinary failure.
 */
function isRefusal(error: unknown): boolean {
  return error instanceof KubeApiError && (error.statusCode === 422 || error.statusCode === 400);
}
