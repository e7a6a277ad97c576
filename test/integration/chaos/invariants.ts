/**
 * What must hold once the chaos stops and the operator has converged, checked against the real objects
 * (API server) and the EC2 emulator's state, and what must hold at every moment of the run, checked against
 * the emulator's mutation log and samples of its state. Each check returns its violations as sentences naming
 * the pod, ENI or trunk, so a failure says exactly what leaked or diverged.
 *
 * Who holds a branch ENI is what the records say, not its tags: the BranchInterface whose status.eniId names
 * it (and so that BranchInterface's pod), or the WarmBranch named as it. The pod-uid tag names the pod the ENI
 * was created for; without warm reuse that is always its holder, with reuse it is only the first.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { EmulatorDump, MutationRecord } from '../../../hack/ec2-emulator/index.ts';
import { BRANCH_ENI_DESCRIPTION, POD_ENI_ANNOTATION, TAG } from '../../../operator/api/constants.ts';
import type { BranchInterface, PodEniAnnotationEntry, WarmBranch } from '../../../operator/api/types.ts';
import type { Hold } from './holds.ts';

export interface WorldState {
  clusterName: string;
  dump: EmulatorDump;
  /** Live pods of the chaos namespace (none terminating: they are force-deleted). */
  pods: V1Pod[];
  branches: BranchInterface[];
  /** Warm branch ENIs' records (docs/warm-branches.md); none when reuse is off. */
  warm: WarmBranch[];
  /** The per-node warm limit the run ends with (0: reuse off, no WarmBranch may exist). */
  warmLimit: number;
  /** Node name → EC2 instance id. */
  instances: Map<string, string>;
  /** The groups each pod must carry, from the policies (sorted). */
  expectedGroups(pod: V1Pod): string[];
}

/** Branch ENIs of this cluster, by the tags every branch ENI carries. */
export function clusterBranchEnis(state: Pick<WorldState, 'clusterName' | 'dump'>) {
  return state.dump.networkInterfaces.filter(
    (eni) => eni.description === BRANCH_ENI_DESCRIPTION && eni.tags[TAG.clusterName] === state.clusterName,
  );
}

/** Pod UIDs that more than one branch ENI claims (never allowed, not even for a moment). */
export function duplicateEnis(state: Pick<WorldState, 'clusterName' | 'dump'>): string[] {
  const byPod = new Map<string, string[]>();
  for (const eni of clusterBranchEnis(state)) {
    const uid = eni.tags[TAG.podUid] ?? `(untagged ${eni.id})`;
    byPod.set(uid, [...(byPod.get(uid) ?? []), eni.id]);
  }
  return [...byPod.entries()].filter(([, ids]) => ids.length > 1).map(([uid, ids]) => `pod ${uid}: ${ids.join(', ')}`);
}

/** VLAN ids used twice on one trunk. */
export function duplicateVlans(dump: EmulatorDump): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const association of dump.associations) {
    const key = `${association.trunkInterfaceId}/${association.vlanId}`;
    const other = seen.get(key);
    if (other)
      problems.push(
        `trunk ${association.trunkInterfaceId} VLAN ${association.vlanId}: ${other} and ${association.branchInterfaceId}`,
      );
    seen.set(key, association.branchInterfaceId);
  }
  return problems;
}

function parseAnnotation(pod: V1Pod): PodEniAnnotationEntry[] | string {
  const raw = pod.metadata?.annotations?.[POD_ENI_ANNOTATION];
  if (raw === undefined) return 'has no pod-eni annotation';
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? (parsed as PodEniAnnotationEntry[]) : `has a non-list annotation ${raw}`;
  } catch {
    return `has an unparseable annotation ${raw}`;
  }
}

