/**
 * WarmBranchReconciler (key: the WarmBranch name, which is its ENI id). Keeps a node's pool of warm branch ENIs
 * within bounds and finishes handovers (docs/warm-branches.md#who-owns-the-eni-at-each-instant):
 * - a warm ENI that a BranchInterface has taken over (its status records the ENI) only loses its record — its
 *   ENI is never touched from here; this is how every takeover's record goes (reuse.ts), off the pod's path;
 * - a warm ENI claimed by a takeover whose status write is in flight is left alone until that write is done;
 * - while the branch that parked it still exists, nothing is decided (that branch may yet drop itself);
 * - otherwise warmVerdict decides: idle too long, over the per-node limit (oldest first), node cordoned or gone,
 *   trunk replaced, no longer where the node's new branch ENIs go (an ENIConfig edit) → release. The intent is
 *   recorded first by deleting the WarmBranch (a record being deleted is never handed to a pod, after a restart
 *   too), then DeleteNetworkInterface (which drops the association; the association is removed first only where
 *   EC2 answers "in use"), then the finalizer goes.
 *
 * Watches (./index.ts): WarmBranches (own key), BranchInterfaces (the record of the ENI a branch records),
 * Nodes and TrunkInterfaces (a node's pool), the settings ConfigMap (every pool).
 */
