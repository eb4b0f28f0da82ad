// The linear-time top-k / top-p selection (model/rank-select.ts) against the rank-order heap walk
// it replaced (model/sampling-reference.ts): same draws, same tokens, over random logit rows with
// ties, on vocabularies below and above the selection's small-range cut-off.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Prng } from "../src/model/prng.js";
import { chooseToken, resolveSamplingParams } from "../src/model/sampling.js";
import { chooseTokenByHeap } from "../src/model/sampling-reference.js";

test("top_k / top_p selection picks the token the rank-order walk picks, draw for draw", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.constantFrom(-1, 1, 2, 5, 40, 1000),
      fc.constantFrom(1, 0.999, 0.9, 0.5, 0.1, 1e-9),
      fc.constantFrom(0.3, 1, 2.5),
      fc.boolean(),
      (V, seed, topK, topP, temperature, coarse) => {
        const rows = new Prng(seed, 1);
        // Coarse logits repeat values often, which exercises the lower-id-first tie rule.
        const logits = Float64Array.from({ length: V + 3 }, () =>
          coarse ? Math.floor(rows.nextFloat() * 6) : (rows.nextFloat() - 0.5) * 12,
        );
        const params = resolveSamplingParams({ top_k: topK, top_p: topP, temperature }, V);
        if (!((params.topK > 0 && params.topK < V) || params.topP < 1)) return;
        const fast = new Prng(seed, 2);
        const slow = new Prng(seed, 2);
        for (let draw = 0; draw < 4; draw++) {
          const a = chooseToken(logits, 3, V, params, fast);
          const b = chooseTokenByHeap(logits, 3, V, params, slow);
          assert.equal(a, b, `V=${V} top_k=${topK} top_p=${topP} T=${temperature} draw ${draw}`);
        }
      },
    ),
    { numRuns: 300, seed: 8 },
  );
});

test("a nucleus on a nearly flat 150k vocabulary keeps most of it and samples inside it", () => {
  const V = 150_000;
  const rows = new Prng(5, 1);
  const logits = Float64Array.from({ length: V }, () => rows.nextFloat() * 1e-3);
  const params = resolveSamplingParams({ top_p: 0.9, temperature: 1 }, V);
  const fast = new Prng(9, 2);
  const slow = new Prng(9, 2);
  for (let draw = 0; draw < 3; draw++) {
    assert.equal(chooseToken(logits, 0, V, params, fast), chooseTokenByHeap(logits, 0, V, params, slow));
  }
});
