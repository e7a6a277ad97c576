/**
 * config/rbac as the aggregation controller reads it: no ClusterRole that can write SecurityGroupGrants is
 * aggregated into the built-in edit or admin roles. A namespace editor or admin able to write a grant could give
 * their own namespace any security group, which is exactly what grants exist to prevent (docs/group-grants.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}
interface ClusterRole {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  rules?: Rule[];
}

const dir = join(import.meta.dirname, '..', '..', '..', 'config', 'rbac');
const roles: ClusterRole[] = readdirSync(dir)
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as ClusterRole))
  .filter((object) => object?.kind === 'ClusterRole');

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];

function grantVerbs(role: ClusterRole): string[] {
  return (role.rules ?? [])
    .filter((rule) => rule.apiGroups?.some((g) => g === 'trunking.sgp-operator.io' || g === '*'))
    .filter((rule) => rule.resources?.some((r) => r === 'securitygroupgrants' || r === '*'))
    .flatMap((rule) => rule.verbs ?? []);
}

function aggregatesInto(role: ClusterRole): string[] {
  return ['edit', 'admin', 'view'].filter(
    (name) => role.metadata.labels?.[`rbac.authorization.k8s.io/aggregate-to-${name}`] === 'true',
  );
}

describe('config/rbac and SecurityGroupGrants', () => {
  test('the roles that can write grants are aggregated nowhere; the one aggregated into view only reads', () => {
    const touching = roles
      .filter((role) => grantVerbs(role).length > 0)
      .map((role) => ({
        name: role.metadata.name,
        writes: grantVerbs(role).some((verb) => WRITE_VERBS.includes(verb)),
        aggregatesInto: aggregatesInto(role),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(touching).toEqual([
      { name: 'kubectl-sgp-viewer', writes: false, aggregatesInto: [] },
      { name: 'manager-role', writes: false, aggregatesInto: [] },
      { name: 'securitygroupgrant-admin-role', writes: true, aggregatesInto: [] },
      { name: 'securitygroupgrant-viewer-role', writes: false, aggregatesInto: ['view'] },
    ]);
  });
});
