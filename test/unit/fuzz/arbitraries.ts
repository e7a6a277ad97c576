/**
 * Hostile inputs for the property-based tests: objects the API server could hand the operator (its schemas
 * accept them) that are still wrong, odd or huge — malformed selectors, unknown operators, giant label
 * sets, missing fields, prototype-polluting keys, non-EC2 provider ids, unknown instance types.
 *
 * Runs are bounded and deterministic: every property uses {@link FUZZ_PARAMETERS} (seed from
 * SGP_FUZZ_SEED, printed by fast-check on failure, so a failing run replays exactly).
 */
import fc from 'fast-check';
import type { SecurityGroupPolicy } from '../../../operator/api/types.ts';
import type { LabelSelector, LabelSelectorRequirement } from '../../../operator/framework/meta.ts';

const seedFromEnv = Number(process.env.SGP_FUZZ_SEED);
export const FUZZ_SEED = Number.isInteger(seedFromEnv) ? seedFromEnv : 20_260_611;
export const FUZZ_PARAMETERS = { numRuns: 200, seed: FUZZ_SEED } as const;

/** Keys that break naive object handling (prototype members, empty, unicode, very long). */
const nastyKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  '',
  ' ',
  'app',
  'role',
  'tier',
  'app.kubernetes.io/name',
  'ünïcødé/ключ',
  'a'.repeat(317),
);
const ordinaryKey = fc.constantFrom('app', 'role', 'tier', 'team', 'app.kubernetes.io/name', 'env');
export const labelKey = fc.oneof(
  { weight: 3, arbitrary: ordinaryKey },
  { weight: 2, arbitrary: nastyKey },
  fc.string(),
);
export const labelValue = fc.oneof(
  fc.constantFrom('web', 'db', 'prod', '', 'x'.repeat(63), 'null', 'undefined', '0'),
  fc.string({ maxLength: 70 }),
);

/**
 * A label map as JSON decoding produces it: own properties only, `__proto__` included as a plain key
 * (JSON.parse does that; an object literal would set the prototype instead).
 */
export const labels = (maxKeys = 12): fc.Arbitrary<Record<string, string>> =>
  fc
    .array(fc.tuple(labelKey, labelValue), { maxLength: maxKeys })
    .map((entries) => JSON.parse(JSON.stringify(Object.fromEntries(entries.map(([k, v]) => [k, v])))) as never)
    .map((parsed: Record<string, string>) => parsed)
    .chain((plain) =>
      fc.boolean().map((withProto) => (withProto ? withJsonKey(plain, '__proto__', 'polluted') : plain)),
    );

/** A label set far larger than any real one (thousands of keys). */
export const hugeLabels: fc.Arbitrary<Record<string, string>> = fc
  .integer({ min: 1_000, max: 4_000 })
  .map((size) => Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}.example.com/label-${i}`, `v${i}`])));

function withJsonKey(map: Record<string, string>, key: string, value: string): Record<string, string> {
  const json = JSON.stringify(map);
  const extra = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return JSON.parse(json === '{}' ? `{${extra}}` : `{${extra},${json.slice(1)}`) as Record<string, string>;
}

/** Operators the schema's enum allows plus ones it does not (a cache can hold what an old CRD admitted). */
const operator = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist') },
  { weight: 1, arbitrary: fc.constantFrom('in', 'Equals', '', 'Gt', '!=', 'DoesNotExists') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

export const requirement: fc.Arbitrary<LabelSelectorRequirement> = fc.record(
  {
    key: labelKey,
    operator: operator as fc.Arbitrary<LabelSelectorRequirement['operator']>,
    values: fc.array(labelValue, { maxLength: 5 }),
  },
  { requiredKeys: ['key', 'operator'] },
);

export const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: labels(6),
    matchExpressions: fc.array(requirement, { maxLength: 5 }),
  },
  { requiredKeys: [] },
);

/** Only well-formed requirements (what apimachinery accepts). */
export const wellFormedRequirement: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({
    key: ordinaryKey,
    operator: fc.constantFrom('In' as const, 'NotIn' as const),
    values: fc.array(labelValue, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ key: ordinaryKey, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);

export const hex = (length: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: length, maxLength: length }).map((c) => c.join(''));

/** Valid group ids (the CRD pattern: sg- then 8 or 17 hex digits), drawn from a small pool so they repeat. */
export const groupId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('sg-0123456789abcdef0', 'sg-11111111', 'sg-22222222', 'sg-0fedcba9876543210'),
  hex(17).map((h) => `sg-${h}`),
);
export const SG_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;

const namespace = fc.constantFrom('default', 'catalog', 'orders', '');
const policyName = fc.constantFrom('a', 'b', 'allow-db', 'deny-all', 'zz', 'a'.repeat(253));

export const policy: fc.Arbitrary<SecurityGroupPolicy> = fc
  .record({
    name: policyName,
    namespace,
    podSelector: fc.option(selector, { nil: undefined }),
    serviceAccountSelector: fc.option(selector, { nil: undefined }),
    groupIds: fc.array(groupId, { maxLength: 6 }),
    deleting: fc.boolean(),
    generation: fc.integer({ min: 1, max: 5 }),
  })
  .map((p) => ({
    apiVersion: 'vpcresources.k8s.aws/v1beta1' as const,
    kind: 'SecurityGroupPolicy' as const,
    metadata: {
      name: p.name,
      namespace: p.namespace,
      generation: p.generation,
      ...(p.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      ...(p.podSelector === undefined ? {} : { podSelector: p.podSelector }),
      ...(p.serviceAccountSelector === undefined ? {} : { serviceAccountSelector: p.serviceAccountSelector }),
      securityGroups: { groupIds: p.groupIds },
    },
  }));

/** A policy whose `spec` lacks fields the TypeScript type promises (older objects, hand-written YAML). */
export const policyMissingFields: fc.Arbitrary<SecurityGroupPolicy> = policy.chain((p) =>
  fc.constantFrom('spec', 'securityGroups', 'groupIds', 'name').map((missing) => {
    const copy = structuredClone(p) as unknown as Record<string, Record<string, unknown>>;
    if (missing === 'spec') delete copy.spec;
    if (missing === 'securityGroups') delete copy.spec?.securityGroups;
    if (missing === 'groupIds') (copy.spec?.securityGroups as Record<string, unknown>).groupIds = undefined;
    if (missing === 'name') delete copy.metadata?.name;
    return copy as unknown as SecurityGroupPolicy;
  }),
);
