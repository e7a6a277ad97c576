/**
 * The framework's public contract (controller-runtime semantics over our own small client: ./kubeconfig.ts,
 * ./transport.ts). Controllers import only these types and what ./index.ts exports; the framework knows nothing
 * about EC2 or policies.
 */
import type { ObjectMeta } from './meta.ts';
import type { Logger } from '../observability/logger.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** A kind on the API server. `group` is '' for the core group. */
export interface ResourceKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** "namespace/name" for namespaced objects, "name" for cluster-scoped ones (as client-go's cache keys). */
export type ObjectKey = string;

/** Read side of a synced informer cache. Reads never go to the API server. */
export interface Reader<T extends KubeObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): readonly T[];
  /** Objects whose indexer (see InformerOptions.indexers) returned `value`. */
  byIndex(indexName: string, value: string): readonly T[];
  hasSynced(): boolean;
}

/**
 * What changed in an informer's cache. `isInitialList` marks the adds of the first list (and of a handler
 * added later, which is shown every cached object): the object was not seen to change, only to exist.
 */
export type WatchEvent<T> =
  | { type: 'add'; object: T; isInitialList?: boolean }
  | { type: 'update'; object: T; oldObject: T }
  | { type: 'delete'; object: T };

export interface InformerOptions<T extends KubeObject> {
  kind: ResourceKind;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Lean projection applied before caching (e.g. keep only what the operator needs of a Pod). */
  transform?: (object: T) => T;
  /** Named indexers: index name → values the object is filed under. `namespace` is built in. */
  indexers?: Record<string, (object: T) => string[]>;
  /** Re-deliver every cached object as an update this often (0 = never). */
  resyncPeriodMs?: number;
}

export interface Informer<T extends KubeObject> extends Reader<T> {
  readonly kind: ResourceKind;
  /** Handlers only enqueue keys; they must not do I/O. */
  onEvent(handler: (event: WatchEvent<T>) => void): void;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface ReconcileContext {
  signal: AbortSignal;
  /** Child logger carrying controller, key and reconcileId. */
  log: Logger;
  reconcileId: string;
}

/** "Come back after this long". Errors are thrown instead, and retried with per-key backoff. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  /** Unique; used in metrics labels and logs. */
  name: string;
  reconciler: Reconciler;
  /** Concurrent reconciles (never two on one key). Default 1. */
  workers?: number;
  /** Per-key exponential backoff on errors. Defaults: 5 ms base, 1000 s cap (client-go). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface WatchOptions<T extends KubeObject> {
  /**
   * Whether an update can matter to this controller (adds and deletes always do). Use it when an update that
   * touches only fields the controller never reads would enqueue many keys: a policy's matched-pod count
   * changes with every pod, and each change would re-enqueue every pod of its namespace.
   */
  isRelevantUpdate?: (oldObject: T, newObject: T) => boolean;
}

export interface Controller {
  readonly name: string;
  /**
   * Enqueue keys from an informer's events. Without `map` the object's own key is enqueued. On update,
   * `map` runs on both old and new objects so a moved label is not missed.
   */
  watch<T extends KubeObject>(informer: Informer<T>, map?: (object: T) => ObjectKey[], options?: WatchOptions<T>): void;
  enqueue(key: ObjectKey): void;
  enqueueAfter(key: ObjectKey, delayMs: number): void;
}

/** Something that runs while the manager runs (periodic sweeps, servers). */
export interface Runnable {
  name: string;
  /** Leader-only runnables start after leadership is acquired; the others start at once. */
  needLeaderElection: boolean;
  start(signal: AbortSignal): Promise<void>;
}

export interface Manager {
  /** Shared informer: the same kind + namespace + selectors returns the same instance. */
  informer<T extends KubeObject>(options: InformerOptions<T>): Informer<T>;
  controller(options: ControllerOptions): Controller;
  add(runnable: Runnable): void;
  /** Readiness: caches synced (and, for /readyz, the manager started). */
  isReady(): boolean;
  isLeader(): boolean;
  /** Starts informers, waits for sync, acquires leadership (if enabled), runs controllers; resolves on stop. */
  start(signal: AbortSignal): Promise<void>;
}

export type JsonPatchOperation =
  { op: 'add' | 'replace' | 'test'; path: string; value: unknown } | { op: 'remove'; path: string };

/**
 * The write side (and live reads) against the API server. Errors: KubeNotFoundError, KubeConflictError
 * (409: resourceVersion mismatch or AlreadyExists), KubeApiError (anything else; has `statusCode`).
 */
export interface KubeClient {
  /** Live GET; undefined when not found. */
  get<T extends KubeObject>(kind: ResourceKind, key: ObjectKey): Promise<T | undefined>;
  /** Live LIST of every page; the selectors are the API server's (`fieldSelector` e.g. for Events of one object). */
  list<T extends KubeObject>(
    kind: ResourceKind,
    options?: { namespace?: string; labelSelector?: string; fieldSelector?: string },
  ): Promise<T[]>;
  create<T extends KubeObject>(kind: ResourceKind, object: T): Promise<T>;
  /** JSON merge patch; with `resourceVersion` it fails with KubeConflictError if the object moved on. */
  mergePatch<T extends KubeObject>(
    kind: ResourceKind,
    key: ObjectKey,
    patch: object,
    options?: { resourceVersion?: string },
  ): Promise<T>;
  /** JSON patch (RFC 6902); a failing `test` op surfaces as KubeConflictError or KubeApiError 422. */
  jsonPatch<T extends KubeObject>(kind: ResourceKind, key: ObjectKey, operations: JsonPatchOperation[]): Promise<T>;
  /** Merge patch of the status subresource. */
  mergePatchStatus<T extends KubeObject>(
    kind: ResourceKind,
    key: ObjectKey,
    status: object,
    options?: { resourceVersion?: string },
  ): Promise<T>;
  /** Delete; resolves when already gone. `uid` is a precondition (never delete a recreated namesake). */
  delete(kind: ResourceKind, key: ObjectKey, options?: { uid?: string }): Promise<void>;
}

export type EventType = 'Normal' | 'Warning';

/** core/v1 Events; repeats of the same (object, type, reason, message) are aggregated into a count. */
export interface EventRecorder {
  /** Fire-and-forget: failures are logged, never thrown into the caller. `object` needs kind and apiVersion. */
  event(object: KubeObject, type: EventType, reason: string, message: string): void;
  /**
   * The object (any uid) is gone: drop what the recorder keeps for it (aggregation counts, spam filter), so
   * nothing stays behind per deleted pod or node. A later event about the same name starts afresh.
   */
  forget(kind: string, namespace: string, name: string): void;
}

/** Injected time, so decisions and tests never read the wall clock directly. */
export interface Clock {
  now(): number;
}
