import { describe, expect, test } from '@jest/globals';
import { parseBranchCapacityOverrides } from '../../../operator/limits/overrides.ts';

interface Row {
  name: string;
  data: Record<string, string> | undefined;
  capacities: Record<string, number>;
  problems: number;
}

describe('parseBranchCapacityOverrides', () => {
  test.each<Row>([
    { name: 'no ConfigMap', data: undefined, capacities: {}, problems: 0 },
    { name: 'a new type', data: { 'm9x.large': '12' }, capacities: { 'm9x.large': 12 }, problems: 0 },
    { name: 'whitespace around the number', data: { 'm9x.large': ' 7 ' }, capacities: { 'm9x.large': 7 }, problems: 0 },
    { name: 'zero branches is refused', data: { 'm9x.large': '0' }, capacities: {}, problems: 1 },
    { name: 'more than the 120 VLANs is refused', data: { 'm9x.large': '121' }, capacities: {}, problems: 1 },
    { name: 'not a number', data: { 'm9x.large': 'nine' }, capacities: {}, problems: 1 },
    { name: 'a fraction', data: { 'm9x.large': '2.5' }, capacities: {}, problems: 1 },
    { name: 'a key that is not a type', data: { branches: '9' }, capacities: {}, problems: 1 },
    {
      name: 'good entries survive bad ones',
      data: { 'm9x.large': '12', 'bad key': '3' },
      capacities: { 'm9x.large': 12 },
      problems: 1,
    },
  ])('$name', ({ data, capacities, problems }) => {
    const parsed = parseBranchCapacityOverrides(data);
    expect(parsed.capacities).toEqual(capacities);
    expect(parsed.problems).toHaveLength(problems);
  });

  test('a problem names the key and the fix', () => {
    expect(parseBranchCapacityOverrides({ 'm9x.large': 'nine' }).problems).toEqual([
      'ConfigMap sgp-operator-config key "m9x.large" has "nine"; set a whole number of branch ENIs from 1 to 120 (one VLAN each)',
    ]);
  });
});
