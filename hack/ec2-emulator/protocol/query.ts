import { Ec2Fault, invalidValue, missingParameter } from './errors.ts';

/**
 * Read access to one request's flattened Query parameters (`SecurityGroupId.1`, `Filter.2.Value.1`, …).
 * Lists are 1-based and sorted numerically (`.10` after `.9`), as the EC2 protocol flattens them.
 */
export class QueryParams {
  readonly #values: Map<string, string>;

  constructor(values: Map<string, string>) {
    this.#values = values;
  }

  static parse(body: string, queryString: string): QueryParams {
    const values = new Map<string, string>();
    for (const source of [queryString, body]) {
      if (source === '') continue;
      for (const [key, value] of new URLSearchParams(source)) values.set(key, value);
    }
    return new QueryParams(values);
  }

  keys(): IterableIterator<string> {
    return this.#values.keys();
  }

  entries(): IterableIterator<[string, string]> {
    return this.#values.entries();
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  string(name: string): string | undefined {
    return this.#values.get(name);
  }

  required(name: string): string {
    const value = this.#values.get(name);
    if (value === undefined || value === '') throw missingParameter(name);
    return value;
  }

  int(name: string, bounds?: { min: number; max: number }): number | undefined {
    const raw = this.#values.get(name);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw))
      throw invalidValue(`Value (${raw}) for parameter ${name} is invalid. Expected an integer.`);
    const value = Number(raw);
    if (bounds && (value < bounds.min || value > bounds.max)) {
      throw invalidValue(
        `Value ( ${raw} ) for parameter ${name} is invalid. Expecting a value between ${bounds.min} and ${bounds.max}.`,
      );
    }
    return value;
  }

  bool(name: string): boolean | undefined {
    const raw = this.#values.get(name);
    if (raw === undefined) return undefined;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw invalidValue(`Value (${raw}) for parameter ${name} is invalid. Expected 'true' or 'false'.`);
  }

  /** `Name.1`, `Name.2`, … as strings. */
  list(prefix: string): string[] {
    const indexed: [number, string][] = [];
    const start = `${prefix}.`;
    for (const [key, value] of this.#values) {
      if (!key.startsWith(start)) continue;
      const rest = key.slice(start.length);
      if (!/^\d+$/.test(rest)) continue;
      indexed.push([Number(rest), value]);
    }
    return indexed.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
  }

  /** `Name.N.Member…` as one {@link QueryParams} per N with the `Name.N.` prefix removed. */
  structs(prefix: string): QueryParams[] {
    const groups = new Map<number, Map<string, string>>();
    const start = `${prefix}.`;
    for (const [key, value] of this.#values) {
      if (!key.startsWith(start)) continue;
      const rest = key.slice(start.length);
      const dot = rest.indexOf('.');
      if (dot <= 0) continue;
      const head = rest.slice(0, dot);
      if (!/^\d+$/.test(head)) continue;
      const index = Number(head);
      let group = groups.get(index);
      if (!group) groups.set(index, (group = new Map()));
      group.set(rest.slice(dot + 1), value);
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, group]) => new QueryParams(group));
  }

  /**
   * Rejects parameters the action does not know (`UnknownParameter`), comparing the first dotted segment of each
   * key with the action's top-level names.
   */
  assertKnown(allowed: ReadonlySet<string>): void {
    for (const key of this.#values.keys()) {
      const dot = key.indexOf('.');
      const head = dot < 0 ? key : key.slice(0, dot);
      if (!allowed.has(head)) throw new Ec2Fault('UnknownParameter', `The parameter ${head} is not recognized`);
    }
  }

  /** Canonical form of every parameter except the listed ones (for ClientToken comparison). */
  fingerprint(except: ReadonlySet<string>): string {
    return [...this.#values.entries()]
      .filter(([key]) => !except.has(key))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
  }
}
