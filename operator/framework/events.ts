/**
 * core/v1 Events, as client-go's record package writes them. Repeats of the same (object, type, reason,
 * message) patch the existing Event's count and lastTimestamp instead of creating a new one, and a
 * per-object token bucket (burst 25, then one per 5 minutes, client-go's spam filter) drops the rest, so a
 * hot reconcile loop cannot flood the API server. Writes run in the background, one at a time per
 * aggregation key; failures are logged and counted, never thrown into the caller.
 *
 * Cluster-scoped objects (Nodes) get their Events in `default` with no involvedObject.namespace, which is
 * where `kubectl describe node` looks (it lists across namespaces by involvedObject kind/name/uid).
 */
import { randomBytes } from 'node:crypto';
import type { TimerClock } from './clock.ts';
import { systemClock } from './clock.ts';
import { KubeNotFoundError } from './errors.ts';
import type { EventRecorder, EventType, KubeClient, KubeObject, ResourceKind } from './types.ts';
import { TokenBucket } from './rate-limit.ts';
import type { Logger } from '../observability/logger.ts';
import { eventsDroppedTotal } from '../observability/metrics.ts';

export const EVENT_KIND: ResourceKind = { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true };
/** client-go's EventSourceObjectSpamFilter: 25 events per object, refilling one per 5 minutes. */
export const EVENT_BURST_PER_OBJECT = 25;
export const EVENT_REFILL_PER_SECOND = 1 / 300;
/** Aggregation entries kept (least recently used dropped first), as client-go's LRU of 4096. */
export const EVENT_CACHE_SIZE = 4096;

interface CoreEvent extends KubeObject {
  involvedObject: {
    apiVersion?: string;
    kind?: string;
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
  };
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

interface Aggregate {
  /** Name and namespace of the Event written for this key (undefined until created). */
  event?: { namespace: string; name: string };
  count: number;
  firstTimestamp: string;
  /** Serialises writes of one key so a repeat never races its own create. */
  chain: Promise<void>;
  /** A write is queued and has not started: a repeat only bumps `count`, which that write will carry. */
  queued: boolean;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** reportingComponent and source.component. Default `sgp-operator`. */
  component?: string;
  /** reportingInstance (pod name); default the component. */
  instance?: string;
  clock?: TimerClock;
  log: Logger;
}

export interface FlushableEventRecorder extends EventRecorder {
  /** Resolves when every write issued so far has finished (tests, shutdown). */
  flush(): Promise<void>;
}

export function createEventRecorder(options: EventRecorderOptions): FlushableEventRecorder {
  const client = options.client;
  const component = options.component ?? 'sgp-operator';
  const instance = options.instance ?? component;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ component: 'event-recorder' });
  const aggregates = new Map<string, Aggregate>();
  const buckets = new Map<string, TokenBucket<string>>();
  /** The keys of `aggregates` and `buckets` by object (kind/namespace/name), for forget(). */
  const keysByObject = new Map<string, Set<string>>();
  const remember = (object: string, key: string) => {
    let keys = keysByObject.get(object);
    if (keys === undefined) keysByObject.set(object, (keys = new Set()));
    keys.add(key);
  };
  /** Least recently used first out, and out of the index too. */
  const trim = <V>(map: Map<string, V>) => {
    while (map.size > EVENT_CACHE_SIZE) {
      const oldest = map.keys().next();
      if (oldest.done) return;
      map.delete(oldest.value);
      const object = objectOfKey(oldest.value);
      const keys = keysByObject.get(object);
      keys?.delete(oldest.value);
      if (keys?.size === 0) keysByObject.delete(object);
    }
  };
  const pending = new Set<Promise<void>>();

  const write = async (object: KubeObject, type: EventType, reason: string, message: string, aggregate: Aggregate) => {
    aggregate.queued = false;
    const now = new Date(clock.now()).toISOString();
    const { metadata } = object;
    if (aggregate.event) {
      try {
        await client.mergePatch(EVENT_KIND, `${aggregate.event.namespace}/${aggregate.event.name}`, {
          count: aggregate.count,
          lastTimestamp: now,
        });
        return;
      } catch (error) {
        if (!(error instanceof KubeNotFoundError)) throw error;
        // The Event expired (events have a TTL) or was deleted: start a new one with the running count.
      }
    }
    const namespace = metadata.namespace || 'default';
    const name = `${metadata.name}.${clock.now().toString(16)}${randomBytes(2).toString('hex')}`;
    const event: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        ...(object.apiVersion ? { apiVersion: object.apiVersion } : {}),
        ...(object.kind ? { kind: object.kind } : {}),
        name: metadata.name,
        ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
        ...(metadata.uid ? { uid: metadata.uid } : {}),
        ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
      },
      type,
      reason,
      message,
      count: aggregate.count,
      firstTimestamp: aggregate.firstTimestamp,
      lastTimestamp: now,
      source: { component },
      reportingComponent: component,
      reportingInstance: instance,
    };
    await client.create(EVENT_KIND, event);
    aggregate.event = { namespace, name };
  };

  return {
    event(object, type, reason, message) {
      const { metadata } = object;
      const identity = objectIdentity(object.kind ?? '', metadata.namespace ?? '', metadata.name);
      const objectKey = `${identity}/${metadata.uid ?? ''}`;
      let bucket = buckets.get(objectKey);
      if (!bucket) {
        bucket = new TokenBucket<string>(EVENT_REFILL_PER_SECOND, EVENT_BURST_PER_OBJECT);
        buckets.set(objectKey, bucket);
        remember(identity, objectKey);
        trim(buckets);
      }
      if (!bucket.tryTake(clock.now())) {
        eventsDroppedTotal.inc();
        return;
      }
      const key = `${objectKey}\u0000${type}\u0000${reason}\u0000${message}`;
      let aggregate = aggregates.get(key);
      if (aggregate) {
        aggregates.delete(key); // re-insert: Map order is our LRU order
        aggregate.count += 1;
      } else {
        aggregate = {
          count: 1,
          firstTimestamp: new Date(clock.now()).toISOString(),
          chain: Promise.resolve(),
          queued: false,
        };
      }
      aggregates.set(key, aggregate);
      remember(identity, key);
      trim(aggregates);
      if (aggregate.queued) return;
      aggregate.queued = true;
      const current = aggregate;
      const run = current.chain.then(() => write(object, type, reason, message, current));
      const settled = run.catch((error: unknown) => {
        eventsDroppedTotal.inc();
        log.warn('could not record event', { error, reason, object: objectKey });
      });
      current.chain = settled;
      pending.add(settled);
      void settled.finally(() => pending.delete(settled));
    },
    forget(kind, namespace, name) {
      const identity = objectIdentity(kind, namespace, name);
      for (const key of keysByObject.get(identity) ?? []) {
        // A write already queued still happens; it holds its own reference to the aggregate.
        aggregates.delete(key);
        buckets.delete(key);
      }
      keysByObject.delete(identity);
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

/**
 * A reference for events about a node. kubectl describe node looks events up with involvedObject.uid set to
 * the node's name (the kubelet's convention), so node events use the name as uid to show up there.
 */
export function nodeEventTarget(nodeName: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, uid: nodeName } };
}

