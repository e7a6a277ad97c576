import { createHash } from 'node:crypto';

/**
 * Deterministic generator (sfc32 seeded from SHA-256 of a string): the same rngSeed and the same sequence
 * of calls give the same ids, MACs and fault draws, so failures reproduce.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    const digest = createHash('sha256').update(seed).digest();
    this.#a = digest.readUInt32LE(0);
    this.#b = digest.readUInt32LE(4);
    this.#c = digest.readUInt32LE(8);
    this.#d = digest.readUInt32LE(12);
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  fraction(): number {
    return this.next() / 4294967296;
  }

  hex(digits: number): string {
    let out = '';
    while (out.length < digits) out += this.next().toString(16).padStart(8, '0');
    return out.slice(0, digits);
  }
}
