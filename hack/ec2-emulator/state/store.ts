import { type IdKind, ID_KINDS, assertWellFormedId, notFound } from './ids.ts';
import type {
  Attachment,
  Instance,
  NetworkInterface,
  SecurityGroup,
  Subnet,
  Tags,
  TrunkAssociation,
  Vpc,
} from './model.ts';
import { Rng } from './rng.ts';
import { TagIndex } from './tag-index.ts';

/** Knobs the state machine reads on every call (changed live through the control API). */
export interface StoreConfig {
  region: string;
  accountId: string;
  eventualConsistencyMs: number;
  attachDelayMs: number;
  securityGroupsPerInterface: number;
  networkInterfacesPerAz: number;
  trunkingEnabled: boolean;
  strictBranchDeletion: boolean;
}

/**
 * All records plus the indexes that keep filtered Describes proportional to their result (by id, subnet,
 * instance, tag key/value, trunk, branch). Only this class mutates the maps, so indexes cannot drift; the
 * rules (what is allowed) live in ops-*.ts.
 */
export class Store {
  readonly config: StoreConfig;
  readonly now: () => number;
  rng: Rng;
  readonly #rngSeed: string;
  #seq = 0;

  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly groups = new Map<string, SecurityGroup>();
  readonly instances = new Map<string, Instance>();
  readonly enis = new Map<string, NetworkInterface>();
  readonly associations = new Map<string, TrunkAssociation>();

  readonly eniByAttachment = new Map<string, string>();
  readonly enisBySubnet = new Map<string, Set<string>>();
  readonly enisByInstance = new Map<string, Set<string>>();
  readonly associationsByTrunk = new Map<string, Map<number, string>>();
  readonly associationByBranch = new Map<string, string>();
  readonly enisPerAz = new Map<string, number>();
  readonly eniTags = new TagIndex();
  readonly instanceTags = new TagIndex();
  readonly #usedIds = new Set<string>();

  constructor(config: StoreConfig, rngSeed: string, now: () => number = Date.now) {
    this.config = config;
    this.now = now;
    this.#rngSeed = rngSeed;
    this.rng = new Rng(rngSeed);
  }