/**
 * Events about objects reconciled again and again with the same verdict (a Node on every update, a failing
 * trunk on every retry): an event goes out only when its type or message differs from the last one sent for
 * the same object and reason, so an unchanged verdict costs no write. `forget(name)` when the object is gone
 * drops both this memory and the recorder's (a new object of that name is told again).
 */
export class ChangedEventSender {
  readonly #recorder: EventRecorder;
  readonly #target: (name: string) => KubeObject;
  /** object name → reason → the last (type, message) sent. */
  readonly #last = new Map<string, Map<string, string>>();

  constructor(recorder: EventRecorder, target: (name: string) => KubeObject) {
    this.#recorder = recorder;
    this.#target = target;
  }

  send(name: string, type: EventType, reason: string, message: string): void {
    const fingerprint = `${type}\u0000${message}`;
    let sent = this.#last.get(name);
    if (sent === undefined) this.#last.set(name, (sent = new Map()));
    if (sent.get(reason) === fingerprint) return;
    sent.set(reason, fingerprint);
    this.#recorder.event(this.#target(name), type, reason, message);
  }

  forget(name: string): void {
    this.#last.delete(name);
    const { kind, metadata } = this.#target(name);
    this.#recorder.forget(kind ?? '', metadata.namespace ?? '', name);
  }
}

/** `kind/namespace/name`: what forget() is given. Keys extend it with `/uid` (buckets) and `\u0000…` (aggregates). */
function objectIdentity(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** The identity a bucket or aggregate key starts with (kind, namespace and name never hold a slash). */
function objectOfKey(key: string): string {
  const end = key.indexOf('/', key.indexOf('/', key.indexOf('/') + 1) + 1);
  return end < 0 ? key : key.slice(0, end);
}
