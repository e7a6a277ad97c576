/**
 * The KubeClient (types.ts) over the transport: live reads, create, merge/JSON patches with an explicit
 * Content-Type, status patches, deletes with a uid precondition. Optimistic concurrency: a merge patch that
 * carries `metadata.resourceVersion` is rejected by the apiserver with 409 when the object moved on, which
 * surfaces here as KubeConflictError.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeConflictError, KubeNotFoundError } from './errors.ts';
import { keyFor, splitKey } from './keys.ts';
import { CONTENT_TYPE, apiVersionFor, createKubeTransport, resourcePath } from './transport.ts';
import type { KubeTransport } from './transport.ts';
import type { JsonPatchOperation, KubeClient, KubeObject, ObjectKey, ResourceKind } from './types.ts';

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continueToken: string | undefined;
}

interface ListBody<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/** Page size for lists: large enough to keep round trips few, small enough to bound one response. */
export const LIST_PAGE_SIZE = 500;

/** One page of a list. Items get apiVersion and kind filled in (list items arrive without them). */
export async function listPage<T extends KubeObject>(
  transport: KubeTransport,
  kind: ResourceKind,
  options: {
    namespace?: string;
    labelSelector?: string;
    fieldSelector?: string;
    continueToken?: string;
    limit?: number;
    signal?: AbortSignal;
  },
): Promise<ListPage<T>> {
  const body = await transport.request<ListBody<T>>(
    'GET',
    resourcePath(kind, options.namespace ? { namespace: options.namespace } : {}),
    { kind, verb: 'list', ...(options.namespace ? { key: `${options.namespace}/*` } : {}) },
    {
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit ?? LIST_PAGE_SIZE,
        continue: options.continueToken,
      },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const apiVersion = apiVersionFor(kind);
  const items = (body.items ?? []).map((item) => ({ ...item, apiVersion, kind: kind.kind }));
  return {
    items,
    resourceVersion: body.metadata?.resourceVersion ?? '',
    continueToken: body.metadata?.continue || undefined,
  };
}

export function createKubeClient(kubeConfig: KubeConfig): KubeClient & { readonly transport: KubeTransport } {
  return clientOver(createKubeTransport(kubeConfig));
}

export function clientOver(transport: KubeTransport): KubeClient & { readonly transport: KubeTransport } {
  const target = (kind: ResourceKind, key: ObjectKey, subresource?: string) => {
    const { namespace, name } = splitKey(key);
    if (kind.namespaced && !namespace) {
      throw new KubeNotFoundError(`${kind.kind} is namespaced; key "${key}" must be "namespace/name"`, {
        kind,
        key,
        statusCode: 0,
      });
    }
    return resourcePath(kind, { ...(namespace ? { namespace } : {}), name, ...(subresource ? { subresource } : {}) });
  };
  const withRv = (body: object, resourceVersion?: string): object => {
    if (!resourceVersion) return body;
    const metadata = (body as { metadata?: object }).metadata ?? {};
    return { ...body, metadata: { ...metadata, resourceVersion } };
  };

  return {
    transport,
    async get<T extends KubeObject>(kind: ResourceKind, key: ObjectKey): Promise<T | undefined> {
      try {
        return await transport.request<T>('GET', target(kind, key), { kind, key, verb: 'get' });
      } catch (error) {
        if (error instanceof KubeNotFoundError) return undefined;
        throw error;
      }
    },

    async list<T extends KubeObject>(
      kind: ResourceKind,
      options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
    ): Promise<T[]> {
      const items: T[] = [];
      let continueToken: string | undefined;
      do {
        const page = await listPage<T>(transport, kind, { ...options, ...(continueToken ? { continueToken } : {}) });
        items.push(...page.items);
        continueToken = page.continueToken;
      } while (continueToken);
      return items;
    },

    async create<T extends KubeObject>(kind: ResourceKind, object: T): Promise<T> {
      const namespace = kind.namespaced ? object.metadata.namespace : undefined;
      const key = keyFor(namespace, object.metadata.name);
      const body = { ...object, apiVersion: apiVersionFor(kind), kind: kind.kind };
      return transport.request<T>(
        'POST',
        resourcePath(kind, namespace ? { namespace } : {}),
        { kind, key, verb: 'create' },
        {
          body,
        },
      );
    },

    async mergePatch<T extends KubeObject>(
      kind: ResourceKind,
      key: ObjectKey,
      patch: object,
      options: { resourceVersion?: string } = {},
    ): Promise<T> {
      return transport.request<T>(
        'PATCH',
        target(kind, key),
        { kind, key, verb: 'patch' },
        {
          body: withRv(patch, options.resourceVersion),
          contentType: CONTENT_TYPE.mergePatch,
        },
      );
    },

    async jsonPatch<T extends KubeObject>(
      kind: ResourceKind,
      key: ObjectKey,
      operations: JsonPatchOperation[],
    ): Promise<T> {
      return transport.request<T>(
        'PATCH',
        target(kind, key),
        { kind, key, verb: 'patch' },
        {
          body: operations,
          contentType: CONTENT_TYPE.jsonPatch,
        },
      );
    },

    async mergePatchStatus<T extends KubeObject>(
      kind: ResourceKind,
      key: ObjectKey,
      status: object,
      options: { resourceVersion?: string } = {},
    ): Promise<T> {
      return transport.request<T>(
        'PATCH',
        target(kind, key, 'status'),
        { kind, key, verb: 'patch status of' },
        {
          body: withRv({ status }, options.resourceVersion),
          contentType: CONTENT_TYPE.mergePatch,
        },
      );
    },

    async delete(kind: ResourceKind, key: ObjectKey, options: { uid?: string } = {}): Promise<void> {
      try {
        await transport.request(
          'DELETE',
          target(kind, key),
          { kind, key, verb: 'delete' },
          {
            body: {
              apiVersion: 'v1',
              kind: 'DeleteOptions',
              propagationPolicy: 'Background',
              ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
            },
          },
        );
      } catch (error) {
        if (error instanceof KubeNotFoundError) return;
        // A failed uid precondition means the object we meant is gone and a namesake took its place.
        if (error instanceof KubeConflictError && options.uid) return;
        throw error;
      }
    },
  };
}
