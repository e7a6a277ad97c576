import { Ec2Fault, invalidValue, missingParameter } from '../protocol/errors.ts';
import type { QueryParams } from '../protocol/query.ts';
import type { Tags } from '../state/model.ts';

/**
 * Describe filters (docs/ec2-semantics.md#describes): values inside one filter are OR-ed, filters are AND-ed, `*`/`?` wildcards with
 * backslash escapes, `tag:<key>` and `tag-key`. Unknown names → InvalidParameterValue "The filter 'x' is invalid".
 */
export interface Filter {
  name: string;
  values: string[];
}

type Scalar = string | number | boolean | undefined;
export type FieldGetter<T> = (item: T) => Scalar | Scalar[];

export interface FilterSchema<T> {
  fields: Record<string, FieldGetter<T>>;
  tags?: (item: T) => Tags;
}

const MAX_FILTERS = 50;
const MAX_FILTER_VALUES = 1000;

export function readFilters(params: QueryParams): Filter[] {
  const filters = params.structs('Filter').map((entry) => {
    const name = entry.string('Name');
    if (name === undefined) throw missingParameter('Filter.N.Name');
    return { name, values: entry.list('Value') };
  });
  if (filters.length > MAX_FILTERS || filters.some((f) => f.values.length > MAX_FILTER_VALUES)) {
    throw new Ec2Fault('FilterLimitExceeded', 'The maximum number of filter values specified on a single call is 1000');
  }
  return filters;
}

type Matcher = (text: string) => boolean;

function compileValue(pattern: string): Matcher {
  if (!/[*?\\]/.test(pattern)) return (text) => text === pattern;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegex(pattern.charAt(++i));
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += escapeRegex(c);
  }
  const regex = new RegExp(`^${source}$`, 's');
  return (text) => regex.test(text);
}

const escapeRegex = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function anyMatch(matchers: Matcher[], value: Scalar | Scalar[]): boolean {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (v === undefined) continue;
    const text = String(v);
    for (const matcher of matchers) if (matcher(text)) return true;
  }
  return false;
}

/** One predicate for all filters; throws for unknown filter names before anything is read. */
export function compileFilters<T>(filters: Filter[], schema: FilterSchema<T>): (item: T) => boolean {
  const predicates: ((item: T) => boolean)[] = [];
  for (const filter of filters) {
    const matchers = filter.values.map(compileValue);
    if (filter.name.startsWith('tag:') && schema.tags) {
      const key = filter.name.slice(4);
      const tagsOf = schema.tags;
      predicates.push((item) => anyMatch(matchers, tagsOf(item).get(key)));
    } else if (filter.name === 'tag-key' && schema.tags) {
      const tagsOf = schema.tags;
      predicates.push((item) => anyMatch(matchers, [...tagsOf(item).keys()]));
    } else if (filter.name === 'tag-value' && schema.tags) {
      const tagsOf = schema.tags;
      predicates.push((item) => anyMatch(matchers, [...tagsOf(item).values()]));
    } else {
      const getter = schema.fields[filter.name];
      if (!getter) throw invalidValue(`The filter '${filter.name}' is invalid`);
      predicates.push((item) => anyMatch(matchers, getter(item)));
    }
  }
  return (item) => predicates.every((predicate) => predicate(item));
}

/** Exact (wildcard-free) values of a filter, or undefined when absent or patterned. */
export function exactValues(filters: Filter[], name: string): string[] | undefined {
  const filter = filters.find((f) => f.name === name);
  if (!filter || filter.values.some((v) => /[*?\\]/.test(v))) return undefined;
  return filter.values;
}
