// A seeded random number generator whose whole state is one 32-bit integer, so a run can write it
// into its resume record and continue the same sequence after a restart (mulberry32).

/** A seeded PRNG with a saveable state. */
export class Rng {
  #state: number;

  /** A generator seeded with `seed` (any integer; only its low 32 bits count). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The generator continuing from a `state` read earlier. */
  static fromState(state: number): Rng {
    return new Rng(state);
  }

  /** The state: a new `Rng.fromState(state)` gives the same numbers from here on. */
  get state(): number {
    return this.#state;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A 31-bit seed for something else (a sampler, a sub-generator). */
  seed(): number {
    return this.int(2 ** 31);
  }
}

/** A 32-bit mix of integers, for deriving independent seeds (seed, epoch) -> seed. */
export function mixSeeds(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}
