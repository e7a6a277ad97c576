import { invalidValue } from '../protocol/errors.ts';

/** IPv4 helpers and per-subnet allocation (docs/ec2-semantics.md#subnet-addresses): AWS reserves the first four and the last address. */

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function intToIp(value: number): string {
  return `${Math.floor(value / 16777216) % 256}.${Math.floor(value / 65536) % 256}.${Math.floor(value / 256) % 256}.${value % 256}`;
}

export interface Cidr {
  base: number;
  prefix: number;
  size: number;
  text: string;
}

/** Parses `a.b.c.d/n` with n in [minPrefix, maxPrefix]; the address must be the block's network address. */
export function parseCidr(text: string, minPrefix = 16, maxPrefix = 28): Cidr {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text);
  const base = match?.[1] === undefined ? undefined : ipToInt(match[1]);
  const prefix = Number(match?.[2]);
  if (base === undefined || !(prefix >= minPrefix && prefix <= maxPrefix)) {
    throw invalidValue(`Value (${text}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw invalidValue(`The CIDR '${text}' is invalid.`);
  return { base, prefix, size, text };
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** Lowest-free allocation over a bitmap (8 KiB for a /16): deterministic, never reserved, never duplicate. */
export class Ipv4Pool {
  readonly cidr: Cidr;
  readonly #used: Uint8Array;
  #usedCount = 0;
  #hint = 4;

  constructor(cidr: Cidr) {
    this.cidr = cidr;
    this.#used = new Uint8Array(Math.ceil(cidr.size / 8));
  }

  get usable(): number {
    return this.cidr.size - 5;
  }

  get available(): number {
    return this.usable - this.#usedCount;
  }

  #isUsed(offset: number): boolean {
    return ((this.#used[offset >> 3] ?? 0) & (1 << (offset & 7))) !== 0;
  }

  #mark(offset: number, used: boolean): void {
    const byte = this.#used[offset >> 3] ?? 0;
    this.#used[offset >> 3] = used ? byte | (1 << (offset & 7)) : byte & ~(1 << (offset & 7));
    this.#usedCount += used ? 1 : -1;
  }

  /** Next free address, or undefined when the subnet is full. */
  allocate(): string | undefined {
    const last = this.cidr.size - 2;
    for (let offset = this.#hint; offset <= last; offset++) {
      if (!this.#isUsed(offset)) {
        this.#mark(offset, true);
        this.#hint = offset + 1;
        return intToIp(this.cidr.base + offset);
      }
    }
    return undefined;
  }

  /** Claims a specific address; false when it is reserved, outside the block or taken. */
  claim(ip: string): boolean {
    const value = ipToInt(ip);
    if (value === undefined) return false;
    const offset = value - this.cidr.base;
    if (offset < 4 || offset > this.cidr.size - 2 || this.#isUsed(offset)) return false;
    this.#mark(offset, true);
    return true;
  }

  release(ip: string): void {
    const value = ipToInt(ip);
    if (value === undefined) return;
    const offset = value - this.cidr.base;
    if (offset < 4 || offset > this.cidr.size - 2 || !this.#isUsed(offset)) return;
    this.#mark(offset, false);
    if (offset < this.#hint) this.#hint = offset;
  }
}