/** Every violation of the end state; empty when the world is converged and clean. */
export function violations(state: WorldState): string[] {
  const problems: string[] = [...duplicateEnis(state), ...duplicateVlans(state.dump)];
  const enis = new Map(state.dump.networkInterfaces.map((eni) => [eni.id, eni]));
  const associations = new Map(state.dump.associations.map((a) => [a.branchInterfaceId, a]));
  const trunkOf = new Map(
    state.dump.networkInterfaces
      .filter((eni) => eni.interfaceType === 'trunk' && eni.attachment)
      .map((eni) => [eni.attachment?.instanceId ?? '', eni.id]),
  );
  const livePods = new Map(state.pods.map((pod) => [pod.metadata?.uid ?? '', pod]));
  const annotated = new Set<string>();

  for (const pod of state.pods) {
    const name = `pod ${pod.metadata?.name} (${pod.metadata?.uid})`;
    const entries = parseAnnotation(pod);
    if (typeof entries === 'string') {
      problems.push(`${name} ${entries}`);
      continue;
    }
    if (entries.length !== 1) {
      problems.push(`${name} has ${entries.length} entries in its annotation`);
      continue;
    }
    const entry = entries[0] as PodEniAnnotationEntry;
    annotated.add(entry.eniId);
    const eni = enis.get(entry.eniId);
    if (!eni) {
      problems.push(`${name} names ${entry.eniId}, which does not exist in EC2`);
      continue;
    }
    const expected = state.expectedGroups(pod);
    const actual = [...eni.securityGroupIds].sort();
    if (actual.join(',') !== expected.join(',')) {
      problems.push(
        `${name}: ENI ${eni.id} has groups [${actual.join(' ')}], its policies give [${expected.join(' ')}]`,
      );
    }
    const branch = state.branches.find((b) => b.spec.podUid === pod.metadata?.uid);
    if (branch?.status?.eniId !== eni.id) {
      problems.push(`${name}: ENI ${eni.id} is not the one its BranchInterface records (${branch?.status?.eniId})`);
    } else if (branch.status.reusedFrom === undefined && eni.tags[TAG.podUid] !== pod.metadata?.uid) {
      problems.push(`${name}: ENI ${eni.id} was created for it, yet is tagged for pod ${eni.tags[TAG.podUid]}`);
    }
    const association = associations.get(eni.id);
    const trunk = trunkOf.get(state.instances.get(pod.spec?.nodeName ?? '') ?? '');
    if (!association || association.trunkInterfaceId !== trunk || association.vlanId !== entry.vlanId) {
      problems.push(
        `${name}: ENI ${eni.id} should be on trunk ${trunk} VLAN ${entry.vlanId}, EC2 has ` +
          (association ? `trunk ${association.trunkInterfaceId} VLAN ${association.vlanId}` : 'no association'),
      );
    }
  }

  problems.push(...warmViolations(state, annotated, associations, trunkOf));
  const warmEnis = new Set(state.warm.map((warm) => warm.spec.eniId));
  for (const eni of clusterBranchEnis(state)) {
    const holders = state.branches.filter((branch) => branch.status?.eniId === eni.id);
    const holderCount = holders.length + (warmEnis.has(eni.id) ? 1 : 0);
    if (holderCount === 0) {
      problems.push(`leaked ENI ${eni.id} (${eni.status}): no BranchInterface or WarmBranch records it`);
      continue;
    }
    if (holderCount > 1) {
      const names = holders.map((branch) => `BranchInterface ${branch.metadata.name}`);
      if (warmEnis.has(eni.id)) names.push(`WarmBranch ${eni.id}`);
      problems.push(`ENI ${eni.id} is recorded by ${names.join(' and ')}`);
    }
    const owner = holders[0] === undefined ? undefined : livePods.get(holders[0].spec.podUid);
    if (owner && !annotated.has(eni.id))
      problems.push(`ENI ${eni.id} of live pod ${owner.metadata?.name} is not in its annotation`);
  }
  const branchesByPod = new Map<string, number>();
  for (const branch of state.branches) {
    branchesByPod.set(branch.spec.podUid, (branchesByPod.get(branch.spec.podUid) ?? 0) + 1);
    if (!livePods.has(branch.spec.podUid)) {
      problems.push(
        `BranchInterface ${branch.metadata.name} (${branch.status?.phase}) outlives its pod ${branch.spec.podUid}`,
      );
    }
  }
  for (const [uid, count] of branchesByPod) if (count > 1) problems.push(`pod ${uid} has ${count} BranchInterfaces`);
  return problems;
}

/**
 * Warm ENIs at the end: each is on its node's trunk at the VLAN its record names, announced to no pod,
 * carrying the groups its record claims (an empty list means "not known": the next pod sets its own), and no
 * node holds more than the limit.
 */
function warmViolations(
  state: WorldState,
  annotated: ReadonlySet<string>,
  associations: ReadonlyMap<string, { trunkInterfaceId: string; vlanId: number }>,
  trunkOf: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = [];
  const enis = new Map(state.dump.networkInterfaces.map((eni) => [eni.id, eni]));
  const perNode = new Map<string, number>();
  for (const warm of state.warm) {
    const name = `warm ENI ${warm.spec.eniId} of node ${warm.spec.nodeName}`;
    perNode.set(warm.spec.nodeName, (perNode.get(warm.spec.nodeName) ?? 0) + 1);
    const eni = enis.get(warm.spec.eniId);
    if (!eni) {
      problems.push(`${name} does not exist in EC2`);
      continue;
    }
    if (annotated.has(eni.id)) problems.push(`${name} is in a pod's annotation`);
    const trunk = trunkOf.get(state.instances.get(warm.spec.nodeName) ?? '');
    const association = associations.get(eni.id);
    if (!association || association.trunkInterfaceId !== trunk || association.vlanId !== warm.spec.vlanId) {
      problems.push(
        `${name} should be on trunk ${trunk} VLAN ${warm.spec.vlanId}, EC2 has ` +
          (association ? `trunk ${association.trunkInterfaceId} VLAN ${association.vlanId}` : 'no association'),
      );
    }
    const actual = [...eni.securityGroupIds].sort().join(' ');
    if (warm.spec.securityGroups.length > 0 && [...warm.spec.securityGroups].sort().join(' ') !== actual) {
      problems.push(`${name} claims groups [${warm.spec.securityGroups.join(' ')}], EC2 has [${actual}]`);
    }
  }
  for (const [node, count] of perNode) {
    if (count > state.warmLimit)
      problems.push(`node ${node} keeps ${count} warm ENIs, the limit is ${state.warmLimit}`);
  }
  return problems;
}

