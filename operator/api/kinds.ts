/** Every kind the operator reads or writes, in one place. */
import type { ResourceKind } from '../framework/types.ts';
import { TRUNKING_GROUP, TRUNKING_VERSION, VPC_RESOURCES_GROUP } from './constants.ts';

const core = (kind: string, plural: string, namespaced: boolean): ResourceKind => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  namespaced,
});

export const Kinds = {
  Pod: core('Pod', 'pods', true),
  Node: core('Node', 'nodes', false),
  Namespace: core('Namespace', 'namespaces', false),
  ServiceAccount: core('ServiceAccount', 'serviceaccounts', true),
  ConfigMap: core('ConfigMap', 'configmaps', true),
  Event: core('Event', 'events', true),
  Lease: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true },
  MutatingWebhookConfiguration: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'MutatingWebhookConfiguration',
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  ValidatingWebhookConfiguration: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'ValidatingWebhookConfiguration',
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  SecurityGroupPolicy: {
    group: VPC_RESOURCES_GROUP,
    version: 'v1beta1',
    kind: 'SecurityGroupPolicy',
    plural: 'securitygrouppolicies',
    namespaced: true,
  },
  CNINode: { group: VPC_RESOURCES_GROUP, version: 'v1alpha1', kind: 'CNINode', plural: 'cninodes', namespaced: false },
  ENIConfig: {
    group: 'crd.k8s.amazonaws.com',
    version: 'v1alpha1',
    kind: 'ENIConfig',
    plural: 'eniconfigs',
    namespaced: false,
  },
  TrunkInterface: {
    group: TRUNKING_GROUP,
    version: TRUNKING_VERSION,
    kind: 'TrunkInterface',
    plural: 'trunkinterfaces',
    namespaced: false,
  },
  BranchInterface: {
    group: TRUNKING_GROUP,
    version: TRUNKING_VERSION,
    kind: 'BranchInterface',
    plural: 'branchinterfaces',
    namespaced: true,
  },
  SecurityGroupGrant: {
    group: TRUNKING_GROUP,
    version: TRUNKING_VERSION,
    kind: 'SecurityGroupGrant',
    plural: 'securitygroupgrants',
    namespaced: false,
  },
} as const satisfies Record<string, ResourceKind>;

/** `group/version`, or `v1` for the core group. */
export function apiVersionOf(kind: ResourceKind): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}
