import { invalidValue } from '../protocol/errors.ts';
import type { Rng } from './rng.ts';

/**
 * IPv6 helpers and per-subnet allocation. A VPC holds /56 blocks and each subnet one /64 of them, as on AWS.
 * EC2 picks an ENI's IPv6 addresses anywhere in the subnet's /64 (not lowest-first as for IPv4), so the pool
 * draws host parts from the seeded generator: deterministic within a run, never a duplicate.
 */

const BITS = 128n;
const ALL_ONES = (1n << BITS) - 1n;

/** Parses an IPv6 address (`::` compression, no zone, no embedded IPv4) to its 128-bit value. */
export function ipv6ToBigInt(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split('::').length > 2) return undefined;
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return value;
}

/** The canonical text form (RFC 5952): lower case, no leading zeros, the longest run of zero groups as `::`. */
export function bigIntToIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

export interface Ipv6Cidr {
  base: bigint;
  prefix: number;
  /** Canonical text. */
  text: string;
}

/** Parses `addr/n` with n exactly `prefix`; the address must be the block's network address. */
export function parseIpv6Cidr(text: string, prefix: number): Ipv6Cidr {
  const [address = '', length] = text.split('/');
  const base = ipv6ToBigInt(address);
  if (base === undefined || Number(length) !== prefix) {
    throw invalidValue(`invalid value for parameter ipv6-cidr-block: ${text}`);
  }
  const hostBits = BITS - BigInt(prefix);
  if ((base & ((1n << hostBits) - 1n)) !== 0n)
    throw invalidValue(`invalid value for parameter ipv6-cidr-block: ${text}`);
  return { base, prefix, text: `${bigIntToIpv6(base)}/${prefix}` };
}

export function ipv6CidrContains(outer: Ipv6Cidr, inner: Ipv6Cidr): boolean {
  const mask = (ALL_ONES << (BITS - BigInt(outer.prefix))) & ALL_ONES;
  return inner.prefix >= outer.prefix && (inner.base & mask) === outer.base;
}

export function ipv6CidrsOverlap(a: Ipv6Cidr, b: Ipv6Cidr): boolean {
  return ipv6CidrContains(a, b) || ipv6CidrContains(b, a);
}

/** Addresses of one subnet's /64. AWS reserves the first four and the last address of the block. */
export class Ipv6Pool {
  readonly cidr: Ipv6Cidr;
  readonly #used = new Set<bigint>();

  constructor(cidr: Ipv6Cidr) {
    this.cidr = cidr;
  }

  #offset(ip: string): bigint | undefined {
    const value = ipv6ToBigInt(ip);
    if (value === undefined) return undefined;
    const offset = value - this.cidr.base;
    const last = (1n << (BITS - BigInt(this.cidr.prefix))) - 2n;
    return offset >= 4n && offset <= last ? offset : undefined;
  }

  /** A free address with a host part from `rng`. */
  allocate(rng: Rng): string {
    for (;;) {
      const offset = BigInt(`0x${rng.hex(16)}`);
      const last = (1n << (BITS - BigInt(this.cidr.prefix))) - 2n;
      if (offset < 4n || offset > last || this.#used.has(offset)) continue;
      this.#used.add(offset);
      return bigIntToIpv6(this.cidr.base + offset);
    }
  }

  /** Inside the block, not reserved and not taken. */
  isFree(ip: string): boolean {
    const offset = this.#offset(ip);
    return offset !== undefined && !this.#used.has(offset);
  }

  /** Claims a specific address; false when it is outside the block, reserved or taken. */
  claim(ip: string): boolean {
    const offset = this.#offset(ip);
    if (offset === undefined || this.#used.has(offset)) return false;
    this.#used.add(offset);
    return true;
  }

  release(ip: string): void {
    const offset = this.#offset(ip);
    if (offset !== undefined) this.#used.delete(offset);
  }
}
