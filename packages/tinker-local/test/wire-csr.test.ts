// tinker-local reads a CSR target_tokens/weights exactly as the dense tensor it stands for: the SDK's
// automatic CSR (Datum.create on a 2-D nested array) and the same matrix sent dense decode, through
// the server's own body reader, to identical model inputs, in protobuf and in JSON.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Datum,
  decodeForwardBackwardRequestJson,
  decodeForwardBackwardRequestProto,
  encodeForwardBackwardRequestJson,
  encodeForwardBackwardRequestProto,
  TensorData,
} from "tinker-ts/wire";
import { toModelDatum } from "../src/http/wire-body.js";

const rows = 6;
const cols = 5;
const weights = Array.from({ length: rows }, (_, r) =>
  Array.from({ length: cols }, (_, c) => (c === r % cols ? 0.25 : 0)),
);
const targets = Array.from({ length: rows }, (_, r) =>
  Array.from({ length: cols }, (_, c) => (c === 0 ? 40 + r : 0)),
);

describe("CSR loss inputs in tinker-local", () => {
  it("decode to the same dense tensors as the dense form", () => {
    const sparse = Datum.create({
      modelInput: [1, 2, 3, 4, 5, 6],
      lossFnInputs: { target_tokens: targets, weights },
    }).toWire();
    assert.ok(sparse.loss_fn_inputs.weights!.sparse_crow_indices, "the SDK chose CSR");
    assert.ok(sparse.loss_fn_inputs.target_tokens!.sparse_crow_indices, "the SDK chose CSR");
    const dense = {
      model_input: sparse.model_input,
      loss_fn_inputs: {
        target_tokens: TensorData.from(targets, { dtype: "int64" }).toWire(),
        weights: TensorData.from(weights, { dtype: "float32" }).toWire(),
      },
    };
    const request = (d: typeof dense) => ({
      model_id: "m",
      seq_id: 1,
      data: [d],
      loss_fn: "cross_entropy" as const,
    });
    const viaProto = (d: typeof dense) =>
      toModelDatum(
        decodeForwardBackwardRequestProto(encodeForwardBackwardRequestProto(request(d))).data[0]!,
        0,
      );
    const viaJson = (d: typeof dense) =>
      toModelDatum(
        decodeForwardBackwardRequestJson(
          JSON.parse(JSON.stringify(encodeForwardBackwardRequestJson(request(d)))),
        ).data[0]!,
        0,
      );
    const flat = (m: ReturnType<typeof viaProto>) => ({
      tokens: Array.from(m.tokens),
      inputs: Object.fromEntries(
        Object.entries(m.lossFnInputs).map(([k, v]) => [
          k,
          { dtype: v.dtype, shape: v.shape, data: Array.from(v.data as ArrayLike<number>) },
        ]),
      ),
    });
    const expected = {
      tokens: [1, 2, 3, 4, 5, 6],
      inputs: {
        target_tokens: { dtype: "int64", shape: [rows, cols], data: targets.flat() },
        weights: { dtype: "float32", shape: [rows, cols], data: weights.flat() },
      },
    };
    assert.deepEqual(flat(viaProto(sparse as typeof dense)), expected);
    assert.deepEqual(flat(viaProto(dense)), expected);
    assert.deepEqual(flat(viaJson(sparse as typeof dense)), expected);
    assert.deepEqual(flat(viaJson(dense)), expected);
  });
});
