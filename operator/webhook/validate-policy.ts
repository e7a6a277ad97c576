/**
 * The validating decision for SecurityGroupPolicies (CREATE and UPDATE): refuse a policy naming a security
 * group that no SecurityGroupGrant allows in its namespace, with the SecurityGroupPolicy controller's own
 * judgement (controllers/securitygroupgrant/judgement.ts), so `kubectl apply` fails with the group, the
 * namespace and the grant to change instead of leaving a policy that never takes effect.
 *
 * - No grant in the cluster: allowed (EKS's behaviour).
 * - An UPDATE that leaves spec.securityGroups.groupIds as they were is allowed: the controller already
 *   reports a policy that a tightened grant no longer allows, and denying here would block relabelling or
 *   editing the selectors of a policy the user cannot fix alone.
 * - Grants not read yet (the replica is starting): allowed with a warning. The webhook fails open anyway
 *   (configuration.ts says why); the controller re-checks every policy.
 * - A covering grant's tag rules not resolved yet: denied, and the message says that this is why, names the
 *   grant, and says to retry; it never claims that no grant allows the group.
 *
 * Pure: (request, grants, namespace labels) → verdict.
 */
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../api/types.ts';
import { judgeGroupsForNamespace } from '../controllers/securitygroupgrant/index.ts';
import type { AdmissionRequest, AdmissionVerdict } from './admission.ts';

export interface PolicyAdmissionInputs {
  grants: readonly SecurityGroupGrant[];
  /** False until the grant cache has synced. */
  isGrantsSynced: boolean;
  namespaceLabels: Readonly<Record<string, string>> | undefined;
}

function groupIdsOf(policy: SecurityGroupPolicy | undefined): string[] {
  return policy?.spec?.securityGroups?.groupIds ?? [];
}

export function decidePolicyAdmission(
  request: AdmissionRequest<SecurityGroupPolicy>,
  inputs: PolicyAdmissionInputs,
): AdmissionVerdict {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return { kind: 'allow', reason: 'not-a-write' };
  const policy = request.object;
  const groupIds = groupIdsOf(policy);
  if (request.operation === 'UPDATE') {
    const before = groupIdsOf(request.oldObject);
    if (before.length === groupIds.length && before.every((id, index) => id === groupIds[index])) {
      return { kind: 'allow', reason: 'groups-unchanged' };
    }
  }
  const namespace = policy?.metadata.namespace || request.namespace || '';
  const name = policy?.metadata.name || request.name || '';
  if (!inputs.isGrantsSynced) {
    return {
      kind: 'allow',
      reason: 'grants-not-synced',
      warnings: [
        `sgp-operator has not read the SecurityGroupGrants yet; SecurityGroupPolicy ${namespace}/${name} is ` +
          'checked against them by the controller (see its Valid condition)',
      ],
    };
  }
  const verdict = judgeGroupsForNamespace(
    groupIds,
    { grants: inputs.grants, namespace, namespaceLabels: inputs.namespaceLabels },
    { kind: 'SecurityGroupPolicy', namespace, name },
  );
  if (verdict.allowed) return { kind: 'allow', reason: verdict.reason === 'NoGrants' ? 'no-grants' : 'granted' };
  return {
    kind: 'deny',
    code: 403,
    reason: verdict.reason === 'GrantNotResolved' ? 'grant-not-resolved' : 'group-not-granted',
    message: verdict.message,
  };
}
