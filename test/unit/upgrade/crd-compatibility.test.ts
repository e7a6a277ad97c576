/**
 * CRD schema compatibility across releases: the CRDs of the previous release (test/fixtures/upgrade/, rendered
 * from config/default at that release) against crds/ now, and the rules themselves on small schemas.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';

import { crdUpgradeProblems, type Crd } from '../../../hack/upgrade/crd-compatibility.ts';
import { loadCrds } from '../../../hack/control-plane/crds.ts';

const FIXTURE = new URL('../../fixtures/upgrade/v0.1.0-config-default.yaml', import.meta.url);

function crd(schema: object, versions: Array<{ name: string; served?: boolean; storage?: boolean }> = []): Crd {
  const list = versions.length > 0 ? versions : [{ name: 'v1', served: true, storage: true }];
  return {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: list.map((version) => ({
        served: true,
        storage: false,
        ...version,
        schema: { openAPIV3Schema: schema },
      })),
    },
  };
}

const BASE = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer' },
        colour: { type: 'string', enum: ['red', 'blue'] },
        tags: { type: 'array', items: { type: 'string' } },
      },
    },
  },
};

describe('crdUpgradeProblems', () => {
  test('an added optional field, a wider enum and a new object with its own required fields are compatible', () => {
    const next = structuredClone(BASE) as typeof BASE & { properties: { spec: { properties: object } } };
    Object.assign(next.properties.spec.properties, {
      colour: { type: 'string', enum: ['red', 'blue', 'green'] },
      limits: { type: 'object', required: ['max'], properties: { max: { type: 'integer' } } },
    });
    expect(crdUpgradeProblems(crd(BASE), crd(next))).toEqual([]);
  });

  test.each([
    [
      'a removed field',
      (s: typeof BASE) => delete (s.properties.spec.properties as Partial<typeof s.properties.spec.properties>).tags,
      'widgets.example.com/v1.spec.tags was removed',
    ],
    [
      'a newly required field',
      (s: typeof BASE) => s.properties.spec.required.push('colour'),
      'widgets.example.com/v1.spec newly requires colour',
    ],
    [
      'a changed type',
      (s: typeof BASE) => (s.properties.spec.properties.size.type = 'string'),
      'widgets.example.com/v1.spec.size changed type from integer to string',
    ],
    [
      'a narrowed enum',
      (s: typeof BASE) => (s.properties.spec.properties.colour.enum = ['red']),
      'widgets.example.com/v1.spec.colour no longer accepts blue',
    ],
  ])('%s is refused', (_name, change, problem) => {
    const next = structuredClone(BASE);
    change(next);
    expect(crdUpgradeProblems(crd(BASE), crd(next))).toEqual([problem]);
  });

  test('a moved storage version and a version no longer served are refused', () => {
    const before = crd(BASE, [{ name: 'v1alpha1', storage: true }, { name: 'v1beta1' }]);
    const after = crd(BASE, [
      { name: 'v1alpha1', served: false },
      { name: 'v1beta1', storage: true },
    ]);
    expect(crdUpgradeProblems(before, after)).toEqual([
      'widgets.example.com: storage version changed from v1alpha1 to v1beta1',
      'widgets.example.com: version v1alpha1 is no longer served',
    ]);
  });

  test('a removed CRD is refused', () => {
    expect(crdUpgradeProblems(crd(BASE), undefined)).toEqual(['widgets.example.com: the CRD was removed']);
  });
});

describe('upgrading from 0.1.0', () => {
  test('every CRD of 0.1.0 can be replaced by the one in crds/', async () => {
    const previous = parseAllDocuments(readFileSync(FIXTURE, 'utf8'))
      .map((document) => document.toJS() as Crd & { kind: string })
      .filter((object) => object.kind === 'CustomResourceDefinition');
    const current = (await loadCrds()) as unknown as Crd[];
    expect(previous.map((crd) => crd.metadata.name).sort()).toEqual([
      'branchinterfaces.trunking.sgp-operator.io',
      'cninodes.vpcresources.k8s.aws',
      'securitygrouppolicies.vpcresources.k8s.aws',
      'trunkinterfaces.trunking.sgp-operator.io',
    ]);
    const problems = previous.flatMap((crd) =>
      crdUpgradeProblems(
        crd,
        current.find((next) => next.metadata.name === crd.metadata.name),
      ),
    );
    expect(problems).toEqual([]);
  });
});
