/**
 * What must hold once the chaos stops and the operator has converged, checked against the real objects
 * (API server) and the EC2 emulator's state. Each check returns its violations as sentences naming the
 * pod, ENI or trunk, so a failure says exactly what leaked or diverged.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { EmulatorDump, MutationRecord } from '../../../hack/ec2-emulator/index.ts';
import { BRANCH_ENI_DESCRIPTION, POD_ENI_ANNOTATION, TAG } from '../../../operator/api/constants.ts';
import type { BranchInterface, PodEniAnnotationEntry } from '../../../operator/api/types.ts';

export interface WorldState {
  clusterName: string;
  dump: EmulatorDump;
  /** Live pods of the chaos namespace (none terminating: they are force-deleted). */
  pods: V1Pod[];
  branches: BranchInterface[];
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
    if (eni.tags[TAG.podUid] !== pod.metadata?.uid) {
      problems.push(`${name}: ENI ${eni.id} is tagged for pod ${eni.tags[TAG.podUid]}`);
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

  for (const eni of clusterBranchEnis(state)) {
    const owner = livePods.get(eni.tags[TAG.podUid] ?? '');
    if (!owner) problems.push(`leaked ENI ${eni.id} (${eni.status}): its pod ${eni.tags[TAG.podUid]} is gone`);
    else if (!annotated.has(eni.id))
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

/** What the test knows of a pod it created: live from its creation until the test asked for its deletion. */
export interface PodLifetime {
  name: string;
  /** Date.now() just before the test sent the delete; undefined while the pod lives. */
  deleteRequestedAtMs?: number;
}

/**
 * Branch ENIs deleted while their pod was live: a DeleteNetworkInterface that took effect (emulator
 * mutation log, stamped by the same process clock) on an ENI tagged for a pod the test had not yet asked to
 * delete. The operator can only learn of a pod's deletion after the test sends it, so a delete stamped
 * earlier is a live pod's ENI taken away, whatever the scheduling. Chaos pods never finish (no kubelet) and
 * chaos never deletes a Node, so no other end applies. ENIs of pods the test does not know are not judged.
 */
export function liveEniDeletions(
  mutations: readonly MutationRecord[],
  lifetimes: ReadonlyMap<string, PodLifetime>,
): string[] {
  const problems: string[] = [];
  for (const call of mutations) {
    if (call.action !== 'DeleteNetworkInterface') continue;
    const uid = call.tags?.[TAG.podUid];
    const life = uid === undefined ? undefined : lifetimes.get(uid);
    if (life === undefined) continue;
    if (life.deleteRequestedAtMs === undefined || call.atMs < life.deleteRequestedAtMs) {
      const when =
        life.deleteRequestedAtMs === undefined
          ? 'which was never deleted'
          : `${life.deleteRequestedAtMs - call.atMs} ms before the pod's deletion was requested`;
      problems.push(
        `ENI ${call.networkInterfaceId} of live pod ${life.name} (${uid}) deleted (call ${call.seq}), ${when}`,
      );
    }
  }
  return problems;
}
