/**
 * VpcNetworkDirectory: follows the cluster VPC's CIDR blocks and the subnets tagged for pods, so address
 * ranges an administrator adds while the operator runs are used for new branch ENIs without a restart.
 *
 * - Periodic: every `intervalMs` one DescribeVpcs and one DescribeSubnets (`vpc-id` + `tag-key`), at
 *   background priority through the same rate-limited EC2 queue as everything else.
 * - On demand: a subnet reported exhausted (a create answered InsufficientFreeAddressesInSubnet) asks for a
 *   refresh at once, rate-limited to one per `onDemandMinIntervalMs`, so a burst of failing creates costs
 *   one describe, not one per pod. The refresh also re-describes the exhausted subnets: the mark is lifted
 *   when EC2 counts free addresses there again (pods released, addresses freed).
 * - Changes (CIDR block or tagged subnet added or removed) are logged, counted in metrics and handed to the
 *   listeners: the TrunkInterface controller reports them in status and as Node events.
 *
 * - Security groups, only while someone needs them (a SecurityGroupPolicy naming groups by name or tag
 *   selector): the VPC's groups with their names and tags, one paged DescribeSecurityGroups (`vpc-id`) per
 *   refresh. {@link requestSecurityGroups} asks for a refresh soon (rate-limited like the subnet one), so a new
 *   or edited policy is resolved against groups described after it was seen, not against a view up to one
 *   interval old. A failed groups describe keeps the last view and asks again.
 *
 * Leader-only, like every EC2 caller. Before the first refresh the snapshot is undefined and branch ENIs
 * go to the node's subnet, exactly as without this feature.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { CallOptions, Ec2Api, SecurityGroup } from '../../aws/index.ts';
import type { Clock } from '../../framework/types.ts';
import type { Logger } from '../../observability/logger.ts';
import {
  podSubnetFreeAddresses,
  vpcCidrBlocks,
  vpcNetworkChangesTotal,
  vpcNetworkRefreshesTotal,
} from '../../observability/metrics.ts';
import { describeChange, diffNetwork, toPodSubnet, type NetworkChange, type VpcNetworkSnapshot } from './snapshot.ts';

/** What the branch and trunk controllers read; tests pass their own. */
export interface SubnetDirectory {
  /** The last snapshot, or undefined before the first refresh. */
  snapshot(): VpcNetworkSnapshot | undefined;
  /** Known to have no free address: reported by a failed create, or counted empty by the last describe. */
  isExhausted(subnetId: string): boolean;
  /** A create in this subnet failed for lack of addresses: mark it and refresh soon. */
  reportExhausted(subnetId: string): void;
  /** The tag that marks subnets for pods ('' when tagged subnets are not used). */
  readonly tagKey: string;
}

export type NetworkListener = (snapshot: VpcNetworkSnapshot, changes: readonly NetworkChange[]) => void;

/** The cluster VPC's security groups as last described. */
export interface SecurityGroupsSnapshot {
  /** Clock time at which the describe started: nothing changed in EC2 before it is missing from `groups`. */
  describedAtMs: number;
  /** Every group of the VPC with its name and tags, sorted by id. */
  groups: readonly SecurityGroup[];
}

/** What the SecurityGroupPolicy controller reads to resolve groups named by name or tags. */
export interface SecurityGroupDirectory {
  /** The last snapshot, or undefined before the first groups describe. */
  securityGroups(): SecurityGroupsSnapshot | undefined;
  /** Describe the groups soon (rate-limited like every on-demand refresh). */
  requestSecurityGroups(): void;
  /** Keep describing the groups at every periodic refresh while `wanted()` holds. */
  describeSecurityGroupsWhile(wanted: () => boolean): void;
  /** Called after every groups describe. */
  onSecurityGroups(listener: (snapshot: SecurityGroupsSnapshot) => void): void;
}

export interface VpcNetworkDirectoryOptions {
  ec2: Ec2Api;
  vpcId: string;
  /** Tag key of subnets for pods; '' follows CIDR blocks only and never leaves the node's subnet. */
  tagKey: string;
  intervalMs: number;
  /** Minimum time between two on-demand refreshes. */
  onDemandMinIntervalMs?: number;
  clock: Clock;
  log: Logger;
}