  clear(): void {
    for (const map of [this.vpcs, this.subnets, this.groups, this.instances, this.enis, this.associations]) map.clear();
    for (const map of [this.eniByAttachment, this.enisBySubnet, this.enisByInstance, this.associationsByTrunk]) {
      map.clear();
    }
    this.associationByBranch.clear();
    this.enisPerAz.clear();
    this.eniTags.clear();
    this.instanceTags.clear();
    this.#usedIds.clear();
    this.#seq = 0;
    this.rng = new Rng(this.#rngSeed);
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  /** A fresh id `<prefix>-<17 hex>` from the seeded generator, never reused within a run. */
  newId(kind: IdKind): string {
    for (;;) {
      const id = `${ID_KINDS[kind].prefix}-${this.rng.hex(17)}`;
      if (!this.#usedIds.has(id)) {
        this.#usedIds.add(id);
        return id;
      }
    }
  }

  /** Registers an id chosen by a seed; false when it is already taken. */
  reserveId(id: string): boolean {
    if (this.#usedIds.has(id)) return false;
    this.#usedIds.add(id);
    return true;
  }

  newMac(): string {
    const hex = this.rng.hex(10);
    return `02:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}`;
  }

  /** When a record created now becomes visible. */
  visibleFrom(): number {
    return this.now() + this.config.eventualConsistencyMs;
  }

  isVisible(record: { visibleAt: number }): boolean {
    return record.visibleAt <= this.now();
  }

  // --- lookups by explicit id: Malformed, then NotFound (also while not yet visible) -----------------------

  requireEni(id: string): NetworkInterface {
    assertWellFormedId('eni', id);
    const eni = this.enis.get(id);
    if (!eni || !this.isVisible(eni)) throw notFound('eni', id);
    return eni;
  }

  requireInstance(id: string): Instance {
    assertWellFormedId('instance', id);
    const instance = this.instances.get(id);
    if (!instance || !this.isVisible(instance)) throw notFound('instance', id);
    return instance;
  }

  requireSubnet(id: string): Subnet {
    assertWellFormedId('subnet', id);
    const subnet = this.subnets.get(id);
    if (!subnet) throw notFound('subnet', id);
    return subnet;
  }

  requireVpc(id: string): Vpc {
    assertWellFormedId('vpc', id);
    const vpc = this.vpcs.get(id);
    if (!vpc) throw notFound('vpc', id);
    return vpc;
  }

  requireGroup(id: string): SecurityGroup {
    assertWellFormedId('group', id);
    const group = this.groups.get(id);
    if (!group) throw notFound('group', id);
    return group;
  }

  requireAssociation(id: string): TrunkAssociation {
    assertWellFormedId('association', id);
    const association = this.associations.get(id);
    if (!association || !this.isVisible(association)) throw notFound('association', id);
    return association;
  }

  // --- ENIs ---------------------------------------------------------------------------------------------------

  insertEni(eni: NetworkInterface): void {
    this.enis.set(eni.id, eni);
    addTo(this.enisBySubnet, eni.subnetId, eni.id);
    this.eniTags.add(eni.id, eni.tags);
    this.enisPerAz.set(eni.availabilityZone, (this.enisPerAz.get(eni.availabilityZone) ?? 0) + 1);
    if (eni.attachment) this.#indexAttachment(eni, eni.attachment);
  }

  /** Removes the ENI and returns its addresses to the subnet. Associations are the caller's business. */
  removeEni(eni: NetworkInterface): void {
    if (eni.attachment) this.setAttachment(eni, undefined);
    this.enis.delete(eni.id);
    removeFrom(this.enisBySubnet, eni.subnetId, eni.id);
    this.eniTags.remove(eni.id, eni.tags);
    this.enisPerAz.set(eni.availabilityZone, (this.enisPerAz.get(eni.availabilityZone) ?? 1) - 1);
    const subnet = this.subnets.get(eni.subnetId);
    for (const ip of eni.privateIpAddresses) subnet?.pool.release(ip);
    for (const ip of eni.ipv6Addresses) subnet?.ipv6?.pool.release(ip);
  }

  setAttachment(eni: NetworkInterface, attachment: Attachment | undefined): void {
    if (eni.attachment) {
      this.eniByAttachment.delete(eni.attachment.attachmentId);
      removeFrom(this.enisByInstance, eni.attachment.instanceId, eni.id);
    }
    eni.attachment = attachment;
    if (attachment) this.#indexAttachment(eni, attachment);
  }

  #indexAttachment(eni: NetworkInterface, attachment: Attachment): void {
    this.eniByAttachment.set(attachment.attachmentId, eni.id);
    addTo(this.enisByInstance, attachment.instanceId, eni.id);
  }

  attachedEnis(instanceId: string): NetworkInterface[] {
    const out: NetworkInterface[] = [];
    for (const id of this.enisByInstance.get(instanceId) ?? []) {
      const eni = this.enis.get(id);
      if (eni) out.push(eni);
    }
    return out;
  }

  // --- trunk associations -------------------------------------------------------------------------------------

  insertAssociation(association: TrunkAssociation): void {
    this.associations.set(association.id, association);
    let byVlan = this.associationsByTrunk.get(association.trunkId);
    if (!byVlan) this.associationsByTrunk.set(association.trunkId, (byVlan = new Map()));
    byVlan.set(association.vlanId, association.id);
    this.associationByBranch.set(association.branchId, association.id);
  }

  removeAssociation(association: TrunkAssociation): void {
    this.associations.delete(association.id);
    const byVlan = this.associationsByTrunk.get(association.trunkId);
    byVlan?.delete(association.vlanId);
    if (byVlan?.size === 0) this.associationsByTrunk.delete(association.trunkId);
    this.associationByBranch.delete(association.branchId);
  }

  // --- tags of any taggable resource (CreateTags / DeleteTags) -------------------------------------------------

  /** The tag map of a resource and a setter/deleter that keep the indexes right. */
  taggable(id: string): { tags: Tags; put(key: string, value: string): void; delete(key: string): void } | undefined {
    const eni = this.enis.get(id);
    if (eni) return tagAccess(eni.id, eni.tags, this.eniTags);
    const instance = this.instances.get(id);
    if (instance) return tagAccess(instance.id, instance.tags, this.instanceTags);
    const record = this.subnets.get(id) ?? this.vpcs.get(id) ?? this.groups.get(id);
    if (record) return tagAccess(record.id, record.tags, undefined);
    return undefined;
  }
}

function tagAccess(id: string, tags: Tags, index: TagIndex | undefined) {
  return {
    tags,
    put: (key: string, value: string) => (index ? index.put(id, tags, key, value) : void tags.set(key, value)),
    delete: (key: string) => (index ? index.delete(id, tags, key) : void tags.delete(key)),
  };
}

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  if (!ids) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(key);
}
