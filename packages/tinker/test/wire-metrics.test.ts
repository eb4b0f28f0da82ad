import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  combineHashUnordered,
  type ForwardBackwardOutput,
  mergeForwardBackwardOutputs,
  parseMetricKey,
  reduceMetrics,
} from "tinker-ts/wire";
import { ResponseValidationError } from "../src/client/errors.js";

const chunk = (weight: number, metrics: Record<string, number>) => ({ weight, metrics });

describe("reduceMetrics", () => {
  it("weights mean and slack by datum count; sums, mins and maxes", () => {
    const out = reduceMetrics([
      chunk(1, { "a:mean": 1, "b:sum": 2, "c:min": 5, "d:max": 5, "e:slack": 1 }),
      chunk(3, { "a:mean": 5, "b:sum": 3, "c:min": -1, "d:max": 9, "e:slack": 5 }),
    ]);
    assert.deepEqual(out, { "a:mean": 4, "b:sum": 5, "c:min": -1, "d:max": 9, "e:slack": 1 });
  });

  it("averages plainly when no chunk has datums", () => {
    assert.deepEqual(reduceMetrics([chunk(0, { "a:mean": 1 }), chunk(0, { "a:mean": 3 })]), { "a:mean": 2 });
  });

  it("keeps the first unique value and numbers the other distinct ones", () => {
    const out = reduceMetrics([
      chunk(1, { "v:unique": 7 }),
      chunk(1, { "v:unique": 8 }),
      chunk(1, { "v:unique": 7 }),
      chunk(1, { "v:unique": 9 }),
    ]);
    assert.deepEqual(out, { "v:unique": 7, "v:unique_2": 8, "v:unique_3": 9 });
    assert.deepEqual(reduceMetrics([chunk(1, { "v:unique": 4 })]), { "v:unique": 4 });
  });

  it("drops unknown reductions and keys missing from any chunk", () => {
    const out = reduceMetrics([
      chunk(1, { "a:median": 1, "b:sum": 1, "c:sum": 1 }),
      chunk(1, { "a:median": 2, "b:sum": 1 }),
    ]);
    assert.deepEqual(out, { "b:sum": 2 });
  });

  it("rejects keys without exactly one colon, even for one chunk", () => {
    for (const key of ["loss", "a:b:sum"]) {
      assert.throws(
        () => reduceMetrics([chunk(1, { [key]: 1 })]),
        (err: unknown) =>
          err instanceof ResponseValidationError &&
          err.message.includes(JSON.stringify(key)) &&
          err.message.includes('must be "name:reduction" with exactly one ":"'),
      );
    }
    assert.throws(
      () => reduceMetrics([chunk(1, { "ok:sum": 1 }), chunk(1, { "ok:sum": 1, bad: 2 })]),
      ResponseValidationError,
    );
    assert.deepEqual(parseMetricKey("e_frac_with_tokens:mean"), {
      name: "e_frac_with_tokens",
      reduction: "mean",
    });
  });

  it("passes a single hash through and combines several independently of order", () => {
    assert.equal(reduceMetrics([chunk(5, { "h:hash_unordered": 12345 })])["h:hash_unordered"], 12345);
    fc.assert(
      fc.property(
        fc.array(fc.double(), { minLength: 2, maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (values, shift) => {
          const rotated = [...values.slice(shift % values.length), ...values.slice(0, shift % values.length)];
          const h = combineHashUnordered(values);
          assert.equal(combineHashUnordered(rotated), h);
          assert.equal(combineHashUnordered([...values].reverse()), h);
          assert.ok(Number.isSafeInteger(h) && h >= 0);
        },
      ),
    );
    assert.notEqual(combineHashUnordered([1, 2]), combineHashUnordered([1, 3]));
    assert.notEqual(combineHashUnordered([1, 1]), combineHashUnordered([1, 1, 1]));
    // The documented definition, pinned so a change of algorithm is a visible change. Computed
    // independently with Python: (splitmix64(bits(1.0)) + splitmix64(bits(2.0))) mod 2^64 >> 11.
    assert.equal(combineHashUnordered([1, 2]), 2146524165754528);
  });
});

describe("mergeForwardBackwardOutputs", () => {
  const out = (n: number, metrics: Record<string, number>, type = "ArrayRecord"): ForwardBackwardOutput => ({
    loss_fn_output_type: type,
    loss_fn_outputs: Array.from({ length: n }, (_, i) => ({
      logprobs: { data: [i], dtype: "float32" as const, shape: [1] },
    })),
    metrics,
  });

  it("concatenates outputs in chunk order and weights by datum count", () => {
    const merged = mergeForwardBackwardOutputs([out(1, { "loss:mean": 2 }), out(3, { "loss:mean": 6 })]);
    assert.equal(merged.loss_fn_outputs.length, 4);
    assert.deepEqual(
      merged.loss_fn_outputs.map((o) => o.logprobs?.data[0]),
      [0, 0, 1, 2],
    );
    assert.deepEqual(merged.metrics, { "loss:mean": 5 });
    const explicit = mergeForwardBackwardOutputs(
      [out(1, { "loss:mean": 2 }), out(3, { "loss:mean": 6 })],
      [3, 1],
    );
    assert.deepEqual(explicit.metrics, { "loss:mean": 3 });
  });

  it("handles no chunks and checks the count list", () => {
    assert.deepEqual(mergeForwardBackwardOutputs([]), {
      loss_fn_output_type: "ArrayRecord",
      loss_fn_outputs: [],
      metrics: {},
    });
    assert.throws(() => mergeForwardBackwardOutputs([out(1, {})], [1, 2]), RangeError);
  });
});
