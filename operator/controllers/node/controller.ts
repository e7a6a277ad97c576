/**
 * NodeReconciler (key: node name). For every Node it keeps a CNINode (./cninode.ts); for nodes that are
 * eligible (./eligibility.ts) it keeps a TrunkInterface, and once that trunk is Ready it advertises the
 * `vpc.amazonaws.com/pod-eni` capacity (./capacity.ts). When the Node is gone, the CNINode finalizer runs
 * the node termination cleanup (./termination.ts). A node that stops asking for a trunk loses only its
 * capacity: its TrunkInterface, trunk and running pods' branch ENIs stay (docs/lifecycle.md).
 *
 * Watches (declared in registerNodeController): Nodes (own key), CNINodes (same name: the VPC CNI patching
 * in its feature, or a user deleting it), TrunkInterfaces (by spec.nodeName: a trunk turning Ready is when
 * capacity is advertised).
 */
import { CNINODE_FINALIZER, TAG, TRUNK_FINALIZER } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { CNINode, TrunkInterface } from '../../api/types.ts';
import { hasFinalizer, KubeConflictError, removeFinalizer } from '../../framework/index.ts';
import type { KubeClient, Reader, ReconcileContext, ReconcileResult, Reconciler } from '../../framework/types.ts';
import type { Ec2Api } from '../../aws/index.ts';
import type { LimitsProvider } from '../../limits/index.ts';
import { nodesManaged } from '../../observability/metrics.ts';
import type { ClusterSettings } from '../deps.ts';
import { podEniCapacityPatch } from './capacity.ts';
import { cniNodeRepairPatch, desiredCniNode, nodeOwnerReference } from './cninode.ts';
import { nodeEligibility, type Eligibility } from './eligibility.ts';
import type { NodeEvents } from './events.ts';
import { instanceIdOf, instanceTypeOf, type NodeObject } from './node-object.ts';
import { deleteAvailableEnisOfInstance } from './termination.ts';

export interface NodeReconcilerDeps {
  client: KubeClient;
  ec2: Ec2Api;
  limits: LimitsProvider;
  cluster: ClusterSettings;
  events: NodeEvents;
  nodes: Reader<NodeObject>;
  cniNodes: Reader<CNINode>;
  trunks: Reader<TrunkInterface>;
}

export class NodeReconciler implements Reconciler {
  readonly #deps: NodeReconcilerDeps;
  /** Names of managed nodes, for the gauge. */
  readonly #managed = new Set<string>();

  constructor(deps: NodeReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(name: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const node = deps.nodes.get(name);
    if (node === undefined) {
      await this.#nodeGone(name, context);
      return {};
    }
    const cniNode = await this.#ensureCniNode(node, deps.cniNodes.get(name), context);

    const instanceType = instanceTypeOf(node);
    const limits =
      instanceType !== undefined ? await deps.limits.get(instanceType, { signal: context.signal }) : undefined;
    const eligibility = nodeEligibility({ node, cniNode, limits });

    if (eligibility.managed) {
      this.#setManaged(name, true);
      const trunk = await this.#ensureTrunkInterface(node, eligibility, context);
      // Capacity only once the trunk is Ready (a pod scheduled earlier would wait for a branch ENI), and left
      // alone while a Ready trunk is re-verified, so the resource does not flap.
      if (trunk?.status?.state === 'Ready') await this.#patchCapacity(node, eligibility.limits.branchEnis, context);
    } else {
      this.#setManaged(name, false);
      if (eligibility.event !== undefined) deps.events.verdict(name, eligibility.event);
      if (await this.#patchCapacity(node, undefined, context)) {
        deps.events.unmanaged(
          name,
          `node ${name} no longer asks for a trunk ENI (${eligibility.message}); withdrew the ${'vpc.amazonaws.com/pod-eni'} capacity, the trunk stays attached and running pods keep their branch ENIs`,
        );
      }
    }
    return {};
  }

  /** Creates or repairs the CNINode; returns the one to read features from (undefined while it is replaced). */
  async #ensureCniNode(
    node: NodeObject,
    existing: CNINode | undefined,
    context: ReconcileContext,
  ): Promise<CNINode | undefined> {
    const deps = this.#deps;
    const name = node.metadata.name;
    const desired = desiredCniNode(node, deps.cluster.clusterName);
    if (existing === undefined) {
      try {
        const created = await deps.client.create<CNINode>(Kinds.CNINode, desired);
        context.log.info('created cninode', { node: name });
        return created;
      } catch (error) {
        // AlreadyExists: our cache is behind a CNINode that exists; its watch event brings us back.
        if (error instanceof KubeConflictError) return undefined;
        deps.events.cniNodeCreationFailed(name, error);
        throw error;
      }
    }
    // A CNINode another controller manages (EKS Auto Mode) is left exactly as it is: no finalizer, no tags.
    const managedBy = existing.spec?.managedBy;
    if (managedBy !== undefined && managedBy !== 'vpc-resource-controller') return existing;
    const owner = existing.metadata.ownerReferences?.find((ref) => ref.kind === 'Node');
    const ownedByThisNode = owner === undefined || owner.uid === node.metadata.uid;
    if (existing.metadata.deletionTimestamp !== undefined) {
      // Deleted while its Node exists (a user, or GC after the Node was replaced under the same name): clean
      // up after the old instance if it was another one, let the object go, and recreate it on the next pass.
      const oldInstance = existing.spec?.tags?.[TAG.instanceId];
      if (
        hasFinalizer(existing, CNINODE_FINALIZER) &&
        oldInstance !== undefined &&
        oldInstance !== instanceIdOf(node)
      ) {
        await deleteAvailableEnisOfInstance(deps.ec2, { instanceId: oldInstance, vpcId: deps.cluster.vpcId }, context);
      }
      await removeFinalizer(deps.client, Kinds.CNINode, existing, CNINODE_FINALIZER);
      return undefined;
    }
    if (!ownedByThisNode) {
      // The Node was recreated under the same name: the old CNINode belongs to a Node that no longer exists.
      await deps.client.delete(Kinds.CNINode, name, existing.metadata.uid ? { uid: existing.metadata.uid } : {});
      return undefined;
    }
    const patch = cniNodeRepairPatch(existing, desired);
    if (patch === undefined) return existing;
    const options = existing.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {};
    const repaired = await deps.client.mergePatch<CNINode>(Kinds.CNINode, name, patch, options);
    context.log.info('repaired cninode', { node: name });
    return repaired;
  }

