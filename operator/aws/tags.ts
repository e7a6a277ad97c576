/**
 * The ENI tag scheme (docs/compatibility.md#eni-descriptions-and-tags) and idempotency tokens. EKS's own keys come first so EKS tooling,
 * the VPC CNI and our sweeps recognise the same ENIs; our keys let a restarted operator rebuild state from
 * EC2 alone and let sweeps prove that an ENI is ours before deleting it.
 */
import { createHash } from 'node:crypto';
import { ENI_OWNER, TAG } from '../api/constants.ts';
import type { NetworkInterfaceFilter, Tags } from './ec2-api.ts';

export interface TrunkEniTagInput {
  clusterName: string;
  instanceId: string;
  nodeName: string;
}

export interface BranchEniTagInput extends TrunkEniTagInput {
  trunkEniId: string;
  vlanId: number;
  podNamespace: string;
  podName: string;
  podUid: string;
}

/** `kubernetes.io/cluster/<cluster>` — the key carries the cluster name, the value is always 'owned'. */
export function clusterOwnedTagKey(clusterName: string): string {
  return `${TAG.clusterOwnedPrefix}${clusterName}`;
}

/** Tags every ENI we create carries: owner, cluster (both forms), instance and node. */
function ownershipTags(input: TrunkEniTagInput): Tags {
  return {
    [TAG.owner]: ENI_OWNER,
    [clusterOwnedTagKey(input.clusterName)]: 'owned',
    [TAG.clusterName]: input.clusterName,
    [TAG.instanceId]: input.instanceId,
    [TAG.nodeName]: input.nodeName,
  };
}

export function trunkEniTags(input: TrunkEniTagInput): Tags {
  return ownershipTags(input);
}

/** Branch tags add the trunk and VLAN (EKS's keys: DescribeTrunkInterfaceAssociations is not always usable) and the pod. */
export function branchEniTags(input: BranchEniTagInput): Tags {
  return {
    ...ownershipTags(input),
    [TAG.trunkEniId]: input.trunkEniId,
    [TAG.vlanId]: String(input.vlanId),
    [TAG.podNamespace]: input.podNamespace,
    [TAG.podName]: input.podName,
    [TAG.podUid]: input.podUid,
  };
}

/** Every ENI this operator owns in a cluster (the sweep's starting set). */
export function ownedEnisFilter(clusterName: string): NetworkInterfaceFilter {
  return { tags: { [TAG.owner]: [ENI_OWNER], [TAG.clusterName]: [clusterName] } };
}

/** The trunk we created for an instance, whatever its attachment state. */
export function trunkEnisFilter(clusterName: string, instanceId: string): NetworkInterfaceFilter {
  return {
    interfaceType: ['trunk'],
    tags: { [TAG.owner]: [ENI_OWNER], [TAG.clusterName]: [clusterName], [TAG.instanceId]: [instanceId] },
  };
}

/** Branch ENIs on one trunk (to rebuild VLAN allocations after a restart). */
export function branchEnisOfTrunkFilter(clusterName: string, trunkEniId: string): NetworkInterfaceFilter {
  return { tags: { [TAG.owner]: [ENI_OWNER], [TAG.clusterName]: [clusterName], [TAG.trunkEniId]: [trunkEniId] } };
}

/** Branch ENIs created for one pod (by UID: a pod recreated under the same name is a different owner). */
export function branchEnisOfPodFilter(clusterName: string, podUid: string): NetworkInterfaceFilter {
  return { tags: { [TAG.owner]: [ENI_OWNER], [TAG.clusterName]: [clusterName], [TAG.podUid]: [podUid] } };
}

/** Branch ENIs made for pods on one instance (node deletion cleanup). */
export function branchEnisOfInstanceFilter(clusterName: string, instanceId: string): NetworkInterfaceFilter {
  return {
    tags: {
      [TAG.owner]: [ENI_OWNER],
      [TAG.clusterName]: [clusterName],
      [TAG.instanceId]: [instanceId],
      [TAG.trunkEniId]: ['*'],
    },
  };
}

/** EC2 accepts ClientTokens of up to 64 ASCII characters (docs/ec2-semantics.md#limits). */
export const MAX_CLIENT_TOKEN_LENGTH = 64;

/**
 * A deterministic ClientToken for one logical mutation: the same purpose, owner UID and parts give the same
 * token, so a reconcile that crashed after the call and runs again gets EC2's first answer back instead of
 * a second ENI. Include whatever distinguishes two legitimate operations of the same owner (the trunk and
 * VLAN of an association, a generation). Shape: `<purpose>-<sha256 prefix>`, ≤ 64 ASCII characters.
 */
export function clientToken(purpose: string, uid: string, ...parts: (string | number)[]): string {
  if (uid === '') throw new Error(`clientToken(${purpose}): the owner uid is empty`);
  const digest = createHash('sha256')
    .update([purpose, uid, ...parts.map(String)].join('\u0000'))
    .digest('hex');
  const prefix = purpose.replace(/[^A-Za-z0-9-]/g, '').slice(0, 16);
  return `${prefix}-${digest}`.slice(0, MAX_CLIENT_TOKEN_LENGTH);
}
