/**
 * Did sgp-operator write this pod's `vpc.amazonaws.com/pod-eni` annotation? The VPC CNI wires a pod into the
 * branch ENI and VLAN the annotation names, whoever wrote it, so an annotation that got past admission (the
 * webhook was not installed, or was changed) could put the pod behind another pod's security groups.
 *
 * The operator writes the annotation only from a BranchInterface of that pod's UID, and only once the
 * BranchInterface's status records the ENI as created and associated (status is written before the
 * annotation, never after). So an annotation is the operator's exactly when such a BranchInterface exists and
 * records the ENI, MAC, IP and VLAN the annotation names. The association id and the subnet CIDRs are not
 * compared: they do not choose which ENI the pod is wired into.
 *
 * An annotation with no BranchInterface behind it is not the operator's to keep either, even if it wrote it
 * once: without a BranchInterface nothing holds that ENI and VLAN for the pod, and both are released and
 * handed to other pods.
 *
 * One exception, for a switch from EKS's VPC resource controller: a running pod that asks for a branch ENI and
 * carries a whole annotation (ENI, MAC, IP, VLAN, association) may have been wired by that controller, and the
 * operator adopts such an ENI (branchinterface/adopt.ts) instead of giving the pod a second one. Adoption reads
 * the annotation, so it is not judged until the pod's BranchInterface has decided: while there is none yet, or
 * it records neither a VLAN nor an ENI. Adoption then records the ENI (the annotation is the operator's from
 * then on), or, when EC2 does not confirm it, the branch allocates a VLAN of its own and the annotation is
 * judged (and removed) as any other.
 *
 * Pure: the reconciler confirms a "forged" verdict against live reads before it acts (see controller.ts).
 */
import type { LeanPod } from '../../api/pod.ts';
import { isPodFinished, requestsPodEni } from '../../api/pod.ts';
import { POD_ENI_ANNOTATION } from '../../api/constants.ts';
import type { BranchInterface } from '../../api/types.ts';
import { parsePodEniAnnotation } from '../branchinterface/annotation.ts';
import { Reason } from '../../observability/reasons.ts';
import type { PodEvent } from './decision.ts';

export type ForgeryReason =
  /** No BranchInterface of the pod's UID exists. */
  | 'NoBranchInterface'
  /** The pod's BranchInterface has no associated ENI yet, so the operator cannot have announced one. */
  | 'BranchNotAnnounced'
  /** The annotation names another ENI, MAC, IP or VLAN than the pod's BranchInterface records. */
  | 'OtherBranchENI'
  /** Not the JSON the operator writes (one entry with eniId, ifAddress, privateIp, vlanId). */
  | 'Malformed';

export type PodEniAnnotationVerdict =
  | { verdict: 'absent' }
  | {
      verdict: 'not-judged';
      /**
       * Finished and terminating pods hold no network the annotation could still give them. A pod on a node
       * the operator does not manage (no TrunkInterface) may have been annotated by another controller there,
       * EKS's during a migration; the webhook still guards such pods at admission. AwaitingAdoption: a whole
       * annotation on a running pod that asks for a branch ENI, whose BranchInterface has not yet decided
       * between adopting the ENI it names and allocating its own (see above).
       */
      reason: 'Finished' | 'Terminating' | 'NodeNotManaged' | 'AwaitingAdoption';
    }
  | { verdict: 'ours' }
  | { verdict: 'forged'; reason: ForgeryReason; found: string; expected: string };

export interface PodEniAnnotationInput {
  pod: LeanPod;
  /** The BranchInterface whose spec.podUid is the pod's UID, if any. */
  branch: BranchInterface | undefined;
  /** A TrunkInterface exists for the pod's node (or the pod is not scheduled yet). */
  isNodeManaged: boolean;
}

/** The fields of the annotation's first entry that choose what the CNI wires the pod into. */
interface AnnouncedEni {
  eniId: string;
  ifAddress: string;
  privateIp: string;
  vlanId: number;
}