  async #ensureTrunkInterface(
    node: NodeObject,
    eligibility: Extract<Eligibility, { managed: true }>,
    context: ReconcileContext,
  ): Promise<TrunkInterface | undefined> {
    const deps = this.#deps;
    const name = node.metadata.name;
    const existing = deps.trunks.get(name);
    // One being deleted, or left from a Node of the same name, is finalized by the trunk controller first.
    if (existing !== undefined) return existing;
    const trunk: TrunkInterface = {
      apiVersion: 'trunking.sgp-operator.io/v1alpha1',
      kind: 'TrunkInterface',
      metadata: { name, ownerReferences: [nodeOwnerReference(node)], finalizers: [TRUNK_FINALIZER] },
      spec: { nodeName: name, instanceId: eligibility.instanceId, instanceType: eligibility.instanceType },
    };
    try {
      const created = await deps.client.create<TrunkInterface>(Kinds.TrunkInterface, trunk);
      context.log.info('created trunk interface', {
        node: name,
        instance: eligibility.instanceId,
        optIn: eligibility.optIn,
      });
      return created;
    } catch (error) {
      if (error instanceof KubeConflictError) return undefined;
      throw error;
    }
  }

  /** Applies the capacity patch if one is needed; true when it wrote. */
  async #patchCapacity(node: NodeObject, branchEnis: number | undefined, context: ReconcileContext): Promise<boolean> {
    const patch = podEniCapacityPatch(node, branchEnis);
    if (patch === undefined) return false;
    await this.#deps.client.mergePatchStatus(Kinds.Node, node.metadata.name, patch);
    context.log.info('patched pod-eni capacity', { node: node.metadata.name, capacity: branchEnis ?? null });
    return true;
  }

  /**
   * The Node is gone. Kubernetes GC deletes the CNINode through its owner reference; we delete it too, so
   * the cleanup does not depend on kube-controller-manager, after a live GET proves the Node is really gone.
   * Its finalizer then runs the termination cleanup for the instance named in its tags.
   */
  async #nodeGone(name: string, context: ReconcileContext): Promise<void> {
    const deps = this.#deps;
    this.#setManaged(name, false);
    deps.events.forget(name);
    const cniNode = deps.cniNodes.get(name);
    if (cniNode === undefined) return;
    if ((await deps.client.get<NodeObject>(Kinds.Node, name)) !== undefined) return; // cache behind

    if (cniNode.metadata.deletionTimestamp === undefined) {
      await deps.client.delete(Kinds.CNINode, name, cniNode.metadata.uid ? { uid: cniNode.metadata.uid } : {});
      return; // the deletion's watch event brings us back for the finalizer
    }
    if (!hasFinalizer(cniNode, CNINODE_FINALIZER)) return;
    const instanceId = cniNode.spec?.tags?.[TAG.instanceId];
    if (instanceId !== undefined) {
      await deleteAvailableEnisOfInstance(deps.ec2, { instanceId, vpcId: deps.cluster.vpcId }, context);
    }
    await removeFinalizer(deps.client, Kinds.CNINode, cniNode, CNINODE_FINALIZER);
    context.log.info('cleaned up after deleted node', { node: name, instance: instanceId });
  }

  #setManaged(name: string, managed: boolean): void {
    if (managed) this.#managed.add(name);
    else this.#managed.delete(name);
    nodesManaged.set(this.#managed.size);
  }
}
