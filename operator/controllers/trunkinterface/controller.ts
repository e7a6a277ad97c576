/**
 * TrunkInterfaceReconciler (key: the TrunkInterface name, which is the node name). One TrunkInterface per
 * managed node, created by the node controller; this brings its trunk ENI up in EC2 (./setup.ts), follows the
 * node's pod network (./pod-network-sync.ts: where new branch ENIs go, the trunk's groups under an ENIConfig,
 * the CNINode's nodeNetworkState), keeps status (ENI, subnet and CIDRs, groups, branch capacity and use, Ready
 * and PodNetworkReady conditions), and on node deletion releases the node's branch ENIs before letting the
 * object go (./release.ts).
 *
 * Watches (declared in registerTrunkInterfaceController): TrunkInterfaces (own key), Nodes (same name: a
 * deleted node starts the release), BranchInterfaces (by spec.nodeName: branchesUsed), CNINodes (same name)
 * and ENIConfigs (every trunk: an edit is followed at once).
 */ import { isDeepStrictEqual } from 'node:util';
import { TRUNK_FINALIZER } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, CNINode, ENIConfig, TrunkInterface } from '../../api/types.ts';
import { ensureFinalizer, hasFinalizer, removeFinalizer } from '../../framework/index.ts';
import { patchStatusIfChanged } from '../../framework/index.ts';
import type {
  Clock,
  KubeClient,
  KubeObject,
  Reader,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from '../../framework/types.ts';
import type { Ec2Api } from '../../aws/index.ts';
import type { LimitsProvider } from '../../limits/index.ts';
import { trunkInterfaces, trunkSetupDurationSeconds, TRUNK_STATES } from '../../observability/metrics.ts';
import type { ClusterSettings } from '../deps.ts';
import type { PodNetwork } from '../podnetwork/settings.ts';
import type { SubnetDirectory } from '../vpcnetwork/directory.ts';
import type { TrunkEvents } from './events.ts';
import { nodeNetworkState, recheckAfterMs, withPrimaryFromCniNode } from './pod-network.ts';
import { followPodNetwork, viewPodNetwork, type PodNetworkDeps } from './pod-network-sync.ts';
import { releaseBranchEnis } from './release.ts';
import { setUpTrunk } from './setup.ts';
import { isSettled, networkEvents, networkFields, withProgress, type TrunkStatus } from './status.ts';

/** BranchInterface indexer: the node a branch belongs to. */
export const BRANCHES_BY_NODE = 'spec.nodeName';
/** A Ready trunk is re-checked against EC2 this often (one DescribeInstances + DescribeNetworkInterfaces). */
export const VERIFY_INTERVAL_MS = 15 * 60_000;

export interface TrunkReconcilerDeps {
  client: KubeClient;
  ec2: Ec2Api;
  limits: LimitsProvider;
  clock: Clock;
  cluster: ClusterSettings;
  events: TrunkEvents;
  trunks: Reader<TrunkInterface>;
  nodes: Reader<KubeObject>;
  branches: Reader<BranchInterface>;
  /** CNINodes by node name: the CNI's CustomNetworking feature, and nodeNetworkState (read and written). */
  cniNodes: Reader<CNINode>;
  /** ENIConfigs by name (an empty reader when custom networking is off). */
  eniConfigs: Pick<Reader<ENIConfig>, 'get'>;
  /** How pods are networked (IP family, dual-stack, custom networking). */
  network: PodNetwork;
  /** The VPC's CIDR blocks and pod subnets, reported in status. */
  subnets: Pick<SubnetDirectory, 'snapshot'>;
}

export class TrunkInterfaceReconciler implements Reconciler {
  readonly #deps: TrunkReconcilerDeps;
  /** UID → when this process last saw EC2 agree with a Ready status (restart trusts status: no describe storm). */
  readonly #verifiedAt = new Map<string, number>();
  /** UID → attach polls so far, for the polling back-off. */
  readonly #polls = new Map<string, number>();
  /** name → last state, for the trunks-by-state gauge. */
  readonly #states = new Map<string, string>();

  constructor(deps: TrunkReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const cached = deps.trunks.get(key);
    if (cached === undefined) {
      this.#record(key, undefined);
      return {};
    }
    const node = deps.nodes.get(cached.spec.nodeName);
    if (node === undefined || cached.metadata.deletionTimestamp !== undefined || !isOwnedBy(cached, node)) {
      await this.#finalize(cached, context);
      return {};
    }

    let trunk = (await ensureFinalizer(deps.client, Kinds.TrunkInterface, cached, TRUNK_FINALIZER)) ?? cached;
    const uid = trunk.metadata.uid ?? key;
    const limits = await deps.limits.get(trunk.spec.instanceType, { signal: context.signal });
    const counts = {
      branchesUsed: deps.branches.byIndex(BRANCHES_BY_NODE, trunk.spec.nodeName).length,
      ...(limits ? { branchCapacity: limits.branchEnis } : {}),
    };

    if (limits === undefined || !limits.isTrunkingCompatible) {
      const status = withProgress(
        trunk,
        { ...(trunk.status ?? {}), ...counts },
        {
          state: 'Failed',
          reason: 'UnsupportedInstanceType',
          message: `instance type ${trunk.spec.instanceType} of node ${trunk.spec.nodeName} has no trunk ENI support in the limits table or overrides`,
        },
        this.#nowIso(),
      );
      await this.#write(trunk, status);
      return {};
    }

    const now = deps.clock.now();
    const cniNode = deps.cniNodes.get(trunk.spec.nodeName);
    // A status from before primaryInterface was recorded takes it from the CNINode (EKS's v1.8 controller, or a
    // previous run of ours, wrote it), instead of describing the instance again.
    trunk = withPrimaryFromCniNode(trunk, cniNode);
    const podNetwork = this.#podNetworkDeps();
    const view = await viewPodNetwork(
      podNetwork,
      { trunk, node, cniNode },
      { signal: context.signal, priority: 'critical' },
    );

    if (isSettled(trunk)) {
      const verifiedAt = this.#verifiedAt.get(uid) ?? now;
      if (!this.#verifiedAt.has(uid)) this.#verifiedAt.set(uid, now);
      if (now - verifiedAt < VERIFY_INTERVAL_MS) {
        const status = await followPodNetwork(
          podNetwork,
          { trunk, node, cniNode, view },
          { ...(trunk.status ?? {}), ...counts },
          context,
        );
        await this.#write(trunk, this.#withNetwork(status));
        await this.#recordOnCniNode(trunk, status, cniNode);
        return { requeueAfterMs: recheckAfterMs(VERIFY_INTERVAL_MS - (now - verifiedAt), status) };
      }
    }

    const wasReady = trunk.status?.state === 'Ready';
    const result = await setUpTrunk(
      { ec2: deps.ec2, client: deps.client, clock: deps.clock, cluster: deps.cluster, events: deps.events },
      trunk,
      { limits, placement: view.placement },
      (object, status) => this.#writeProgress(object, status),
      context,
      this.#polls.get(uid) ?? 0,
    );
    trunk = result.trunk;
    const status = await followPodNetwork(
      podNetwork,
      { trunk, node, cniNode, view },
      { ...result.status, ...counts },
      context,
    );
    await this.#write(trunk, this.#withNetwork(status));

    if (status.state === 'Ready') {
      await this.#recordOnCniNode(trunk, status, cniNode);
      this.#verifiedAt.set(uid, now);
      this.#polls.delete(uid);
      if (!wasReady) {
        deps.events.initiated(trunk.spec.nodeName, status.eniId ?? '');
        const created = Date.parse(trunk.metadata.creationTimestamp ?? '');
        if (Number.isFinite(created)) trunkSetupDurationSeconds.observe(Math.max(0, now - created) / 1000);
        context.log.info('trunk ready', { trunk: status.eniId, node: trunk.spec.nodeName });
      }
      return { requeueAfterMs: recheckAfterMs(VERIFY_INTERVAL_MS, status) };
    }
    if (status.state === 'Attaching') this.#polls.set(uid, (this.#polls.get(uid) ?? 0) + 1);
    if (result.error !== undefined) throw result.error;
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : {};
  }

  #podNetworkDeps(): PodNetworkDeps {
    const deps = this.#deps;
    return {
      ec2: deps.ec2,
      clock: deps.clock,
      network: deps.network,
      eniConfigs: deps.eniConfigs,
      events: deps.events,
    };
  }

  /**
   * Keeps the CNINode's status.nodeNetworkState (the resource controller's v1.8 schema) in step, so a
   * re-created TrunkInterface, a restart after an upgrade, or a hand-back to EKS's controller finds the node's
   * branch subnet and primary ENI settings without describing EC2. CNINodes another controller manages are
   * left alone.
   */
  async #recordOnCniNode(trunk: TrunkInterface, status: TrunkStatus, cniNode: CNINode | undefined): Promise<void> {
    if (cniNode === undefined || (cniNode.spec?.managedBy ?? 'vpc-resource-controller') !== 'vpc-resource-controller')
      return;
    const desired = nodeNetworkState(trunk, status);
    if (desired === undefined || isDeepStrictEqual(desired, cniNode.status?.nodeNetworkState)) return;
    await this.#deps.client.mergePatchStatus<CNINode>(Kinds.CNINode, cniNode.metadata.name, {
      nodeNetworkState: desired,
    });
  }

  /**
   * The node is gone (or the object is being deleted). A live GET guards the destructive part: a stale cache
   * must never make us release the branches of a node that still exists. A TrunkInterface deleted while its
   * node lives releases nothing: running pods keep their branch ENIs (the safety rule, docs/lifecycle.md).
   */
  async #finalize(trunk: TrunkInterface, context: ReconcileContext): Promise<void> {
    const deps = this.#deps;
    const live = await deps.client.get<KubeObject>(Kinds.Node, trunk.spec.nodeName);
    const nodeAlive = live !== undefined && isOwnedBy(trunk, live);
    if (nodeAlive && trunk.metadata.deletionTimestamp === undefined) return; // the cache was behind

    const eniId = trunk.status?.eniId;
    if (!nodeAlive && eniId !== undefined && hasFinalizer(trunk, TRUNK_FINALIZER)) {
      try {
        await releaseBranchEnis(deps.ec2, trunk, eniId, context);
      } catch (error) {
        deps.events.branchCleanupFailed(
          trunk.spec.nodeName,
          `releasing the branch ENIs of deleted node ${trunk.spec.nodeName} (trunk ${eniId}) failed, retrying: ${error instanceof Error ? error.message : String(error)}`,
        );
        throw error;
      }
    }
    // With the node alive (someone deleted only the TrunkInterface) the trunk and its branches stay: the node
    // controller recreates the object, and this controller adopts the attached trunk again.
    await removeFinalizer(deps.client, Kinds.TrunkInterface, trunk, TRUNK_FINALIZER);
    if (!nodeAlive && trunk.metadata.deletionTimestamp === undefined) {
      await deps.client.delete(
        Kinds.TrunkInterface,
        trunk.metadata.name,
        trunk.metadata.uid ? { uid: trunk.metadata.uid } : {},
      );
    }
    if (!nodeAlive) deps.events.forget(trunk.spec.nodeName);
    this.#forget(trunk);
    context.log.info('finalized trunk interface', { node: trunk.spec.nodeName, trunk: eniId, nodeAlive });
  }

  async #writeProgress(trunk: TrunkInterface, status: TrunkStatus): Promise<TrunkInterface> {
    const written = await patchStatusIfChanged(this.#deps.client, Kinds.TrunkInterface, trunk, status);
    this.#record(trunk.metadata.name, status.state);
    return written ?? trunk;
  }

  /** Status plus the VPC's ranges as this node sees them (status.ts networkFields). */
  #withNetwork(status: TrunkStatus): TrunkStatus {
    return { ...status, ...networkFields(status, this.#deps.subnets.snapshot()) };
  }

  async #write(trunk: TrunkInterface, status: TrunkStatus): Promise<void> {
    await this.#writeProgress(trunk, status);
    for (const event of networkEvents(trunk.status, status)) {
      this.#deps.events.networkChanged(trunk.spec.nodeName, event.reason, event.message);
    }
  }

  #forget(trunk: TrunkInterface): void {
    const uid = trunk.metadata.uid ?? trunk.metadata.name;
    this.#verifiedAt.delete(uid);
    this.#polls.delete(uid);
    this.#record(trunk.metadata.name, undefined);
  }

  #record(name: string, state: string | undefined): void {
    if (state === undefined) this.#states.delete(name);
    else this.#states.set(name, state);
    const counts = new Map<string, number>(TRUNK_STATES.map((s) => [s, 0]));
    for (const value of this.#states.values()) counts.set(value, (counts.get(value) ?? 0) + 1);
    for (const [value, count] of counts) trunkInterfaces.set({ state: value }, count);
  }

  #nowIso(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }
}

/** The TrunkInterface belongs to this Node object (same name and, when recorded, same UID). */
export function isOwnedBy(trunk: TrunkInterface, node: KubeObject | undefined): boolean {
  if (node === undefined) return false;
  const owner = trunk.metadata.ownerReferences?.find((ref) => ref.kind === 'Node');
  return owner === undefined || owner.uid === node.metadata.uid;
}
