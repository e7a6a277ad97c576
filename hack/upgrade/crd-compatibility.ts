/**
 * Whether a new CustomResourceDefinition can replace an old one under existing objects: every object stored
 * under the old schema must stay readable, writable and valid. Pure; used by the upgrade tests against the
 * previous release's manifests (test/fixtures/upgrade/).
 *
 * Refused: a CRD that disappears or changes scope or names; a served version that is no longer served; a
 * different storage version (stored objects would need a migration); and, in every version both serve, a
 * removed field, a changed type, a field newly required in an object that already existed, or a narrowed enum.
 */

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
}

interface Version {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Schema };
}

export interface Crd {
  metadata: { name?: string };
  spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: Version[] };
}

function schemaProblems(path: string, before: Schema, after: Schema | undefined, problems: string[]): void {
  if (!after) {
    problems.push(`${path} was removed`);
    return;
  }
  if (before.type !== after.type) problems.push(`${path} changed type from ${before.type} to ${after.type}`);
  const newlyRequired = (after.required ?? []).filter((field) => !(before.required ?? []).includes(field));
  if (newlyRequired.length > 0) problems.push(`${path} newly requires ${newlyRequired.join(', ')}`);
  if (before.enum) {
    const dropped = before.enum.filter((value) => !(after.enum ?? before.enum)?.includes(value));
    if (dropped.length > 0) problems.push(`${path} no longer accepts ${dropped.map(String).join(', ')}`);
  }
  for (const [name, property] of Object.entries(before.properties ?? {})) {
    schemaProblems(`${path}.${name}`, property, after.properties?.[name], problems);
  }
  if (before.items) schemaProblems(`${path}[]`, before.items, after.items, problems);
  if (typeof before.additionalProperties === 'object') {
    const next = typeof after.additionalProperties === 'object' ? after.additionalProperties : undefined;
    schemaProblems(`${path}{}`, before.additionalProperties, next, problems);
  }
}

/** What stops `current` from replacing `previous` (same CRD name); empty when it can. */
export function crdUpgradeProblems(previous: Crd, current: Crd | undefined): string[] {
  const name = previous.metadata.name ?? '';
  if (!current) return [`${name}: the CRD was removed`];
  const problems: string[] = [];
  if (previous.spec.scope !== current.spec.scope) problems.push(`${name}: scope changed to ${current.spec.scope}`);
  if (
    previous.spec.names.kind !== current.spec.names.kind ||
    previous.spec.names.plural !== current.spec.names.plural
  ) {
    problems.push(`${name}: kind or plural changed`);
  }
  const storage = (crd: Crd) => crd.spec.versions.find((version) => version.storage)?.name;
  if (storage(previous) !== storage(current)) {
    problems.push(`${name}: storage version changed from ${storage(previous)} to ${storage(current)}`);
  }
  for (const before of previous.spec.versions.filter((version) => version.served)) {
    const after = current.spec.versions.find((version) => version.name === before.name);
    if (!after?.served) {
      problems.push(`${name}: version ${before.name} is no longer served`);
      continue;
    }
    const oldSchema = before.schema?.openAPIV3Schema;
    if (oldSchema) {
      schemaProblems(`${name}/${before.name}`, oldSchema, after.schema?.openAPIV3Schema, problems);
    }
  }
  return problems;
}
