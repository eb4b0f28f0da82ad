// Deterministic pseudo-random numbers (xoshiro128**), seeded from any safe integer or bigint.
// Math.random is never used: the same seed must give the same bits on every run.

function mix32(x: number): number {
  // murmur3 finaliser: spreads every input bit over the whole word.
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits an integer seed (number up to 2^53 or any bigint, negative allowed) into 32-bit words. */
function seedWords(seed: number | bigint): number[] {
  let big = typeof seed === "bigint" ? seed : BigInt(seed);
  const negative = big < 0n;
  if (negative) big = -big;
  const words: number[] = [negative ? 1 : 0];
  do {
    words.push(Number(big & 0xffffffffn));
    big >>= 32n;
  } while (big > 0n);
  return words;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `stream` separates independent sequences drawn from one seed (e.g. one per tensor). */
  constructor(seed: number | bigint, stream = 0) {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
      throw new RangeError(`PRNG seed must be an integer, got ${seed}`);
    }
    let h = mix32(0x9e3779b9 ^ stream);
    for (const w of seedWords(seed)) h = mix32(h ^ mix32(w + 0x7f4a7c15));
    // Four differently salted words; xoshiro must not start from the all-zero state.
    this.s0 = mix32(h ^ 0x243f6a88);
    this.s1 = mix32(h ^ 0x85a308d3);
    this.s2 = mix32(h ^ 0x13198a2e);
    this.s3 = mix32(h ^ 0x03707344);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [-limit, limit). */
  uniform(limit: number): number {
    return (2 * this.nextFloat() - 1) * limit;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
