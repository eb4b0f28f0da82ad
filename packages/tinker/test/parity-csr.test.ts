// Automatic CSR of 2-D target_tokens/weights (contract 4.2; Python 0.25's from_torch_sparse rule):
// CSR is chosen exactly when (rows + 1) + 2·nnz < rows·cols, the values it carries decode back to
// the dense tensor, and the direct protobuf writer gives the same bytes as protobuf-es for it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { csrIsSmaller, Datum, TensorData } from "../src/wire/index.js";
import { encodeForwardBackwardRequestProto } from "../src/wire/proto-codec.js";
import { referenceEncodeForwardBackwardRequest } from "../src/wire/proto-reference.js";

/** An N×K matrix with `nonZero` marking where a value sits (row-major), the rest 0. */
const matrix = (rows: number, cols: number, value: (r: number, c: number) => number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => value(r, c)));

/** Python's rule, written out independently: entries of CSR vs entries of dense. */
const pythonPicksCsr = (m: number[][]) => {
  const rows = m.length;
  const cols = m[0]?.length ?? 0;
  const nnz = m.flat().filter((v) => v !== 0).length;
  return rows + 1 + 2 * nnz < rows * cols;
};

const datumWith = (weights: number[][], targets: number[][]) =>
  Datum.create({
    modelInput: Array.from({ length: weights.length }, (_, i) => i + 1),
    lossFnInputs: { target_tokens: targets, weights },
  });

describe("automatic CSR of 2-D target_tokens and weights", () => {
  it("follows Python's rule at its boundary", () => {
    assert.equal(csrIsSmaller(2, 2, 0), true, "3 < 4");
    assert.equal(csrIsSmaller(2, 2, 1), false, "5 >= 4");
    assert.equal(csrIsSmaller(3, 4, 3), true, "4 + 6 = 10 < 12");
    assert.equal(csrIsSmaller(3, 4, 4), false, "4 + 8 = 12 is not smaller than 12");
    // A one-hot 4×8 top-k weight matrix (one teacher token per row) is CSR; a full one is dense.
    const oneHot = datumWith(
      matrix(4, 8, (_r, c) => (c === 0 ? 1 : 0)),
      matrix(4, 8, (r, c) => (c === 0 ? r + 1 : 0)),
    );
    assert.equal(oneHot.lossFnInputs.weights!.isSparse, true);
    assert.equal(oneHot.lossFnInputs.target_tokens!.isSparse, true);
    const full = datumWith(
      matrix(4, 8, () => 0.5),
      matrix(4, 8, (r, c) => r + c),
    );
    assert.equal(full.lossFnInputs.weights!.isSparse, false);
    // target_tokens has a zero at (0, 0) only: 4·8 entries vs 5 + 2·31: dense.
    assert.equal(full.lossFnInputs.target_tokens!.isSparse, false);
  });

  it("only target_tokens and weights, only nested 2-D arrays, never a given TensorData", () => {
    const sparse = matrix(4, 8, (r, c) => (c === r ? 1 : 0));
    const d = Datum.create({
      modelInput: [1, 2, 3, 4],
      lossFnInputs: {
        weights: TensorData.from(sparse, { dtype: "float32" }),
        advantages: sparse,
        target_tokens: [1, 0, 0, 0],
      },
    });
    assert.equal(d.lossFnInputs.weights!.isSparse, false, "a TensorData is sent as given");
    assert.equal(d.lossFnInputs.advantages!.isSparse, false, "advantages is not eligible");
    assert.equal(d.lossFnInputs.target_tokens!.isSparse, false, "1-D stays dense");
  });

  it("chooses as Python does, keeps the values, and encodes byte for byte as protobuf-es", () => {
    const cell = fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }) },
    );
    const shape = fc.record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 6 }) });
    fc.assert(
      fc.property(
        shape.chain(({ rows, cols }) =>
          fc.tuple(
            fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), {
              minLength: rows,
              maxLength: rows,
            }),
            fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), {
              minLength: rows,
              maxLength: rows,
            }),
          ),
        ),
        ([targets, weightCells]) => {
          const weights = weightCells.map((row) => row.map((v) => v / 8));
          const datum = datumWith(weights, targets);
          const w = datum.lossFnInputs.weights!;
          const t = datum.lossFnInputs.target_tokens!;
          assert.equal(w.isSparse, pythonPicksCsr(weights));
          assert.equal(t.isSparse, pythonPicksCsr(targets));
          assert.deepEqual(w.toArray(), weights.flat());
          assert.deepEqual(t.toArray(), targets.flat());
          if (w.isSparse) {
            assert.equal(w.sparse_crow_indices!.length, weights.length + 1);
            assert.equal(w.data.length, weights.flat().filter((v) => v !== 0).length);
          }
          const request = {
            model_id: "m",
            seq_id: 1,
            data: [datum.toWire()],
            loss_fn: "cross_entropy" as const,
          };
          assert.deepEqual(
            encodeForwardBackwardRequestProto(request),
            referenceEncodeForwardBackwardRequest(request),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("CSR is what makes the body smaller", () => {
    const weights = matrix(64, 20, (_r, c) => (c === 0 ? 1 : 0));
    const targets = matrix(64, 20, (r, c) => (c === 0 ? r + 1 : 0));
    const sparse = datumWith(weights, targets);
    const dense = {
      model_input: sparse.toWire().model_input,
      loss_fn_inputs: {
        weights: TensorData.from(weights, { dtype: "float32" }).toWire(),
        target_tokens: TensorData.from(targets, { dtype: "int64" }).toWire(),
      },
    };
    const bytes = (d: unknown) =>
      encodeForwardBackwardRequestProto({
        model_id: "m",
        seq_id: 1,
        data: [d as never],
        loss_fn: "cross_entropy",
      }).length;
    assert.ok(bytes(sparse.toWire()) < bytes(dense) / 2, `${bytes(sparse.toWire())} vs ${bytes(dense)}`);
  });
});
