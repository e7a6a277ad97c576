/**
 * The leak sweeper: a leader-only loop that lists our ENIs in EC2 (background priority, so it never delays
 * a pod), asks {@link findLeakedEnis} which are leaked, confirms each branch owner's absence against the
 * API server, and releases what is left: disassociate from the trunk if needed, then delete.
 *
 * One sweep covers the three layers of the anchor study §4.4: ENIs tagged for a node's trunk without a live
 * BranchInterface (in use or not), available unclaimed ENIs on two consecutive sweeps, and the ENIs of
 * instances that no longer exist.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../api/types.ts';
import type { Ec2Api, NetworkInterface } from '../../aws/ec2-api.ts';
import { isNotFound } from '../../aws/ec2-errors.ts';
import { clientToken, ownedEnisFilter } from '../../aws/tags.ts';
import type { KubeClient, Reader } from '../../framework/types.ts';
import { gcLeakedEnisDeletedTotal, gcLeakedEnisFoundTotal, gcSweepsTotal } from '../../observability/metrics.ts';
import type { Logger } from '../../observability/logger.ts';
import { findLeakedEnis, type LeakCandidate } from './leaks.ts';
import { LiveEniClaims } from './live-claims.ts';

export interface LeakSweeperOptions {
  ec2: Ec2Api;
  client: KubeClient;
  branches: Reader<BranchInterface>;
  trunks: Reader<TrunkInterface>;
  /** Warm branch ENIs (docs/warm-branches.md); absent: none are kept. */
  warm?: Reader<WarmBranch>;
  clusterName: string;
  vpcId: string;
  intervalMs: number;
  log: Logger;
}

export class LeakSweeper {
  readonly #options: LeakSweeperOptions;
  #previouslyAvailable: ReadonlySet<string> = new Set();

  constructor(options: LeakSweeperOptions) {
    this.#options = options;
  }

  /** Sweeps every `intervalMs` until the signal aborts; one failed sweep is logged and counted, not fatal. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sweepOnce(signal);
        gcSweepsTotal.inc({ result: 'success' });
      } catch (error) {
        if (signal.aborted) return;
        gcSweepsTotal.inc({ result: 'error' });
        this.#options.log.warn('leak sweep failed', { error });
      }
      try {
        await delay(this.#options.intervalMs, undefined, { signal });
      } catch {
        return; // aborted while waiting: shutting down
      }
    }
  }

  /** One sweep; returns the ids of the ENIs it deleted. */
  async sweepOnce(signal?: AbortSignal): Promise<string[]> {
    const { ec2, branches, trunks, warm, clusterName, vpcId, log } = this.#options;
    const call = { signal, priority: 'background' as const };
    const enis = await ec2.describeNetworkInterfaces({ ...ownedEnisFilter(clusterName), vpcId }, call);
    const decision = findLeakedEnis({
      enis,
      branches: branches.list(),
      trunks: trunks.list(),
      warmEniIds: new Set(warm?.list().map((record) => record.spec.eniId)),
      previouslyAvailable: this.#previouslyAvailable,
      cachesSynced: branches.hasSynced() && trunks.hasSynced() && (warm?.hasSynced() ?? true),
    });
    this.#previouslyAvailable = decision.availableNow;

    const toRelease: LeakCandidate[] = [];
    const liveClaims = new LiveEniClaims(this.#options.client);
    for (const candidate of decision.candidates) {
      gcLeakedEnisFoundTotal.inc({ reason: candidate.reason });
      if (candidate.owner && (await this.#ownerExists(candidate.owner))) continue;
      // A reused ENI's tags name the pod it was made for; the API server says who holds it now.
      if (await liveClaims.isClaimed(candidate.eni.id)) continue;
      toRelease.push(candidate);
    }
    for (const [instanceId, orphans] of decision.instancesToVerify) {
      if (!(await this.#instanceGone(instanceId, signal))) continue;
      for (const eni of orphans) {
        if (toRelease.some((c) => c.eni.id === eni.id)) continue;
        gcLeakedEnisFoundTotal.inc({ reason: 'instance-terminated' });
        toRelease.push({ eni, reason: 'available-twice' });
      }
    }

    const deleted: string[] = [];
    for (const candidate of toRelease) {
      try {
        await this.#release(candidate, signal);
        deleted.push(candidate.eni.id);
        gcLeakedEnisDeletedTotal.inc({ reason: candidate.reason });
        log.info('deleted leaked eni', { eni: candidate.eni.id, reason: candidate.reason });
      } catch (error) {
        log.warn('could not delete leaked eni', { eni: candidate.eni.id, reason: candidate.reason, error });
      }
    }
    return deleted;
  }

  /**
   * Live read: the cache said the owner is gone; the API server has the last word (issue #412 in the anchor
   * study). Matched by pod UID over the namespace, not by name: a pod recreated while its predecessor's
   * branch cools down gets a suffixed BranchInterface name, so a lookup by name could find the predecessor.
   */
  async #ownerExists(owner: { namespace: string; name: string; podUid: string }): Promise<boolean> {
    if (owner.namespace === '') return false;
    const branches = await this.#options.client.list<BranchInterface>(Kinds.BranchInterface, {
      namespace: owner.namespace,
    });
    return branches.some((branch) => branch.spec.podUid === owner.podUid);
  }

  async #instanceGone(instanceId: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const instance = await this.#options.ec2.describeInstance(instanceId, { signal, priority: 'background' });
      return instance.state === 'terminated' || instance.state === 'shutting-down';
    } catch (error) {
      if (isNotFound(error)) return true;
      throw error;
    }
  }

  async #release(candidate: LeakCandidate, signal?: AbortSignal): Promise<void> {
    const { ec2 } = this.#options;
    const call = { signal, priority: 'background' as const };
    if (candidate.associatedTrunkEniId) await this.#disassociate(candidate.eni, candidate.associatedTrunkEniId, signal);
    try {
      await ec2.deleteNetworkInterface(candidate.eni.id, call);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async #disassociate(eni: NetworkInterface, trunkEniId: string, signal?: AbortSignal): Promise<void> {
    const { ec2 } = this.#options;
    const call = { signal, priority: 'background' as const };
    const associations = await ec2.describeTrunkInterfaceAssociations({ trunkInterfaceId: trunkEniId }, call);
    for (const association of associations.filter((a) => a.branchInterfaceId === eni.id)) {
      try {
        await ec2.disassociateTrunkInterface(
          {
            associationId: association.associationId,
            clientToken: clientToken('gc-disassociate', association.associationId),
          },
          call,
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }
}
