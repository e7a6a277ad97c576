/**
 * The cluster as `kubectl sgp` reads it: the kubeconfig and context like any kubectl plugin (--kubeconfig,
 * else KUBECONFIG, else ~/.kube/config, else in-cluster; --context, else the current one; -n, else the
 * context's namespace, else "default"), and the operator's own client (framework/client.ts) for the reads.
 * Live reads only; nothing is written.
 */
import { KubeConfig } from '@kubernetes/client-node';

import { Kinds } from '../operator/api/kinds.ts';
import type { LeanPod } from '../operator/api/pod.ts';
import { toLeanPod } from '../operator/api/pod.ts';
import type {
  BranchInterface,
  CNINode,
  SecurityGroupGrant,
  SecurityGroupPolicy,
  TrunkInterface,
} from '../operator/api/types.ts';
import type { NodeObject } from '../operator/controllers/node/index.ts';
import { createKubeClient, KubeApiError, keyFor } from '../operator/framework/index.ts';
import type { KubeClient, KubeObject, ResourceKind } from '../operator/framework/types.ts';
import { generatedLimits, toInstanceTypeLimits, type InstanceTypeLimits } from '../operator/limits/index.ts';
import type { EventSummary } from './explain/pod.ts';
import { UsageError } from './errors.ts';

export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface Cluster {
  client: KubeClient;
  /** -n, else the context's namespace, else "default". */
  namespace: string;
  context: string;
}

export function connect(flags: ConnectionFlags): Cluster {
  const kubeConfig = new KubeConfig();
  if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (flags.context) {
    if (!kubeConfig.getContextObject(flags.context)) {
      const known = kubeConfig.getContexts().map((context) => context.name);
      throw new UsageError(
        `context "${flags.context}" is not in the kubeconfig (it has: ${known.join(', ') || 'none'})`,
      );
    }
    kubeConfig.setCurrentContext(flags.context);
  }
  const context = kubeConfig.getCurrentContext();
  const namespace = flags.namespace || kubeConfig.getContextObject(context)?.namespace || 'default';
  return { client: createKubeClient(kubeConfig), namespace, context };
}

/** What a read that RBAC (or a missing CRD) refused leaves: an empty answer and a note saying so. */
export class Reads {
  readonly notes: string[] = [];
  readonly #client: KubeClient;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** A live GET that must succeed; absent objects are undefined. */
  get<T extends KubeObject>(kind: ResourceKind, key: string): Promise<T | undefined> {
    return this.#client.get<T>(kind, key);
  }

  /** A GET the explanation can do without: a refusal becomes a note. */
  async optionalGet<T extends KubeObject>(kind: ResourceKind, key: string): Promise<T | undefined> {
    try {
      return await this.#client.get<T>(kind, key);
    } catch (error) {
      this.#note(kind, error);
      return undefined;
    }
  }

  /** A LIST the explanation can do without: a refusal becomes a note and an empty list. */
  async optionalList<T extends KubeObject>(
    kind: ResourceKind,
    options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<T[]> {
    try {
      return await this.#client.list<T>(kind, options);
    } catch (error) {
      this.#note(kind, error);
      return [];
    }
  }

  /** A LIST RBAC may refuse when the caller has a narrower one to fall back on: undefined then, and no note. */
  async listIfAllowed<T extends KubeObject>(
    kind: ResourceKind,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<T[] | undefined> {
    try {
      return await this.#client.list<T>(kind, options);
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 403) return undefined;
      throw error;
    }
  }

  #note(kind: ResourceKind, error: unknown): void {
    if (!(error instanceof KubeApiError) || ![403, 404].includes(error.statusCode)) throw error;
    const why = error.statusCode === 403 ? 'not allowed to read them' : 'the API server does not serve them';
    this.notes.push(`${kind.plural}: ${why}; what depends on them is left out`);
  }
}

export function readPod(reads: Reads, namespace: string, name: string): Promise<LeanPod | undefined> {
  return reads.get<LeanPod & KubeObject>(Kinds.Pod, keyFor(namespace, name)).then((pod) => pod && toLeanPod(pod));
}

export async function namespaceLabels(reads: Reads, namespace: string): Promise<Record<string, string> | undefined> {
  return (await reads.optionalGet<KubeObject>(Kinds.Namespace, namespace))?.metadata.labels;
}

export function policiesOf(reads: Reads, namespace: string): Promise<SecurityGroupPolicy[]> {
  return reads.optionalList<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, { namespace });
}

export function grantsOf(reads: Reads): Promise<SecurityGroupGrant[]> {
  return reads.optionalList<SecurityGroupGrant>(Kinds.SecurityGroupGrant);
}

/** Every BranchInterface of the cluster (no server-side selector exists for spec.nodeName). */
export function branchesOf(reads: Reads): Promise<BranchInterface[]> {
  return reads.optionalList<BranchInterface>(Kinds.BranchInterface);
}

export interface NodeObjects {
  node: NodeObject | undefined;
  cniNode: CNINode | undefined;
  trunk: TrunkInterface | undefined;
}

export async function nodeObjects(reads: Reads, name: string): Promise<NodeObjects> {
  const [node, cniNode, trunk] = await Promise.all([
    reads.optionalGet<NodeObject>(Kinds.Node, name),
    reads.optionalGet<CNINode>(Kinds.CNINode, name),
    reads.optionalGet<TrunkInterface>(Kinds.TrunkInterface, name),
  ]);
  return { node, cniNode, trunk };
}

/** The operator's table entry for an instance type (overrides live in the operator's ConfigMap, not here). */
export function tableLimits(instanceType: string | undefined): InstanceTypeLimits | undefined {
  if (!instanceType) return undefined;
  const table = generatedLimits();
  const row = Object.hasOwn(table.instanceTypes, instanceType) ? table.instanceTypes[instanceType] : undefined;
  return row ? toInstanceTypeLimits(instanceType, row) : undefined;
}

interface CoreEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
}

/** The events about one object (by UID), as shown. */
export async function eventsAbout(reads: Reads, namespace: string, uid: string): Promise<EventSummary[]> {
  const events = await reads.optionalList<CoreEvent>(Kinds.Event, {
    namespace,
    fieldSelector: `involvedObject.uid=${uid}`,
  });
  return events.map((event) => ({
    type: event.type ?? '',
    reason: event.reason ?? '',
    message: event.message ?? '',
    count: event.series?.count ?? event.count ?? 1,
    lastSeen:
      event.series?.lastObservedTime ??
      event.lastTimestamp ??
      event.eventTime ??
      event.metadata.creationTimestamp ??
      '',
  }));
}
