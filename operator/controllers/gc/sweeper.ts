/**
 * The leak sweeper: a leader-only loop that lists our ENIs in EC2 (background priority, so it never delays
 * a pod: each page waits for its own token behind any pod's calls), asks {@link findLeakedEnis} which are
 * leaked, confirms each branch owner's absence against the API server, and releases what is left:
 * disassociate from the trunk if needed, then delete. The first sweep comes `initialDelayMs` after becoming
 * leader, so a restart spends its first minutes on pods waiting for ENIs rather than on the census.
 *
 * One sweep covers three kinds of leak: ENIs tagged for a pod that has no BranchInterface (in use or not),
 * unclaimed ENIs available on two consecutive sweeps, and the ENIs of instances that no longer exist. The
 * rules, and why they never touch a live pod's ENI or an ENI that is not ours, are in docs/failure-model.md.
 */
import { Kinds } from '../../api/kinds.ts';
import type { BranchInterface, TrunkInterface, WarmBranch } from '../../api/types.ts';
import type { Ec2Api, NetworkInterface } from '../../aws/ec2-api.ts';
import { isNotFound } from '../../aws/ec2-errors.ts';
import { clientToken, ownedEnisFilter } from '../../aws/tags.ts';
import { sleep, systemClock, type TimerClock } from '../../framework/clock.ts';
import type { KubeClient, KubeObject, Reader } from '../../framework/types.ts';
import { gcLeakedEnisDeletedTotal, gcLeakedEnisFoundTotal, gcSweepsTotal } from '../../observability/metrics.ts';
import type { Logger } from '../../observability/logger.ts';
import { findLeakedEnis, type LeakCandidate } from './leaks.ts';
import { LiveEniClaims } from './live-claims.ts';

export interface LeakSweeperOptions {
  ec2: Ec2Api;
  client: KubeClient;
  branches: Reader<BranchInterface>;
  trunks: Reader<TrunkInterface>;
  /** Warm branch ENIs (docs/warm-branches.md#the-leak-sweeper): claimed by their WarmBranch, whatever their tags say. */
  warm: Reader<WarmBranch>;
  clusterName: string;
  vpcId: string;
  intervalMs: number;
  /** Time from the start of `run` (becoming leader) to the first sweep. */
  initialDelayMs?: number;
  log: Logger;
  /** Timers between sweeps; the system clock unless a test drives time. */
  clock?: TimerClock;
}

/** A branch ENI's owner as its tags name it; `namespace` is '' when the tag is missing. */
type Owner = NonNullable<LeakCandidate['owner']>;

export class LeakSweeper {
  readonly #options: LeakSweeperOptions;
  #previouslyAvailable: ReadonlySet<string> = new Set();

  constructor(options: LeakSweeperOptions) {
    this.#options = options;
  }

  /**
   * Sweeps `initialDelayMs` after it starts, then every `intervalMs`, until the signal aborts; one failed sweep
   * is logged and counted, not fatal.
   */
  async run(signal: AbortSignal): Promise<void> {
    const clock = this.#options.clock ?? systemClock;
    if ((this.#options.initialDelayMs ?? 0) > 0) await sleep(clock, this.#options.initialDelayMs ?? 0, signal);
    while (!signal.aborted) {
      try {
        await this.sweepOnce(signal);
        gcSweepsTotal.inc({ result: 'success' });
      } catch (error) {
        if (signal.aborted) return;
        gcSweepsTotal.inc({ result: 'error' });
        this.#options.log.warn('leak sweep failed', { error });
      }
      await sleep(clock, this.#options.intervalMs, signal);
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
      warmEniIds: new Set(warm.list().map((record) => record.spec.eniId)),
      previouslyAvailable: this.#previouslyAvailable,
      cachesSynced: branches.hasSynced() && trunks.hasSynced() && warm.hasSynced(),
    });
    this.#previouslyAvailable = decision.availableNow;

    const toRelease: LeakCandidate[] = [];
    /** ENIs an owner or a record still holds in the API server: never released by this sweep. */
    const held = new Set<string>();
    const owners = new OwnerLookup(this.#options.client);
    const liveClaims = new LiveEniClaims(this.#options.client);
    for (const candidate of decision.candidates) {
      gcLeakedEnisFoundTotal.inc({ reason: candidate.reason });
      // A reused ENI's tags name the pod it was made for, not its holder: a WarmBranch or another pod's
      // BranchInterface may hold it now (docs/warm-branches.md#the-leak-sweeper), so the records are asked as well as the tags.
      if (
        (candidate.owner && (await owners.exists(candidate.owner))) ||
        (await liveClaims.isClaimed(candidate.eni.id))
      ) {
        held.add(candidate.eni.id);
        continue;
      }
      toRelease.push(candidate);
    }
    for (const [instanceId, orphans] of decision.instancesToVerify) {
      if (!(await this.#instanceGone(instanceId, signal))) continue;
      for (const eni of orphans) {
        if (held.has(eni.id) || toRelease.some((c) => c.eni.id === eni.id)) continue;
        if (await liveClaims.isClaimed(eni.id)) continue;
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

/**
 * Live reads, once per namespace per sweep: the cache said the owner is gone; the API server has the last
 * word (EKS's controller once deleted live pods' ENIs after starting with a partial pod cache). The owner is
 * there when a BranchInterface records its pod UID or a pod with that UID exists; both are matched by UID,
 * never by name, because a pod recreated under its predecessor's name is another owner. An ENI whose
 * namespace tag is missing (edited by hand, or written by another tool) is looked up across all namespaces:
 * a missing tag never counts as a missing owner.
 */
class OwnerLookup {
  readonly #client: KubeClient;
  readonly #uidsByNamespace = new Map<string, Promise<Set<string>>>();

  constructor(client: KubeClient) {
    this.#client = client;
  }

  async exists(owner: Owner): Promise<boolean> {
    // An empty pod-UID tag names no owner to look up: keep the ENI rather than guess.
    if (owner.podUid === '') return true;
    return (await this.#ownerUids(owner.namespace)).has(owner.podUid);
  }

  /** Pod UIDs of the BranchInterfaces and pods in `namespace` ('' = every namespace). */
  #ownerUids(namespace: string): Promise<Set<string>> {
    let uids = this.#uidsByNamespace.get(namespace);
    if (uids === undefined) {
      uids = this.#read(namespace);
      this.#uidsByNamespace.set(namespace, uids);
    }
    return uids;
  }

  async #read(namespace: string): Promise<Set<string>> {
    const scope = namespace === '' ? {} : { namespace };
    const [branches, pods] = await Promise.all([
      this.#client.list<BranchInterface>(Kinds.BranchInterface, scope),
      this.#client.list<KubeObject>(Kinds.Pod, scope),
    ]);
    const uids = new Set<string>();
    for (const branch of branches) uids.add(branch.spec.podUid);
    for (const pod of pods) if (pod.metadata.uid) uids.add(pod.metadata.uid);
    return uids;
  }
}