import { WARM_BRANCH_FINALIZER } from '../../api/constants.ts';
import { WARM_BRANCH_NODE_INDEX } from '../../api/warm-branch.ts';
import { BRANCH_NODE_NAME_INDEX } from '../../api/pod.ts';
import { apiVersionOf, Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../api/types.ts';
import type { Ec2Api } from '../../aws/index.ts';
import { clientToken, ignoreNotFound, isInUse } from '../../aws/index.ts';
import { withContext } from '../../errors.ts';
import { isNotFound, removeFinalizer } from '../../framework/index.ts';
import type {
  Clock,
  EventRecorder,
  KubeClient,
  KubeObject,
  Reader,
  ReconcileContext,
  ReconcileResult,
  Reconciler,
} from '../../framework/types.ts';
import { warmBranchReleasedTotal } from '../../observability/metrics.ts';
import { Reason } from '../../observability/reasons.ts';
import type { SubnetDirectory } from '../vpcnetwork/index.ts';
import { isTrunkUsable } from './plan.ts';
import { dropWarmRecord } from './reuse.ts';
import { branchSubnetIds } from './subnet.ts';
import type { WarmClaims } from './warm-claims.ts';
import type { WarmSettingsSource } from './warm-settings.ts';
import type { NodeState } from './warm.ts';
import { warmVerdict } from './warm.ts';

/** Re-check of a warm ENI whose parking branch still exists (it goes within one reconcile of it). */
const PARKER_RECHECK_MS = 5_000;
/** Re-check of a warm ENI claimed by a takeover whose status write is in flight. */
const CLAIM_RECHECK_MS = 1_000;

export interface NodeLike extends KubeObject {
  spec?: { unschedulable?: boolean };
}

export interface WarmReconcilerDeps {
  client: KubeClient;
  ec2: Ec2Api;
  clock: Clock;
  recorder: EventRecorder;
  warm: Reader<WarmBranch>;
  branches: Reader<BranchInterface>;
  trunks: Reader<TrunkInterface>;
  nodes: Reader<NodeLike>;
  claims: WarmClaims;
  settings: WarmSettingsSource;
  /** The VPC's subnets tagged for pods: with the trunk, where the node's new branch ENIs may go. */
  subnets: SubnetDirectory;
  /** New branch ENIs get an IPv6 address (IPv6 cluster or dual-stack). */
  needsIpv6: boolean;
}

/** The node's state for the warm decisions: gone, cordoned (a drain starts with it), or schedulable. */
export function nodeStateOf(node: NodeLike | undefined): NodeState {
  if (node === undefined || node.metadata.deletionTimestamp) return 'gone';
  return node.spec?.unschedulable === true ? 'unschedulable' : 'schedulable';
}

export class WarmBranchReconciler implements Reconciler {
  readonly #deps: WarmReconcilerDeps;

  constructor(deps: WarmReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = this.#deps;
    const warm = deps.warm.get(key);
    if (warm === undefined) {
      deps.claims.forget(key);
      return {};
    }
    const eniId = warm.spec.eniId;
    const warmUid = warm.metadata.uid ?? '';
    // This process already handed the ENI over or released it and deleted the record; the cache is behind.
    if (deps.claims.isRecordDropped(eniId, warmUid)) return {};
    const branchesOnNode = deps.branches.byIndex(BRANCH_NODE_NAME_INDEX, warm.spec.nodeName);
    const isRecordedByBranch =
      deps.claims.isRecorded(eniId) ||
      branchesOnNode.some(
        (branch) => branch.status?.eniId === eniId && branch.metadata.uid !== warm.spec.previousBranchUid,
      );
    if (!isRecordedByBranch && deps.claims.claimantOf(eniId) !== undefined) {
      // A takeover between its claim and its status write: the ENI is neither released nor given up yet (the
      // write may fail, and then the ENI is warm again). The status write brings this key back.
      return { requeueAfterMs: CLAIM_RECHECK_MS };
    }
    if (isRecordedByBranch) {
      // Handed over: the record goes, the ENI is the branch's (also after a crash between the two).
      await dropWarmRecord(deps.client, warm);
      deps.claims.markRecordDropped(eniId, warmUid);
      return {};
    }
    if (branchesOnNode.some((branch) => branch.metadata.uid === warm.spec.previousBranchUid)) {
      return { requeueAfterMs: PARKER_RECHECK_MS };
    }

    let reason: string;
    let message: string;
    if (warm.metadata.deletionTimestamp === undefined) {
      const pool = deps.warm
        .byIndex(WARM_BRANCH_NODE_INDEX, warm.spec.nodeName)
        .filter((other) => other.metadata.deletionTimestamp === undefined);
      const trunk = deps.trunks.get(warm.spec.nodeName);
      const subnetIds = isTrunkUsable(trunk) ? branchSubnetIds(trunk, deps.subnets) : undefined;
      const verdict = warmVerdict({
        warm,
        poolOnNode: pool,
        node: nodeStateOf(deps.nodes.get(warm.spec.nodeName)),
        trunk,
        network: subnetIds === undefined ? undefined : { subnetIds, needsIpv6: deps.needsIpv6 },
        nowMs: deps.clock.now(),
        settings: deps.settings.current(),
      });
      if (verdict.outcome === 'keep') return { requeueAfterMs: verdict.recheckAfterMs };
      if (!deps.claims.tryRetire(eniId)) return { requeueAfterMs: PARKER_RECHECK_MS };
      // The intent, recorded before the EC2 call: a WarmBranch being deleted is never handed to a pod.
      await deps.client.delete(Kinds.WarmBranch, key, warmUid ? { uid: warmUid } : {});
      reason = verdict.reason;
      message = verdict.message;
    } else {
      if (!deps.claims.tryRetire(eniId)) return { requeueAfterMs: PARKER_RECHECK_MS };
      reason = 'deleted';
      message = `warm branch record ${key} was deleted`;
    }

    await this.#deleteEni(warm, context);
    try {
      await removeFinalizer(deps.client, Kinds.WarmBranch, warm, WARM_BRANCH_FINALIZER);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    deps.claims.markRecordDropped(eniId, warmUid);
    warmBranchReleasedTotal.inc({ reason });
    context.log.info('released warm branch eni', { eni: eniId, vlan: warm.spec.vlanId, reason });
    const node: KubeObject = {
      apiVersion: apiVersionOf(Kinds.Node),
      kind: 'Node',
      metadata: { name: warm.spec.nodeName, uid: warm.spec.nodeName },
    };
    deps.recorder.event(node, 'Normal', Reason.WarmBranchENIReleased, `${message}; released ENI ${eniId}`);
    return {};
  }

  /** DeleteNetworkInterface drops the association; disassociate first only where EC2 answers "in use". */
  async #deleteEni(warm: WarmBranch, context: ReconcileContext): Promise<void> {
    const { ec2 } = this.#deps;
    const call = { signal: context.signal, priority: 'normal' as const };
    const eniId = warm.spec.eniId;
    const deleteEni = () => ec2.deleteNetworkInterface(eniId, call).catch(ignoreNotFound);
    try {
      try {
        await deleteEni();
      } catch (error) {
        if (!isInUse(error)) throw error;
        await ec2
          .disassociateTrunkInterface(
            {
              associationId: warm.spec.associationId,
              clientToken: clientToken('disassociate', warm.metadata.uid ?? eniId, warm.spec.associationId),
            },
            call,
          )
          .catch(ignoreNotFound);
        await deleteEni();
      }
    } catch (error) {
      throw withContext(`releasing warm branch ENI ${eniId} on node ${warm.spec.nodeName}`, error);
    }
  }
}