export function judgePodEniAnnotation(input: PodEniAnnotationInput): PodEniAnnotationVerdict {
  const { pod } = input;
  /** A BranchInterface of a predecessor with the same name (another UID) is not this pod's. */
  const branch = input.branch?.spec.podUid === pod.metadata.uid ? input.branch : undefined;
  const value = pod.metadata.annotations?.[POD_ENI_ANNOTATION];
  if (value === undefined) return { verdict: 'absent' };
  if (isPodFinished(pod)) return { verdict: 'not-judged', reason: 'Finished' };
  if (pod.metadata.deletionTimestamp) return { verdict: 'not-judged', reason: 'Terminating' };
  if (!input.isNodeManaged) return { verdict: 'not-judged', reason: 'NodeNotManaged' };

  if (isAwaitingAdoption(pod, value, branch)) return { verdict: 'not-judged', reason: 'AwaitingAdoption' };

  const announced = parseAnnouncedEni(value);
  const found = announced ? describeEni(announced) : `a value sgp-operator never writes (${abbreviate(value)})`;
  if (!branch) {
    return {
      verdict: 'forged',
      reason: 'NoBranchInterface',
      found,
      expected: 'no annotation: no BranchInterface of this pod exists',
    };
  }
  const recorded = recordedEni(branch);
  const branchName = `BranchInterface ${branch.metadata.name}`;
  if (!recorded) {
    return {
      verdict: 'forged',
      reason: 'BranchNotAnnounced',
      found,
      expected: `no annotation yet: the ENI of ${branchName} is not associated`,
    };
  }
  const expected = `${describeEni(recorded)}, as ${branchName} records`;
  if (!announced) return { verdict: 'forged', reason: 'Malformed', found, expected };
  const isSame =
    announced.eniId === recorded.eniId &&
    announced.ifAddress === recorded.ifAddress &&
    announced.privateIp === recorded.privateIp &&
    announced.vlanId === recorded.vlanId;
  return isSame ? { verdict: 'ours' } : { verdict: 'forged', reason: 'OtherBranchENI', found, expected };
}

/** The Warning event for a forged annotation the reconciler removed. */
export function forgedAnnotationEvent(
  pod: LeanPod,
  verdict: Extract<PodEniAnnotationVerdict, { verdict: 'forged' }>,
): PodEvent {
  return {
    type: 'Warning',
    reason: Reason.PodENIAnnotationForged,
    message:
      `removed annotation ${POD_ENI_ANNOTATION} of pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name}, ` +
      `which sgp-operator did not write: it named ${verdict.found}; expected ${verdict.expected}. ` +
      'If the pod started with it, the VPC CNI may have wired it into that ENI, and removing the annotation ' +
      'does not undo that: delete the pod so that it starts again with its own network',
  };
}

/** Metric label for a forgery reason (bounded set). */
export function forgeryMetricReason(reason: ForgeryReason): string {
  switch (reason) {
    case 'NoBranchInterface':
      return 'no_branch_interface';
    case 'BranchNotAnnounced':
      return 'branch_not_announced';
    case 'OtherBranchENI':
      return 'other_branch_eni';
    case 'Malformed':
      return 'malformed';
    default: {
      const unknown: never = reason;
      return unknown;
    }
  }
}

/**
 * The pod's branch may still adopt the ENI the annotation names: the pod is scheduled, runs on its own network and
 * asks for a branch ENI (so the pod controller gives it a BranchInterface), the annotation names a whole
 * association as another controller writes it, and the pod's BranchInterface does not exist yet or records
 * neither a VLAN nor an ENI (adopting records both at once; allocating records the VLAN first).
 */
function isAwaitingAdoption(pod: LeanPod, value: string, branch: BranchInterface | undefined): boolean {
  if (!pod.spec?.nodeName || pod.spec.hostNetwork || !requestsPodEni(pod)) return false;
  if (!parsePodEniAnnotation(value)) return false;
  return branch?.status?.vlanId === undefined && !branch?.status?.eniId;
}

function recordedEni(branch: BranchInterface): AnnouncedEni | undefined {
  const status = branch.status;
  if (!status?.eniId || !status.associationId || !status.macAddress || !status.vlanId) return undefined;
  return {
    eniId: status.eniId,
    ifAddress: status.macAddress,
    privateIp: status.privateIp ?? '',
    vlanId: status.vlanId,
  };
}

/** The first (and, as the operator writes it, only) entry, when it has the fields the CNI wires from. */
function parseAnnouncedEni(value: string): AnnouncedEni | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Not JSON: the caller reports the raw value as malformed.
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 1) return undefined;
  const entry: unknown = parsed[0];
  if (entry === null || typeof entry !== 'object') return undefined;
  const { eniId, ifAddress, privateIp, vlanId } = entry as Record<string, unknown>;
  if (typeof eniId !== 'string' || typeof ifAddress !== 'string' || typeof privateIp !== 'string') return undefined;
  if (typeof vlanId !== 'number') return undefined;
  return { eniId, ifAddress, privateIp, vlanId };
}

function describeEni(eni: AnnouncedEni): string {
  return `ENI ${eni.eniId} (MAC ${eni.ifAddress}, IP ${eni.privateIp || 'none'}) on VLAN ${eni.vlanId}`;
}

/** Events are read in kubectl describe: keep a forged value short. */
function abbreviate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