/** What the test knows of a pod it created: live from its creation until the test asked for its deletion. */
export interface PodLifetime {
  name: string;
  /** The groups its policies give it (sorted); chaos never changes a pod's labels or the policies. */
  groups: string[];
  /** Date.now() just before the test sent the delete; undefined while the pod lives. */
  deleteRequestedAtMs?: number;
}

/** Whether the pod was still live at `atMs` (the test had not asked for its deletion yet). */
function isLiveAt(life: PodLifetime, atMs: number): boolean {
  return life.deleteRequestedAtMs === undefined || atMs < life.deleteRequestedAtMs;
}

/**
 * Branch ENIs deleted while a live pod held them: a DeleteNetworkInterface that took effect (emulator mutation
 * log, stamped by the same process clock) on an ENI that a pod the test had not yet asked to delete held at
 * that moment. A pod holds the ENI tagged with its UID from its creation on, and an ENI its BranchInterface or
 * annotation names (a warm ENI it took over) from when the test saw that record (`holds`). The operator can
 * only learn of a pod's deletion after the test sends it, so a delete stamped earlier is a live pod's ENI taken
 * away, whatever the scheduling. Chaos pods never finish (no kubelet) and chaos never deletes a Node, so no
 * other end applies. ENIs of pods the test does not know are not judged.
 */
export function liveEniDeletions(
  mutations: readonly MutationRecord[],
  lifetimes: ReadonlyMap<string, PodLifetime>,
  holds: readonly Hold[],
): string[] {
  const heldBy = new Map<string, Hold[]>();
  for (const hold of holds) heldBy.set(hold.eniId, [...(heldBy.get(hold.eniId) ?? []), hold]);
  const problems: string[] = [];
  for (const call of mutations) {
    if (call.action !== 'DeleteNetworkInterface' || call.networkInterfaceId === undefined) continue;
    const createdFor = call.tags?.[TAG.podUid];
    const holders: { uid: string; sinceMs: number; how: string }[] = [
      ...(createdFor ? [{ uid: createdFor, sinceMs: -Infinity, how: 'created for it' }] : []),
      ...(heldBy.get(call.networkInterfaceId) ?? []).map((hold) => ({
        uid: hold.podUid,
        sinceMs: hold.sinceMs,
        how: `its ${hold.via === 'annotation' ? 'annotation' : 'BranchInterface'} named it from ${hold.sinceMs}`,
      })),
    ];
    for (const holder of holders) {
      const life = lifetimes.get(holder.uid);
      if (life === undefined || holder.sinceMs > call.atMs || !isLiveAt(life, call.atMs)) continue;
      const when =
        life.deleteRequestedAtMs === undefined
          ? 'which was never deleted'
          : `${life.deleteRequestedAtMs - call.atMs} ms before the pod's deletion was requested`;
      problems.push(
        `ENI ${call.networkInterfaceId} of live pod ${life.name} (${holder.uid}; ${holder.how}) deleted ` +
          `(call ${call.seq} at ${call.atMs}), ${when}`,
      );
      break;
    }
  }
  return problems;
}

/**
 * Live pods announced an ENI that carries other groups than their policies', seen in one sample of EC2's state
 * taken at `atMs`: for every pod the test saw annotated by then and had not asked to delete, the ENI its
 * annotation names must carry exactly the pod's groups. (An ENI that no longer exists is liveEniDeletions'.)
 */
export function wrongGroupSightings(
  dump: EmulatorDump,
  atMs: number,
  holds: readonly Hold[],
  lifetimes: ReadonlyMap<string, PodLifetime>,
): string[] {
  const enis = new Map(dump.networkInterfaces.map((eni) => [eni.id, eni]));
  const problems: string[] = [];
  for (const hold of holds) {
    if (hold.via !== 'annotation' || hold.sinceMs > atMs) continue;
    const life = lifetimes.get(hold.podUid);
    const eni = enis.get(hold.eniId);
    if (life === undefined || eni === undefined || !isLiveAt(life, atMs)) continue;
    const actual = [...eni.securityGroupIds].sort();
    if (actual.join(' ') !== life.groups.join(' ')) {
      problems.push(
        `at ${atMs}: pod ${life.name} runs behind ENI ${eni.id} with groups [${actual.join(' ')}], ` +
          `its policies give [${life.groups.join(' ')}]`,
      );
    }
  }
  return problems;
}
