/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package: acquire by
 * writing our identity into a free or expired Lease, renew every retry period, and give up leadership when
 * no renewal succeeded within the renew deadline. Every write carries the Lease's resourceVersion, so of
 * two candidates racing for the same Lease exactly one wins (the other gets 409 and tries again later).
 *
 * Expiry is judged by when *we* last saw the Lease change (observedAtMs), not by its renewTime, so clock
 * skew between replicas cannot make a live leader look expired.
 */
import { sleep, type TimerClock } from './clock.ts';
import { KubeConflictError } from './errors.ts';
import { keyFor } from './keys.ts';
import type { KubeClient, KubeObject, ResourceKind } from './types.ts';
import type { Logger } from '../observability/logger.ts';
import { leaderElectionIsLeader, leaderElectionTransitionsTotal } from '../observability/metrics.ts';

export const LEASE_KIND: ResourceKind = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per replica (pod name); written into the Lease. */
  identity: string;
  /** How long a non-leader waits after the last observed change before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
}

export type LeaseDecision =
  { action: 'create' } | { action: 'take'; transition: boolean } | { action: 'wait'; holder: string };

/**
 * Pure: what a candidate does with the Lease as read. A Lease held by someone else is respected until
 * `leaseDurationMs` has passed since we last observed it change; an empty holder means it was released.
 */
export function decideLease(
  lease: Lease | undefined,
  identity: string,
  nowMs: number,
  observedAtMs: number,
  leaseDurationMs: number,
): LeaseDecision {
  if (!lease) return { action: 'create' };
  const holder = lease.spec?.holderIdentity ?? '';
  if (holder === identity) return { action: 'take', transition: false };
  if (holder && nowMs < observedAtMs + leaseDurationMs) return { action: 'wait', holder };
  return { action: 'take', transition: true };
}

