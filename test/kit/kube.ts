/**
 * In-memory Kubernetes for reconciler unit tests: a KubeClient over a map (RFC 7386 merge patches, RFC 6902
 * JSON patches with `test`, resourceVersion and uid preconditions, finalizer-aware delete, scripted failures),
 * namespace-aware Readers over the same map (a cache that is always in sync, or frozen with `freezeCache` to
 * show what happens when the informer lags the writes), an EventRecorder that keeps what it was given, and a
 * ReconcileContext. The one fake of the Kubernetes side; EC2's is ./ec2.ts.
 */
import type {
  EventRecorder,
  EventType,
  JsonPatchOperation,
  KubeClient,
  KubeObject,
  ObjectKey,
  Reader,
  ReconcileContext,
  ResourceKind,
} from '../../operator/framework/index.ts';
import { KubeApiError, KubeConflictError, KubeNotFoundError } from '../../operator/framework/index.ts';
import { silentLogger } from '../../operator/observability/logger.ts';

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

function keyOf(object: KubeObject): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Applies RFC 6902 operations (object members only: all the operator uses). */
function applyJsonPatch(document: Json, operations: JsonPatchOperation[], kind: ResourceKind, key: string): Json {
  const result = structuredClone(document);
  for (const operation of operations) {
    const tokens = operation.path.split('/').slice(1).map(unescape);
    const last = tokens.pop() ?? '';
    let parent: Json | undefined = result;
    for (const token of tokens) parent = parent?.[token] as Json | undefined;
    const fail = (why: string) =>
      new KubeApiError(`json patch ${operation.op} ${operation.path}: ${why}`, { kind, key, statusCode: 422 });
    if (parent === undefined || typeof parent !== 'object') throw fail('missing parent');
    if (operation.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(operation.value)) throw fail('test failed');
    } else if (operation.op === 'remove') {
      if (!(last in parent)) throw fail('missing member');
      delete parent[last];
    } else {
      if (operation.op === 'replace' && !(last in parent)) throw fail('missing member');
      parent[last] = structuredClone(operation.value);
    }
  }
  return result;
}

