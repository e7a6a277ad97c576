/**
 * Keeps operator/api/types.ts and the CRD schemas in crds/ in step: a fully populated object of each type
 * must validate against its CRD, and must use every field the schema declares (so a field added on one side
 * only fails here). Also checks what `kubectl explain` users rely on: every field has a description.
 *
 * The checker covers the OpenAPI subset our CRDs use (type, properties, required, items, enum, pattern,
 * min/max, additionalProperties); the apiserver remains the authority (test/integration/control-plane).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';

import type {
  BranchInterface,
  CNINode,
  SecurityGroupGrant,
  SecurityGroupPolicy,
  TrunkInterface,
} from '../../../operator/api/types.ts';

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  additionalProperties?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface Crd {
  metadata: { name: string };
  spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
}

const crdDir = join(import.meta.dirname, '..', '..', '..', 'crds');
const allCrds: Crd[] = readdirSync(crdDir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(readFileSync(join(crdDir, f), 'utf8')).map((d) => d.toJS() as Crd));
/** The VPC CNI's ENIConfig CRD is vendored unchanged: its schema and descriptions are the CNI's, not ours. */
const VENDORED = new Set(['eniconfigs.crd.k8s.amazonaws.com']);
const crds = allCrds.filter((c) => !VENDORED.has(c.metadata.name));

function schemaOf(kind: string): Schema {
  const crd = crds.find((c) => c.spec.names.kind === kind);
  const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`no CRD for ${kind} in ${crdDir}`);
  return schema;
}

