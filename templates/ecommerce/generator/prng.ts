// Seeded pseudo-random numbers for the sample-data generator: sfc32 streams derived from
// (seed, salt) so each table draws from its own independent, reproducible sequence.

const TWO_POW_32 = 4294967296;
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** splitmix32 step: a well-mixed 32-bit hash of a 32-bit input. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hashes a string salt to 32 bits (FNV-1a). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A small, fast PRNG (sfc32) with the sampling helpers the generator needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, salt: string) {
    const lo = seed | 0;
    const hi = Math.floor(seed / TWO_POW_32) | 0;
    const s = hashString(salt);
    this.a = mix32(lo ^ s);
    this.b = mix32(hi ^ mix32(s));
    this.c = mix32(this.a ^ 0x5bd1e995);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** Next uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / TWO_POW_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  /** Number of failures before the first success, P(success) = p (mean (1-p)/p). */
  geometric(p: number): number {
    return Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  /** `n` random characters from [A-Za-z0-9]. */
  alnum(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += ALNUM[this.next() % 62];
    return s;
  }

  /** `n` random lowercase hex characters. */
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i += 8) s += hex32(this.next());
    return s.slice(0, n);
  }
}

/** A bijective scramble of a 32-bit index: distinct inputs always give distinct outputs. */
export function scramble32(i: number): number {
  let x = Math.imul(i ^ 0x2545f491, 0x9e3779b1) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca77) >>> 0;
  return (x ^ (x >>> 13)) >>> 0;
}

/** Fixed-width base-62 rendering of a 32-bit value (6 characters cover 2^32). */
export function base62(x: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = ALNUM[x % 62] + s;
    x = Math.floor(x / 62);
  }
  return s;
}

/** Fixed-width lowercase hex rendering of a 32-bit value. */
export function hex32(x: number): string {
  return (
    HEX_BYTE[x >>> 24] + HEX_BYTE[(x >>> 16) & 255] + HEX_BYTE[(x >>> 8) & 255] + HEX_BYTE[x & 255]
  );
}

/** Index of the first element of the ascending array `cum` (within [0, end)) greater than `x`. */
export function searchCumulative(cum: Float64Array, x: number, end = cum.length): number {
  let lo = 0;
  let hi = end - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