export class FakeKube implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  readonly writes: string[] = [];
  /** Errors to throw from the next calls of a method. */
  readonly failures = new Map<string, Error[]>();
  #frozen: Map<string, KubeObject> | undefined;
  #version = 1;
  #uid = 1;

  #id(kind: ResourceKind, key: string): string {
    return `${kind.kind}/${key}`;
  }

  failNext(method: 'create' | 'mergePatch' | 'jsonPatch' | 'mergePatchStatus' | 'delete', error: Error): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  #maybeFail(method: string): void {
    const error = this.failures.get(method)?.shift();
    if (error) throw error;
  }

  /** Readers serve the objects as they are now until `thawCache()`, whatever is written meanwhile. */
  freezeCache(): void {
    this.#frozen = new Map([...this.objects].map(([id, object]) => [id, structuredClone(object)]));
  }

  thawCache(): void {
    this.#frozen = undefined;
  }

  seed<T extends KubeObject>(kind: ResourceKind, object: T): T {
    const stored = structuredClone(object);
    stored.metadata.uid ??= `uid-${this.#uid++}`;
    stored.metadata.resourceVersion = String(this.#version++);
    stored.metadata.generation ??= 1;
    stored.metadata.creationTimestamp ??= '2026-01-01T00:00:00Z';
    this.objects.set(this.#id(kind, keyOf(stored)), stored);
    return structuredClone(stored);
  }

  stored<T extends KubeObject>(kind: ResourceKind, key: ObjectKey): T | undefined {
    const object = this.objects.get(this.#id(kind, key));
    return object === undefined ? undefined : (structuredClone(object) as T);
  }

  remove(kind: ResourceKind, key: ObjectKey): void {
    this.objects.delete(this.#id(kind, key));
  }

  reader<T extends KubeObject>(
    kind: ResourceKind,
    indexers: Record<string, (o: T) => string[]> = {},
    transform: (o: T) => T = (o) => o,
  ): Reader<T> {
    const source = () => this.#frozen ?? this.objects;
    const all = (namespace?: string): T[] =>
      [...source().entries()]
        .filter(([id]) => id.startsWith(`${kind.kind}/`))
        .map(([, o]) => transform(structuredClone(o) as T))
        .filter((o) => namespace === undefined || o.metadata.namespace === namespace);
    return {
      get: (key) => {
        const object = source().get(this.#id(kind, key));
        return object === undefined ? undefined : transform(structuredClone(object) as T);
      },
      list: (namespace) => all(namespace),
      byIndex: (name, value) => {
        const fn = indexers[name];
        if (fn === undefined) throw new Error(`no index ${name}`);
        return all().filter((o) => fn(o).includes(value));
      },
      hasSynced: () => true,
    };
  }

  async get<T extends KubeObject>(kind: ResourceKind, key: string): Promise<T | undefined> {
    return this.stored<T>(kind, key);
  }

  /** Live, like get: a frozen cache does not hold it back. */
  async list<T extends KubeObject>(kind: ResourceKind, options: { namespace?: string } = {}): Promise<T[]> {
    return [...this.objects.entries()]
      .filter(([id]) => id.startsWith(`${kind.kind}/`))
      .map(([, object]) => structuredClone(object) as T)
      .filter((object) => options.namespace === undefined || object.metadata.namespace === options.namespace);
  }

  async create<T extends KubeObject>(kind: ResourceKind, object: T): Promise<T> {
    this.#maybeFail('create');
    if (this.objects.has(this.#id(kind, keyOf(object)))) {
      throw new KubeConflictError('already exists', { kind, key: keyOf(object), statusCode: 409 });
    }
    this.writes.push(`create ${kind.kind}/${keyOf(object)}`);
    return this.seed(kind, object);
  }

  async mergePatch<T extends KubeObject>(
    kind: ResourceKind,
    key: string,
    patch: object,
    options: { resourceVersion?: string } = {},
  ): Promise<T> {
    this.#maybeFail('mergePatch');
    this.writes.push(`patch ${kind.kind}/${key}`);
    return this.#replace<T>(kind, key, (current) => mergePatch(current, patch) as T, options);
  }

  async jsonPatch<T extends KubeObject>(kind: ResourceKind, key: string, operations: JsonPatchOperation[]): Promise<T> {
    this.#maybeFail('jsonPatch');
    this.writes.push(`json-patch ${kind.kind}/${key}`);
    return this.#replace<T>(
      kind,
      key,
      (current) => applyJsonPatch(current as unknown as Json, operations, kind, key) as unknown as T,
      {},
    );
  }

  async mergePatchStatus<T extends KubeObject>(
    kind: ResourceKind,
    key: string,
    status: object,
    options: { resourceVersion?: string } = {},
  ): Promise<T> {
    this.#maybeFail('mergePatchStatus');
    this.writes.push(`patch-status ${kind.kind}/${key}`);
    return this.#replace<T>(kind, key, (current) => mergePatch(current, { status }) as T, options);
  }

  async delete(kind: ResourceKind, key: string, options: { uid?: string } = {}): Promise<void> {
    this.#maybeFail('delete');
    const id = this.#id(kind, key);
    const object = this.objects.get(id);
    if (object === undefined) return;
    if (options.uid !== undefined && object.metadata.uid !== options.uid) {
      throw new KubeConflictError('uid precondition', { kind, key, statusCode: 409 });
    }
    this.writes.push(`delete ${kind.kind}/${key}`);
    if ((object.metadata.finalizers ?? []).length > 0) {
      object.metadata.deletionTimestamp ??= '2026-01-01T00:00:00Z';
      object.metadata.resourceVersion = String(this.#version++);
    } else {
      this.objects.delete(id);
    }
  }

  #replace<T extends KubeObject>(
    kind: ResourceKind,
    key: string,
    change: (current: T) => T,
    options: { resourceVersion?: string },
  ): T {
    const id = this.#id(kind, key);
    const current = this.objects.get(id) as T | undefined;
    if (current === undefined) throw new KubeNotFoundError('not found', { kind, key, statusCode: 404 });
    if (options.resourceVersion !== undefined && options.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeConflictError('resourceVersion moved', { kind, key, statusCode: 409 });
    }
    const next = change(structuredClone(current));
    next.metadata.resourceVersion = String(this.#version++);
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(id);
    } else {
      this.objects.set(id, next);
    }
    return structuredClone(next);
  }
}

export interface RecordedEvent {
  kind: string | undefined;
  name: string;
  uid: string | undefined;
  type: EventType;
  reason: string;
  message: string;
}

export class FakeRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({
      kind: object.kind,
      name: object.metadata.name,
      uid: object.metadata.uid,
      type,
      reason,
      message,
    });
  }
  /** Objects forgotten, as `kind/namespace/name`. */
  readonly forgotten: string[] = [];
  forget(kind: string, namespace: string, name: string): void {
    this.forgotten.push(`${kind}/${namespace}/${name}`);
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

export function reconcileContext(): ReconcileContext {
  return { signal: new AbortController().signal, log: silentLogger, reconcileId: 'test' };
}