const DEFAULT_ON_DEMAND_MIN_INTERVAL_MS = 5_000;

export class VpcNetworkDirectory implements SubnetDirectory, SecurityGroupDirectory {
  readonly #options: VpcNetworkDirectoryOptions;
  readonly #listeners: NetworkListener[] = [];
  readonly #groupListeners: ((snapshot: SecurityGroupsSnapshot) => void)[] = [];
  #groupsWanted: () => boolean = () => false;
  #groupsRequested = false;
  #groups: SecurityGroupsSnapshot | undefined;
  /** subnet id → when it was reported exhausted. */
  readonly #exhausted = new Map<string, number>();
  #snapshot: VpcNetworkSnapshot | undefined;
  #lastRefreshMs = Number.NEGATIVE_INFINITY;
  /** Resolves the current wait early (an on-demand refresh). */
  #wake: (() => void) | undefined;
  #wakeRequested = false;

  constructor(options: VpcNetworkDirectoryOptions) {
    this.#options = options;
  }

  get tagKey(): string {
    return this.#options.tagKey;
  }

  snapshot(): VpcNetworkSnapshot | undefined {
    return this.#snapshot;
  }

  isExhausted(subnetId: string): boolean {
    if (this.#exhausted.has(subnetId)) return true;
    const described = this.#snapshot?.podSubnets.find((subnet) => subnet.id === subnetId);
    return described !== undefined && described.availableIpAddressCount === 0;
  }

  reportExhausted(subnetId: string): void {
    if (!this.#exhausted.has(subnetId)) {
      this.#options.log.warn('subnet has no free address; new branch ENIs use subnets tagged for pods', {
        subnet: subnetId,
        tagKey: this.#options.tagKey,
      });
    }
    this.#exhausted.set(subnetId, this.#options.clock.now());
    this.requestRefresh();
  }

  /** Refresh soon (at most one on-demand refresh per onDemandMinIntervalMs). */
  requestRefresh(): void {
    this.#wakeRequested = true;
    this.#wake?.();
  }

  onChange(listener: NetworkListener): void {
    this.#listeners.push(listener);
  }

  securityGroups(): SecurityGroupsSnapshot | undefined {
    return this.#groups;
  }

  requestSecurityGroups(): void {
    this.#groupsRequested = true;
    this.requestRefresh();
  }

  describeSecurityGroupsWhile(wanted: () => boolean): void {
    this.#groupsWanted = wanted;
  }

  onSecurityGroups(listener: (snapshot: SecurityGroupsSnapshot) => void): void {
    this.#groupListeners.push(listener);
  }

  /** Refreshes until the signal aborts; a failed refresh is logged and counted, and the last snapshot stays. */
  async run(signal: AbortSignal): Promise<void> {
    let trigger: 'periodic' | 'on_demand' = 'periodic';
    while (!signal.aborted) {
      await this.#refreshCounted(trigger, signal);
      trigger = await this.#waitForNextRefresh(signal);
    }
  }

  /** One refresh; returns the changes it found. */
  async refresh(signal?: AbortSignal): Promise<NetworkChange[]> {
    const { ec2, vpcId, tagKey, log } = this.#options;
    const call: CallOptions = { priority: 'background', ...(signal ? { signal } : {}) };
    const startedMs = this.#options.clock.now();
    const vpc = await ec2.describeVpc(vpcId, call);
    const tagged = tagKey === '' ? [] : await ec2.describeSubnets({ vpcId, tagKeys: [tagKey] }, call);
    const marked = [...this.#exhausted.keys()].filter((id) => !tagged.some((subnet) => subnet.id === id));
    const rechecked = marked.length === 0 ? [] : await ec2.describeSubnets({ ids: marked }, call);

    const next: VpcNetworkSnapshot = {
      vpcId,
      cidrBlocks: [...vpc.cidrBlocks],
      podSubnets: tagged.map(toPodSubnet).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    };
    // Lift a mark once EC2 counts free addresses again, but only from a describe that started after it.
    for (const subnet of [...tagged, ...rechecked]) {
      const markedAt = this.#exhausted.get(subnet.id);
      if (markedAt !== undefined && markedAt <= startedMs && subnet.availableIpAddressCount > 0) {
        this.#exhausted.delete(subnet.id);
        log.info('subnet has free addresses again', { subnet: subnet.id, free: subnet.availableIpAddressCount });
      }
    }
    const changes = diffNetwork(this.#snapshot, next);
    this.#snapshot = next;
    this.#lastRefreshMs = this.#options.clock.now();
    this.#record(next, changes);
    for (const listener of this.#listeners) listener(next, changes);
    if (this.#groupsRequested || this.#groupsWanted()) await this.#refreshSecurityGroups(call);
    return changes;
  }

  async #refreshSecurityGroups(call: CallOptions): Promise<void> {
    const { ec2, vpcId, clock, log } = this.#options;
    this.#groupsRequested = false;
    const describedAtMs = clock.now();
    let groups: SecurityGroup[];
    try {
      groups = await ec2.describeVpcSecurityGroups(vpcId, call);
    } catch (error) {
      if (call.signal?.aborted) return;
      this.#groupsRequested = true;
      this.#wakeRequested = true;
      log.warn("describing the VPC's security groups failed; keeping the last view and retrying", {
        vpc: vpcId,
        error,
      });
      return;
    }
    const snapshot: SecurityGroupsSnapshot = {
      describedAtMs,
      groups: [...groups].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    };
    this.#groups = snapshot;
    for (const listener of this.#groupListeners) listener(snapshot);
  }

  async #refreshCounted(trigger: 'periodic' | 'on_demand', signal: AbortSignal): Promise<void> {
    try {
      await this.refresh(signal);
      vpcNetworkRefreshesTotal.inc({ trigger, result: 'success' });
    } catch (error) {
      if (signal.aborted) return;
      vpcNetworkRefreshesTotal.inc({ trigger, result: 'error' });
      this.#options.log.warn('refreshing the VPC CIDR blocks and pod subnets failed; keeping the last view', {
        vpc: this.#options.vpcId,
        error,
      });
    }
  }

  /** Waits out the interval, or less when a refresh is requested; resolves with what woke it. */
  async #waitForNextRefresh(signal: AbortSignal): Promise<'periodic' | 'on_demand'> {
    const { intervalMs, onDemandMinIntervalMs = DEFAULT_ON_DEMAND_MIN_INTERVAL_MS } = this.#options;
    const sinceLast = () => this.#options.clock.now() - this.#lastRefreshMs;
    while (!signal.aborted) {
      if (this.#wakeRequested && sinceLast() >= onDemandMinIntervalMs) {
        this.#wakeRequested = false;
        return 'on_demand';
      }
      if (sinceLast() >= intervalMs) return 'periodic';
      const waitMs = (this.#wakeRequested ? onDemandMinIntervalMs : intervalMs) - sinceLast();
      const woken = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      try {
        await Promise.race([delay(Math.max(1, waitMs), undefined, { signal }), woken]);
      } catch {
        break; // aborted: shutting down
      } finally {
        this.#wake = undefined;
      }
    }
    return 'periodic';
  }

  #record(snapshot: VpcNetworkSnapshot, changes: readonly NetworkChange[]): void {
    vpcCidrBlocks.set(snapshot.cidrBlocks.length);
    podSubnetFreeAddresses.reset();
    for (const subnet of snapshot.podSubnets) {
      podSubnetFreeAddresses.set(
        { subnet: subnet.id, availability_zone: subnet.availabilityZone },
        subnet.availableIpAddressCount,
      );
    }
    for (const change of changes) {
      vpcNetworkChangesTotal.inc({ change: change.kind.replace('-', '_') });
      this.#options.log.info('vpc address ranges changed', { change: describeChange(change, snapshot.vpcId) });
    }
  }
}