/** MicroTime as the apiserver parses it (RFC3339 with exactly six fractional digits). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #clock: TimerClock;
  readonly #log: Logger;
  readonly #key: string;
  readonly #identity: string;
  readonly #namespace: string;
  readonly #name: string;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  #observed: { holder: string; resourceVersion: string; atMs: number } | undefined;
  #leader = false;
  #crashed = false;

  constructor(options: LeaderElectionOptions, deps: { client: KubeClient; clock: TimerClock; log: Logger }) {
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs)) {
      throw new RangeError(
        `leader election: lease duration (${this.#leaseDurationMs} ms) must exceed the renew deadline (${this.#renewDeadlineMs} ms)`,
      );
    }
    if (!(this.#renewDeadlineMs > this.#retryPeriodMs)) {
      throw new RangeError(
        `leader election: renew deadline (${this.#renewDeadlineMs} ms) must exceed the retry period (${this.#retryPeriodMs} ms)`,
      );
    }
    if (!options.identity) throw new RangeError('leader election: identity must not be empty (use the pod name)');
    this.#client = deps.client;
    this.#clock = deps.clock;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = options.identity;
    this.#key = keyFor(options.namespace, options.name);
    this.#log = deps.log.child({ lease: this.#key, identity: options.identity });
    leaderElectionIsLeader.set(0);
    leaderElectionTransitionsTotal.inc(0);
  }

  isLeader(): boolean {
    return this.#leader;
  }

  /**
   * Test hook: behave like a process that died (SIGKILL): stop renewing at once and do NOT release the
   * Lease, so another candidate can take over only after the lease duration.
   */
  crash(): void {
    this.#crashed = true;
  }

  /**
   * Waits until leadership is acquired (or `signal` aborts: returns false), then returns true. While
   * leading, call `holdLeadership` to keep renewing.
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted && !this.#crashed) {
      if (await this.#tryAcquireOrRenew()) {
        this.#setLeader(true);
        this.#log.info('acquired leadership');
        return true;
      }
      await sleep(this.#clock, jittered(this.#retryPeriodMs), signal);
    }
    return false;
  }

  /**
   * Renews until `signal` aborts (then releases the Lease and resolves 'stopped') or a renewal could not be
   * made within the renew deadline (resolves 'lost'; the caller must stop reconciling at once).
   */
  async holdLeadership(signal: AbortSignal): Promise<'stopped' | 'lost'> {
    let lastRenewMs = this.#clock.now();
    while (!signal.aborted) {
      await sleep(this.#clock, this.#retryPeriodMs, signal);
      if (signal.aborted) break;
      if (this.#crashed) return this.#lose('crashed (test hook)');
      if (await this.#tryAcquireOrRenew()) {
        lastRenewMs = this.#clock.now();
      } else if (this.#clock.now() - lastRenewMs >= this.#renewDeadlineMs) {
        return this.#lose('could not renew within the renew deadline');
      }
    }
    if (!this.#crashed) await this.release();
    return 'stopped';
  }

  /** Gives the Lease up (empty holder) so another replica takes over without waiting for expiry. */
  async release(): Promise<void> {
    if (!this.#leader) return;
    this.#setLeader(false);
    try {
      const lease = await this.#client.get<Lease>(LEASE_KIND, this.#key);
      if (!lease || lease.spec?.holderIdentity !== this.#identity) return;
      await this.#client.mergePatch<Lease>(
        LEASE_KIND,
        this.#key,
        {
          spec: {
            holderIdentity: null,
            acquireTime: null,
            leaseDurationSeconds: 1,
            renewTime: microTime(this.#clock.now()),
          },
        },
        lease.metadata.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {},
      );
      this.#log.info('released leadership');
    } catch (error) {
      this.#log.warn('could not release leadership; another replica takes over after the lease duration', { error });
    }
  }

  #lose(why: string): 'lost' {
    this.#setLeader(false);
    this.#log.error('lost leadership', { why });
    return 'lost';
  }

  #setLeader(leader: boolean): void {
    if (this.#leader !== leader) leaderElectionTransitionsTotal.inc();
    this.#leader = leader;
    leaderElectionIsLeader.set(leader ? 1 : 0);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#clock.now();
    try {
      const lease = await this.#client.get<Lease>(LEASE_KIND, this.#key);
      if (lease) this.#observe(lease, now);
      const decision = decideLease(lease, this.#identity, now, this.#observed?.atMs ?? now, this.#leaseDurationMs);
      const spec = {
        holderIdentity: this.#identity,
        leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
        renewTime: microTime(now),
      };
      switch (decision.action) {
        case 'wait':
          return false;
        case 'create':
          await this.#client.create<Lease>(LEASE_KIND, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#name, namespace: this.#namespace },
            spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
          });
          return true;
        case 'take': {
          const transitions = (lease?.spec?.leaseTransitions ?? 0) + (decision.transition ? 1 : 0);
          const updated = await this.#client.mergePatch<Lease>(
            LEASE_KIND,
            this.#key,
            {
              spec: {
                ...spec,
                leaseTransitions: transitions,
                ...(decision.transition ? { acquireTime: microTime(now) } : {}),
              },
            },
            lease?.metadata.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {},
          );
          this.#observe(updated, now);
          return true;
        }
        default: {
          const unhandled: never = decision;
          throw new Error(`unhandled lease decision ${JSON.stringify(unhandled)}`);
        }
      }
    } catch (error) {
      // A conflict means another candidate wrote first; anything else is transient. Both: try next period.
      if (!(error instanceof KubeConflictError)) this.#log.warn('lease acquire/renew failed', { error });
      return false;
    }
  }

  #observe(lease: Lease, nowMs: number): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const resourceVersion = lease.metadata.resourceVersion ?? '';
    if (!this.#observed || this.#observed.resourceVersion !== resourceVersion || this.#observed.holder !== holder) {
      this.#observed = { holder, resourceVersion, atMs: nowMs };
    }
  }
}

/** client-go's JitterUntil with factor 1.2: spread candidates so they do not hit the Lease in step. */
function jittered(ms: number): number {
  return ms + Math.random() * 1.2 * ms;
}
