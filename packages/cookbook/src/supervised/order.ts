// The order records are visited in: a seeded Fisher-Yates permutation of the indices, 4 bytes per
// record (a Uint32Array), a pure function of (length, seed), so a resumed run rebuilds exactly the
// order it was in.

import { Rng } from "../run/rng.js";

/** The indices 0..length-1 shuffled by `seed`; in order when `seed` is undefined. */
export function permutation(length: number, seed: number | undefined): Uint32Array {
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  if (seed === undefined) return order;
  const rng = new Rng(seed);
  for (let i = length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