/** Errors as `path: problem`; [] when `value` conforms. */
function validate(schema: Schema, value: unknown, path = ''): string[] {
  const at = path || '<root>';
  if (value === undefined || value === null) return [`${at}: is ${String(value)}`];
  const errors: string[] = [];
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected object`];
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in record)) errors.push(`${path}.${key}: required`);
      for (const [key, child] of Object.entries(record)) {
        const sub = schema.properties?.[key] ?? schema.additionalProperties;
        if (sub) errors.push(...validate(sub, child, `${path}.${key}`));
        else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.properties) {
          errors.push(`${path}.${key}: unknown field (the apiserver would prune it)`);
        }
      }
      return errors;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: expected array`];
      if (schema.minItems !== undefined && value.length < schema.minItems)
        errors.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        errors.push(`${at}: more than ${schema.maxItems} items`);
      value.forEach((item, i) => schema.items && errors.push(...validate(schema.items, item, `${path}[${i}]`)));
      return errors;
    }
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected string`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value))
        errors.push(`${at}: does not match ${schema.pattern}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: too short`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: too long`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) return [`${at}: expected integer`];
      if (schema.minimum !== undefined && (value as number) < schema.minimum)
        errors.push(`${at}: below ${schema.minimum}`);
      if (schema.maximum !== undefined && (value as number) > schema.maximum)
        errors.push(`${at}: above ${schema.maximum}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${at}: expected boolean`];
      break;
    default:
      return [`${at}: schema has no type`];
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: not one of ${schema.enum.join(', ')}`);
  return errors;
}

/** Every property path the schema declares under spec and status (arrays as [], maps as {}). */
function schemaPaths(schema: Schema, path = ''): string[] {
  if (schema.type === 'array' && schema.items) return schemaPaths(schema.items, `${path}[]`);
  if (schema.type === 'object' && schema.additionalProperties) return [`${path}{}`];
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties).flatMap(([k, s]) => [`${path}.${k}`, ...schemaPaths(s, `${path}.${k}`)]);
  }
  return [];
}

function valuePaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((item) => valuePaths(item, `${path}[]`)))];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [`${path}.${k}`, ...valuePaths(v, `${path}.${k}`)]);
  }
  return [];
}

/** Map-valued fields (additionalProperties) appear as `path` and `path{}`, whatever keys the sample uses. */
const mapPaths = (paths: string[], maps: string[]) =>
  paths
    .filter((p) => !maps.some((m) => p.startsWith(`${m}.`)))
    .flatMap((p) => (maps.includes(p) ? [p, `${p}{}`] : [p]));

const condition = {
  type: 'Ready',
  status: 'True' as const,
  reason: 'Resolved',
  message: 'all groups exist',
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 1,
};
const selector = {
  matchLabels: { app: 'payments' },
  matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['canary'] }],
};

const sgp: SecurityGroupPolicy = {
  apiVersion: 'vpcresources.k8s.aws/v1beta1',
  kind: 'SecurityGroupPolicy',
  metadata: { name: 'db', namespace: 'payments' },
  spec: {
    podSelector: selector,
    serviceAccountSelector: selector,
    securityGroups: {
      groupIds: ['sg-0123456789abcdef0', 'sg-12345678'],
      groupNames: ['payments-db'],
      groupSelectors: [{ tags: { team: 'payments', role: 'cache' } }],
    },
  },
  status: {
    observedGeneration: 1,
    conditions: [condition],
    resolvedGroupIds: ['sg-0123456789abcdef0', 'sg-12345678', 'sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
    resolvedReferences: [
      { name: 'payments-db', groupId: 'sg-0aaaaaaaaaaaaaaaa', groupName: 'payments-db' },
      { tags: { team: 'payments', role: 'cache' }, groupId: 'sg-0bbbbbbbbbbbbbbbb', groupName: 'payments-cache' },
    ],
    matchedPods: 3,
  },
};
const connectionTracking = { tcpEstablishedTimeout: 3600, udpStreamTimeout: 120, udpTimeout: 45 };
const cninode: CNINode = {
  apiVersion: 'vpcresources.k8s.aws/v1alpha1',
  kind: 'CNINode',
  metadata: { name: 'node-a' },
  spec: {
    features: [{ name: 'SecurityGroupsForPods', value: '' }],
    tags: { team: 'platform' },
    managedBy: 'vpc-resource-controller',
  },
  status: {
    nodeNetworkState: {
      instanceID: 'i-0123456789abcdef0',
      instanceType: 'm5.large',
      subnetID: 'subnet-0123456789abcdef0',
      subnetCIDRBlock: '100.64.0.0/19',
      subnetV6CIDRBlock: '2600:1f14::/64',
      primaryNetworkInterfaceSecurityGroups: ['sg-0123456789abcdef0'],
      connectionTracking,
    },
    trunkInterface: {
      id: 'eni-0123456789abcdef0',
      macAddress: '02:42:ac:11:00:02',
      deviceIndex: 2,
      subnetID: 'subnet-0123456789abcdef0',
      branches: [
        {
          id: 'eni-0fedcba9876543210',
          vlanID: 1,
          associationID: 'trunk-assoc-0123456789abcdef0',
          macAddress: '02:42:ac:11:00:03',
          subnetCIDR: '100.64.0.0/19',
          subnetV6CIDR: '2600:1f14::/64',
          securityGroups: ['sg-0123456789abcdef0'],
          ipv4CIDRs: ['100.64.1.10/32'],
          ipv6CIDRs: ['2600:1f14::10/128'],
        },
      ],
    },
  },
};
const trunk: TrunkInterface = {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'TrunkInterface',
  metadata: { name: 'node-a' },
  spec: { nodeName: 'node-a', instanceId: 'i-0123456789abcdef0', instanceType: 'm5.large' },
  status: {
    observedGeneration: 1,
    state: 'Ready',
    eniId: 'eni-0123456789abcdef0',
    attachmentId: 'eni-attach-0123456789abcdef0',
    subnetId: 'subnet-0123456789abcdef0',
    subnetCidr: '192.168.0.0/19',
    subnetV6Cidr: '2600:1f14::/64',
    availabilityZone: 'us-west-2a',
    securityGroups: ['sg-0123456789abcdef0'],
    eniConfig: 'us-west-2a',
    branchSubnet: { subnetId: 'subnet-0123456789abcdef0', cidrBlock: '100.64.0.0/19', ipv6CidrBlock: '2600:1f14::/64' },
    primaryInterface: { securityGroups: ['sg-0123456789abcdef0'], connectionTracking },
    branchCapacity: 9,
    branchesUsed: 2,
    vpcCidrBlocks: ['10.0.0.0/16'],
    podSubnets: [{ subnetId: 'subnet-2', cidrBlock: '100.64.0.0/24' }],
    conditions: [condition],
  },
};
const branch: BranchInterface = {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'BranchInterface',
  metadata: { name: 'pod-a', namespace: 'payments' },
  spec: {
    podName: 'pod-a',
    podUid: '3f1e6a52-0c1d-4f3b-9a57-2b8f6a1c9d40',
    nodeName: 'node-a',
    securityGroups: ['sg-0123456789abcdef0'],
    matchedPolicies: ['db'],
  },
  status: {
    observedGeneration: 1,
    phase: 'Ready',
    eniId: 'eni-0fedcba9876543210',
    vlanId: 1,
    trunkEniId: 'eni-0123456789abcdef0',
    associationId: 'trunk-assoc-0123456789abcdef0',
    macAddress: '02:42:ac:11:00:02',
    privateIp: '192.168.1.10',
    ipv6Address: '2600:1f14::10',
    subnetId: 'subnet-0123456789abcdef0',
    subnetCidr: '192.168.0.0/19',
    subnetV6Cidr: '2600:1f14::/64',
    appliedSecurityGroups: ['sg-0123456789abcdef0'],
    releaseRequestedAt: '2026-01-01T00:00:00Z',
    conditions: [condition],
  },
};

const grant: SecurityGroupGrant = {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'SecurityGroupGrant',
  metadata: { name: 'payments-data' },
  spec: {
    namespaces: { names: ['payments'], selector },
    securityGroups: {
      groupIds: ['sg-0123456789abcdef0'],
      tags: [{ key: 'team', values: ['payments'] }],
    },
  },
  status: { observedGeneration: 1, resolvedGroupIds: ['sg-12345678'], conditions: [condition] },
};

const samples = [
  {
    kind: 'SecurityGroupPolicy',
    object: sgp,
    maps: [
      '.spec.podSelector.matchLabels',
      '.spec.serviceAccountSelector.matchLabels',
      '.spec.securityGroups.groupSelectors[].tags',
      '.status.resolvedReferences[].tags',
    ],
  },
  { kind: 'CNINode', object: cninode, maps: ['.spec.tags'] },
  { kind: 'TrunkInterface', object: trunk, maps: [] },
  { kind: 'BranchInterface', object: branch, maps: [] },
  { kind: 'SecurityGroupGrant', object: grant, maps: ['.spec.namespaces.selector.matchLabels'] },
];

describe('CRD schemas and operator/api/types.ts', () => {
  test("crds/ holds our three CRDs, EKS's two, and the VPC CNI's ENIConfig", () => {
    expect(allCrds.map((c) => c.metadata.name).sort()).toEqual([
      'branchinterfaces.trunking.sgp-operator.io',
      'cninodes.vpcresources.k8s.aws',
      'eniconfigs.crd.k8s.amazonaws.com',
      'securitygroupgrants.trunking.sgp-operator.io',
      'securitygrouppolicies.vpcresources.k8s.aws',
      'trunkinterfaces.trunking.sgp-operator.io',
    ]);
  });

  test.each(samples)('a fully populated $kind validates against its CRD', ({ kind, object }) => {
    expect(validate(schemaOf(kind), object)).toEqual([]);
  });

  test.each(samples)('$kind: the type and the schema declare the same fields', ({ kind, object, maps }) => {
    const fromSchema = schemaPaths(schemaOf(kind)).filter((p) => /^\.(spec|status)\b/.test(p));
    const fromType = mapPaths(valuePaths(object), maps).filter((p) => /^\.(spec|status)\b/.test(p));
    expect(fromType.sort()).toEqual(fromSchema.sort());
  });

  test.each(crds.map((c) => ({ name: c.metadata.name, schema: c.spec.versions[0]?.schema.openAPIV3Schema })))(
    '$name: every field has a description (kubectl explain)',
    ({ schema }) => {
      const undescribed: string[] = [];
      const walk = (s: Schema, path: string) => {
        if (!s.description && path !== '.metadata') undescribed.push(path || '<root>');
        for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, `${path}.${k}`);
        if (s.items?.properties) walk(s.items, `${path}[]`);
      };
      if (schema) walk(schema, '');
      expect(undescribed).toEqual([]);
    },
  );

  test.each([
    { name: 'no group ids', groupIds: [], error: '.spec.securityGroups.groupIds: fewer than 1 items' },
    { name: 'malformed id', groupIds: ['sg-xyz'], error: '.spec.securityGroups.groupIds[0]: does not match' },
    { name: '9 hex digits', groupIds: ['sg-123456789'], error: '.spec.securityGroups.groupIds[0]: does not match' },
    {
      name: '17 groups',
      groupIds: Array.from({ length: 17 }, (_, i) => `sg-${String(i).padStart(8, '0')}`),
      error: '.spec.securityGroups.groupIds: more than 16 items',
    },
  ])('SecurityGroupPolicy with $name is invalid', ({ groupIds, error }) => {
    const invalid = { ...sgp, spec: { ...sgp.spec, securityGroups: { groupIds } } };
    expect(validate(schemaOf('SecurityGroupPolicy'), invalid).join('\n')).toContain(error);
  });

  test('a VLAN id outside 1..120 and an unknown phase are invalid', () => {
    const invalid = { ...branch, status: { ...branch.status, vlanId: 121, phase: 'Attached' } };
    expect(validate(schemaOf('BranchInterface'), invalid)).toEqual([
      '.status.phase: not one of Pending, Creating, Associating, Ready, CoolingDown, Releasing',
      '.status.vlanId: above 120',
    ]);
  });
});
