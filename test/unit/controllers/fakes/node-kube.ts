/**
 * In-memory Kubernetes for the node and trunk reconciler tests: a KubeClient over a map (RFC 7386 merge
 * patches, resourceVersion preconditions, finalizer-aware delete), Readers that read the same map (a cache
 * that is always in sync), and an EventRecorder that keeps what it was given.
 */
import type {
  ResourceKind,
  KubeClient,
  KubeObject,
  Reader,
  EventRecorder,
  EventType,
  ReconcileContext,
} from '../../../../operator/framework/index.ts';
import { KubeConflictError, KubeNotFoundError } from '../../../../operator/framework/index.ts';
import { silentLogger } from '../../../../operator/observability/logger.ts';

type Json = Record<string, unknown>;

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Json =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export class NodeFakeKube implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  readonly writes: string[] = [];
  #version = 1;
  #uid = 1;

  #id(kind: ResourceKind, key: string): string {
    return `${kind.kind}/${key}`;
  }

  /** Puts an object in as if it already existed (uid and resourceVersion filled in). */
  seed<T extends KubeObject>(kind: ResourceKind, object: T): T {
    const stored = structuredClone(object);
    stored.metadata.uid ??= `uid-${this.#uid++}`;
    stored.metadata.resourceVersion = String(this.#version++);
    stored.metadata.generation ??= 1;
    this.objects.set(this.#id(kind, keyOf(stored)), stored);
    return structuredClone(stored);
  }

  reader<T extends KubeObject>(kind: ResourceKind, indexers: Record<string, (o: T) => string[]> = {}): Reader<T> {
    const all = (): T[] =>
      [...this.objects.entries()]
        .filter(([id]) => id.startsWith(`${kind.kind}/`))
        .map(([, o]) => structuredClone(o) as T);
    return {
      get: (key) => {
        const object = this.objects.get(this.#id(kind, key));
        return object === undefined ? undefined : (structuredClone(object) as T);
      },
      list: () => all(),
      byIndex: (name, value) => {
        const fn = indexers[name];
        if (fn === undefined) throw new Error(`no index ${name}`);
        return all().filter((o) => fn(o).includes(value));
      },
      hasSynced: () => true,
    };
  }

  async get<T extends KubeObject>(kind: ResourceKind, key: string): Promise<T | undefined> {
    const object = this.objects.get(this.#id(kind, key));
    return object === undefined ? undefined : (structuredClone(object) as T);
  }

  async list<T extends KubeObject>(kind: ResourceKind): Promise<T[]> {
    return this.reader<T>(kind).list() as T[];
  }

  async create<T extends KubeObject>(kind: ResourceKind, object: T): Promise<T> {
    if (this.objects.has(this.#id(kind, keyOf(object))))
      throw new KubeConflictError('already exists', { kind, key: keyOf(object), statusCode: 409 });
    this.writes.push(`create ${kind.kind}/${keyOf(object)}`);
    return this.seed(kind, object);
  }

  async mergePatch<T extends KubeObject>(
    kind: ResourceKind,
    key: string,
    patch: object,
    options: { resourceVersion?: string } = {},
  ): Promise<T> {
    this.writes.push(`patch ${kind.kind}/${key}`);
    return this.#patch<T>(kind, key, patch, options);
  }

  async jsonPatch<T extends KubeObject>(): Promise<T> {
    throw new Error('jsonPatch is not used by the node and trunk controllers');
  }

  async mergePatchStatus<T extends KubeObject>(
    kind: ResourceKind,
    key: string,
    status: object,
    options: { resourceVersion?: string } = {},
  ): Promise<T> {
    this.writes.push(`patch-status ${kind.kind}/${key}`);
    return this.#patch<T>(kind, key, { status }, options);
  }

  async delete(kind: ResourceKind, key: string, options: { uid?: string } = {}): Promise<void> {
    const id = this.#id(kind, key);
    const object = this.objects.get(id);
    if (object === undefined) return;
    if (options.uid !== undefined && object.metadata.uid !== options.uid)
      throw new KubeConflictError('uid precondition', { kind, key, statusCode: 409 });
    this.writes.push(`delete ${kind.kind}/${key}`);
    if ((object.metadata.finalizers ?? []).length > 0) {
      object.metadata.deletionTimestamp ??= '2026-01-01T00:00:00Z';
      object.metadata.resourceVersion = String(this.#version++);
    } else {
      this.objects.delete(id);
    }
  }

  #patch<T extends KubeObject>(
    kind: ResourceKind,
    key: string,
    patch: object,
    options: { resourceVersion?: string },
  ): T {
    const id = this.#id(kind, key);
    const current = this.objects.get(id);
    if (current === undefined) throw new KubeNotFoundError('not found', { kind, key, statusCode: 404 });
    if (options.resourceVersion !== undefined && options.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeConflictError('resourceVersion moved', { kind, key, statusCode: 409 });
    }
    const next = mergePatch(current, patch) as T;
    next.metadata.resourceVersion = String(this.#version++);
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(id);
    } else {
      this.objects.set(id, next);
    }
    return structuredClone(next);
  }
}

function keyOf(object: KubeObject): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
}

export interface RecordedEvent {
  kind: string | undefined;
  name: string;
  type: EventType;
  reason: string;
  message: string;
}

export class NodeFakeRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ kind: object.kind, name: object.metadata.name, type, reason, message });
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

export function reconcileContext(): ReconcileContext {
  return { signal: new AbortController().signal, log: silentLogger, reconcileId: 'test' };
}
