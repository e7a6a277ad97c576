import type { ActionDefinition } from './context.ts';
import { describeNetworkInterfacesAction } from './describe-network-interfaces.ts';
import { describeInstanceTypesAction, describeInstancesAction } from './instances.ts';
import { describeSecurityGroupsAction, describeSubnetsAction, describeVpcsAction } from './network.ts';
import {
  attachNetworkInterfaceAction,
  createNetworkInterfaceAction,
  deleteNetworkInterfaceAction,
  detachNetworkInterfaceAction,
  modifyNetworkInterfaceAttributeAction,
} from './network-interfaces.ts';
import { createSecurityGroupAction, deleteSecurityGroupAction } from './security-groups.ts';
import { createNetworkInterfacePermissionAction, createTagsAction, deleteTagsAction } from './tags.ts';
import {
  associateTrunkInterfaceAction,
  describeTrunkInterfaceAssociationsAction,
  disassociateTrunkInterfaceAction,
} from './trunk.ts';

/** Every EC2 action the emulator serves, by Action name. */
export const ACTIONS: ReadonlyMap<string, ActionDefinition> = new Map(
  [
    createNetworkInterfaceAction,
    attachNetworkInterfaceAction,
    detachNetworkInterfaceAction,
    deleteNetworkInterfaceAction,
    describeNetworkInterfacesAction,
    modifyNetworkInterfaceAttributeAction,
    associateTrunkInterfaceAction,
    disassociateTrunkInterfaceAction,
    describeTrunkInterfaceAssociationsAction,
    describeInstancesAction,
    describeInstanceTypesAction,
    describeSubnetsAction,
    describeVpcsAction,
    describeSecurityGroupsAction,
    createSecurityGroupAction,
    deleteSecurityGroupAction,
    createTagsAction,
    deleteTagsAction,
    createNetworkInterfacePermissionAction,
  ].map((action) => [action.name, action]),
);

/** Top-level parameter names accepted by an action (its own plus the protocol's). */
export function allowedParams(action: ActionDefinition): ReadonlySet<string> {
  return new Set(['Action', 'Version', 'DryRun', ...action.params]);
}
