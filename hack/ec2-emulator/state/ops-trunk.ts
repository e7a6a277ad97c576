import { Ec2Fault, invalidValue, unauthorized } from '../protocol/errors.ts';
import { instanceTypes } from './instance-types.ts';
import type { TrunkAssociation } from './model.ts';
import type { Store } from './store.ts';

/** Trunk/branch association rules (docs/ec2-semantics.md#trunk-rules). */

export const MIN_VLAN = 1;
/** 802.1Q range; the operator itself stays within 1..120 like VPC-RC. */
export const MAX_VLAN = 4094;

export function associateTrunkInterface(
  store: Store,
  input: { branchId: string; trunkId: string; vlanId: number },
): TrunkAssociation {
  if (!store.config.trunkingEnabled) throw unauthorized();
  const branch = store.requireEni(input.branchId);
  const trunk = store.requireEni(input.trunkId);
  if (trunk.interfaceType !== 'trunk') throw invalidValue(`Network interface '${trunk.id}' is not a trunk interface.`);
  const instance = trunk.attachment ? store.instances.get(trunk.attachment.instanceId) : undefined;
  if (!instance || instance.state !== 'running') {
    throw invalidValue(`Trunk interface '${trunk.id}' is not attached to a running instance.`);
  }
  if (branch.interfaceType === 'trunk') throw invalidValue(`Network interface '${branch.id}' is a trunk interface.`);
  if (store.associationByBranch.has(branch.id)) {
    throw invalidValue(`Network interface '${branch.id}' is already associated with a trunk interface.`);
  }
  if (branch.attachment || branch.status !== 'available') {
    throw new Ec2Fault('InvalidNetworkInterface.InUse', `Interface: [${branch.id}] in use.`);
  }
  if (branch.vpcId !== trunk.vpcId || branch.availabilityZone !== trunk.availabilityZone) {
    throw invalidValue(
      `Branch interface '${branch.id}' and trunk interface '${trunk.id}' must be in the same VPC and availability zone.`,
    );
  }
  if (!Number.isInteger(input.vlanId) || input.vlanId < MIN_VLAN || input.vlanId > MAX_VLAN) {
    throw invalidValue(`VLAN id ${input.vlanId} is out of range (${MIN_VLAN}-${MAX_VLAN}).`);
  }
  const byVlan = store.associationsByTrunk.get(trunk.id);
  if (byVlan?.has(input.vlanId)) {
    throw invalidValue(`VLAN id ${input.vlanId} is already in use on trunk interface '${trunk.id}'.`);
  }
  const limit = instanceTypes().get(instance.instanceType)?.branchInterfaces ?? 0;
  if ((byVlan?.size ?? 0) >= limit) {
    throw new Ec2Fault(
      'AttachmentLimitExceeded',
      `Branch interface count ${(byVlan?.size ?? 0) + 1} exceeds the limit of ${limit} for ${instance.instanceType}`,
    );
  }
  const association: TrunkAssociation = {
    id: store.newId('association'),
    seq: store.nextSeq(),
    branchId: branch.id,
    trunkId: trunk.id,
    vlanId: input.vlanId,
    visibleAt: store.visibleFrom(),
  };
  store.insertAssociation(association);
  branch.interfaceType = 'branch';
  branch.status = 'in-use';
  return association;
}

export function disassociateTrunkInterface(store: Store, associationId: string): void {
  removeAssociation(store, store.requireAssociation(associationId));
}

function removeAssociation(store: Store, association: TrunkAssociation): void {
  store.removeAssociation(association);
  const branch = store.enis.get(association.branchId);
  if (branch) {
    branch.interfaceType = 'interface';
    branch.status = 'available';
  }
}

/** Drops every association in which the ENI is the trunk or the branch (trunk deleted, branch deleted). */
export function dropAssociationsOf(store: Store, eniId: string): void {
  const asBranch = store.associationByBranch.get(eniId);
  if (asBranch) {
    const association = store.associations.get(asBranch);
    if (association) store.removeAssociation(association);
  }
  for (const id of [...(store.associationsByTrunk.get(eniId)?.values() ?? [])]) {
    const association = store.associations.get(id);
    if (association) removeAssociation(store, association);
  }
}
