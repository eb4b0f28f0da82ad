// Learning-rate schedules position by position on small cases, computed by hand.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { learningRateAt, lrMultiplier, RecipeError } from "../../src/index.js";

const all = (kind: "constant" | "linear" | "cosine", total: number, extra = {}) =>
  Array.from({ length: total }, (_, s) => lrMultiplier({ kind, ...extra }, s, total));

function close(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  for (const [i, a] of actual.entries())
    assert.ok(Math.abs(a - expected[i]!) < 1e-12, `step ${i}: ${a} vs ${expected[i]}`);
}

describe("lrMultiplier", () => {
  it("constant is 1 at every step", () => close(all("constant", 4), [1, 1, 1, 1]));
  it("linear goes 1, 3/4, 1/2, 1/4 over four steps", () => close(all("linear", 4), [1, 0.75, 0.5, 0.25]));
  it("cosine follows half a cosine: 1, (1+cos(pi/4))/2, 1/2, (1+cos(3pi/4))/2", () =>
    close(all("cosine", 4), [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2]));
  it("warmup ramps (s+1)/w, then the decay runs over the remaining steps", () => {
    close(all("linear", 6, { warmupSteps: 2 }), [0.5, 1, 1, 0.75, 0.5, 0.25]);
    close(all("constant", 3, { warmupSteps: 3 }), [1 / 3, 2 / 3, 1]);
    close(all("cosine", 4, { warmupSteps: 2 }), [0.5, 1, 1, 0.5]);
  });
  it("minLrRatio is the floor the decay heads for", () =>
    close(all("linear", 4, { minLrRatio: 0.2 }), [1, 0.8, 0.6, 0.4]));
  it("learningRateAt multiplies the base rate", () => {
    assert.equal(learningRateAt({ kind: "linear" }, 0.01, 2, 4), 0.005);
  });
  it("bad schedules and steps are RecipeErrors", () => {
    assert.throws(() => lrMultiplier({ kind: "linear" }, 4, 4), RecipeError);
    assert.throws(() => lrMultiplier({ kind: "linear" }, -1, 4), RecipeError);
    assert.throws(() => lrMultiplier({ kind: "linear", warmupSteps: 5 }, 0, 4), RecipeError);
    assert.throws(() => lrMultiplier({ kind: "linear", minLrRatio: 2 }, 0, 4), RecipeError);
    assert.throws(() => lrMultiplier({ kind: "exp" as "linear" }, 0, 4), /unknown schedule kind "exp"/);
    assert.throws(() => learningRateAt({ kind: "constant" }, 0, 0, 4), /positive number/);
  });
});
