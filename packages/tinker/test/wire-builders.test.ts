import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { checkForwardBackwardInput, Datum, failValidation, ModelInput, TensorData } from "tinker-ts/wire";
import { ValidationError } from "../src/client/errors.js";

/** Asserts a ValidationError with this field whose message contains every fragment. */
function rejects(fn: () => unknown, field: string, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    assert.equal(err.field, field);
    for (const f of fragments)
      assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    return true;
  });
}

describe("ModelInput", () => {
  it("builds from ints, appends immutably and counts tokens", () => {
    const a = ModelInput.fromInts([1, 2, 3]);
    const b = a.appendInts(new Int32Array([4, 5])).appendInt(6);
    assert.deepEqual(a.toInts(), [1, 2, 3]);
    assert.deepEqual(b.toInts(), [1, 2, 3, 4, 5, 6]);
    assert.equal(b.length, 6);
    assert.equal(b.chunks.length, 1, "text appends extend the last text chunk");
    assert.deepEqual(JSON.parse(JSON.stringify(b)), {
      chunks: [{ type: "encoded_text", tokens: [1, 2, 3, 4, 5, 6] }],
    });
    assert.equal(ModelInput.empty().length, 0);
  });

  it("counts image expected_tokens and dmel first dimension", () => {
    // TensorContainer header: dtype 1, ndim 2, dims 3 and 7.
    const dmel = new Uint8Array([1, 2, 3, 7, 0xaa]);
    const mi = ModelInput.fromInts([1])
      .appendImage({ data: new Uint8Array([137, 80, 78, 71]), format: "png", expectedTokens: 4 })
      .appendDmel(dmel)
      .appendInts([9]);
    assert.equal(mi.length, 1 + 4 + 3 + 1);
    assert.equal(mi.chunks[1]?.type, "image");
    assert.deepEqual(mi.chunks[1], { type: "image", data: "iVBORw==", format: "png", expected_tokens: 4 });
  });

  it("rejects negative, fractional and too large tokens", () => {
    rejects(() => ModelInput.fromInts([1, -1]), "model_input.tokens[1]", "-1", "index 1", "[0, 2147483647]");
    rejects(() => ModelInput.fromInts([0.5]), "model_input.tokens[0]", "0.5");
    rejects(() => ModelInput.fromInts([2 ** 31]), "model_input.tokens[0]", "2147483648");
    rejects(() => ModelInput.fromInts([Number.NaN]), "model_input.tokens[0]", "NaN");
  });

  it("rejects unknown chunk types and bad image fields", () => {
    rejects(
      () => ModelInput.fromChunks([{ type: "audio", tokens: [] } as never]),
      "model_input.chunks[0].type",
      'unknown chunk type the string "audio"',
      '"encoded_text", "image", "image_asset_pointer", "dmel"',
    );
    rejects(
      () => ModelInput.empty().appendImage({ data: "not base64!", format: "png" }),
      "model_input.chunks[0].data",
      "base64",
    );
    rejects(
      () => ModelInput.empty().appendImage({ data: "AAAA", format: "gif" as never }),
      "model_input.chunks[0].format",
      '"png" or "jpeg"',
    );
  });

  it("says why length and toInts cannot answer", () => {
    const img = ModelInput.empty().appendImageAssetPointer({ location: "/tmp/a.png", format: "png" });
    rejects(() => img.length, "model_input.chunks[0]", "expected_tokens", "expectedTokens");
    rejects(() => img.toInts(), "model_input.chunks[0]", "image_asset_pointer chunk", "text-only");
  });

  it("keeps any non-negative int32 token list intact", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 64 }), (tokens) => {
        const mi = ModelInput.fromInts(tokens);
        assert.deepEqual(mi.toInts(), tokens);
        assert.equal(mi.length, tokens.length);
        assert.deepEqual(ModelInput.fromWire(JSON.parse(JSON.stringify(mi))).toInts(), tokens);
      }),
    );
  });
});

describe("TensorData", () => {
  it("infers shape from nested arrays and dtype from typed arrays", () => {
    const t = TensorData.from(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: "int64" },
    );
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.data, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(t.toNested(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(TensorData.from(new Float64Array([0.1])).dtype, "float32");
    assert.equal(TensorData.from(new Float64Array([0.1])).data[0], Math.fround(0.1));
    assert.equal(TensorData.from(new Int32Array([1])).dtype, "int64");
    assert.deepEqual(TensorData.from(new BigInt64Array([5n, -7n])).data, [5, -7]);
    assert.deepEqual(TensorData.from(new Float32Array(6), { shape: [3, 2] }).shape, [3, 2]);
  });

  it("rejects ragged nested lists", () => {
    rejects(
      () => TensorData.from([[1, 2], [3]], { dtype: "float32" }),
      "TensorData[1]",
      "has length 1 but its siblings have length 2",
      "ragged",
    );
    rejects(
      () => TensorData.from([[1, 2], 3] as never, { dtype: "float32" }),
      "TensorData[1]",
      "rectangular",
    );
    rejects(
      () => TensorData.from([[1], [[2]]] as never, { dtype: "float32" }),
      "TensorData[1][0]",
      "nested deeper",
    );
  });

  it("rejects non-finite floats, non-integer int64 and a missing dtype", () => {
    rejects(
      () => TensorData.from([1, Number.NaN], { dtype: "float32" }),
      "TensorData.data[1]",
      "NaN",
      "finite",
    );
    rejects(
      () => TensorData.from(new Float32Array([Number.POSITIVE_INFINITY])),
      "TensorData.data[0]",
      "Infinity",
    );
    rejects(() => TensorData.from([1e39], { dtype: "float32" }), "TensorData.data[0]", "overflows float32");
    rejects(() => TensorData.from([1.5], { dtype: "int64" }), "TensorData.data[0]", "1.5", "int64");
    rejects(
      () => TensorData.from(new Float32Array([1.5]), { dtype: "int64" }),
      "TensorData.data[0]",
      "integer",
    );
    rejects(() => TensorData.from(new BigInt64Array([2n ** 60n])), "TensorData[0]", "safe integer range");
    rejects(() => TensorData.from([1, 2]), "TensorData", "needs a dtype", '{ dtype: "int64" }');
  });

  it("rejects a shape that does not hold the values", () => {
    rejects(
      () => TensorData.from([1, 2, 3], { dtype: "int64", shape: [2, 2] }),
      "TensorData.shape",
      "holds 4",
      "3 values",
    );
    rejects(() => TensorData.from([1], { dtype: "int64", shape: [-1] }), "TensorData.shape[0]", "-1");
    rejects(
      () => TensorData.from([[1, 2]], { dtype: "int64", shape: [2, 1] }),
      "TensorData.shape",
      "disagrees with the nested array's shape [1, 2]",
    );
  });

  it("builds and densifies CSR, and checks its indices", () => {
    const t = TensorData.fromCsr({
      values: [5, 6],
      crowIndices: [0, 1, 2],
      colIndices: [2, 0],
      shape: [2, 3],
      dtype: "float32",
    });
    assert.ok(t.isSparse);
    assert.deepEqual(t.toArray(), [0, 0, 5, 6, 0, 0]);
    rejects(
      () =>
        TensorData.fromCsr({
          values: [5],
          crowIndices: [0, 1],
          colIndices: [0],
          shape: [2, 3],
          dtype: "float32",
        }),
      "TensorData.sparse_crow_indices",
      "rows + 1 = 3",
    );
    rejects(
      () =>
        TensorData.fromCsr({
          values: [5],
          crowIndices: [0, 1],
          colIndices: [3],
          shape: [1, 3],
          dtype: "float32",
        }),
      "TensorData.sparse_col_indices",
      "out of range",
    );
  });

  it("keeps float32 and int64 values exactly through the builder", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 32 }),
        fc.array(fc.maxSafeInteger(), { maxLength: 32 }),
        (floats, ints) => {
          assert.deepEqual(
            TensorData.from(new Float32Array(floats)).data,
            Array.from(new Float32Array(floats)),
          );
          assert.deepEqual(TensorData.from(ints, { dtype: "int64" }).toArray(), ints);
        },
      ),
    );
  });
});

describe("Datum", () => {
  it("types plain lists by key and aligns with the model input", () => {
    const d = Datum.create({
      modelInput: ModelInput.fromInts([1, 2, 3]),
      lossFnInputs: {
        target_tokens: [2, 3, 4],
        weights: [0, 1, 1],
        advantages: new Float64Array([0.5, 0.5, 0.5]),
      },
    });
    assert.equal(d.lossFnInputs.target_tokens?.dtype, "int64");
    assert.equal(d.lossFnInputs.weights?.dtype, "float32");
    assert.equal(d.lossFnInputs.advantages?.dtype, "float32");
    const wire = JSON.parse(JSON.stringify(d));
    assert.deepEqual(wire.loss_fn_inputs.target_tokens, { data: [2, 3, 4], dtype: "int64", shape: [3] });
    assert.deepEqual(wire.model_input, { chunks: [{ type: "encoded_text", tokens: [1, 2, 3] }] });
    assert.deepEqual(Datum.fromWire(wire).toWire(), wire);
  });

  it("shifts tokens for next-token prediction", () => {
    const d = Datum.forNextTokenPrediction([10, 11, 12, 13], { weights: [0, 0, 1, 1] }).toWire();
    assert.deepEqual(d.model_input.chunks, [{ type: "encoded_text", tokens: [10, 11, 12] }]);
    assert.deepEqual(d.loss_fn_inputs.target_tokens?.data, [11, 12, 13]);
    assert.deepEqual(d.loss_fn_inputs.weights?.data, [0, 1, 1]);
    assert.deepEqual(Datum.forNextTokenPrediction([1, 2]).toWire().loss_fn_inputs.weights?.data, [1]);
    rejects(() => Datum.forNextTokenPrediction([1]), "tokens", "at least 2 tokens");
    rejects(
      () => Datum.forNextTokenPrediction([1, 2, 3], { weights: [1, 1] }),
      "weights",
      "2 entries",
      "3 tokens",
    );
  });

  it("rejects plain lists under unknown keys, wrong dtypes and misaligned lengths", () => {
    const mi = ModelInput.fromInts([1, 2, 3]);
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { mask: [1, 1, 1] } }),
      "loss_fn_inputs.mask",
      "only accepted for target_tokens, weights",
      'TensorData.from(values, { dtype }) or a typed array for "mask"',
    );
    rejects(
      () =>
        Datum.create({
          modelInput: mi,
          lossFnInputs: { weights: TensorData.from([1, 1, 1], { dtype: "int64" }) },
        }),
      "loss_fn_inputs.weights",
      "must be float32 but this TensorData is int64",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { target_tokens: [1, 2] } }),
      "loss_fn_inputs.target_tokens",
      "has 2 entries but model_input has 3 tokens",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { weights: [1, 1, 1, 1] } }),
      "loss_fn_inputs.weights",
      "has 4 entries but model_input has 3 tokens",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { logprobs: [0, 0] } }),
      "loss_fn_inputs.logprobs",
      "has 2 entries",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { target_tokens: [1, -2, 3] } }),
      "loss_fn_inputs.target_tokens.data[1]",
      "negative",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { target_tokens: [1, 2.5, 3] } }),
      "loss_fn_inputs.target_tokens.data[1]",
      "2.5",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { weights: [1, Number.NaN, 1] } }),
      "loss_fn_inputs.weights.data[1]",
      "NaN",
    );
    rejects(
      () => Datum.create({ modelInput: mi, lossFnInputs: { weights: [[1, 1], [1]] } }),
      "loss_fn_inputs.weights[1]",
      "ragged",
    );
  });

  it("leaves unknown keys unaligned and skips alignment when the length is unknown", () => {
    const d = Datum.create({ modelInput: [1, 2, 3], lossFnInputs: { extra: new Float32Array([1]) } });
    assert.equal(d.lossFnInputs.extra?.dtype, "float32");
    const img = ModelInput.empty().appendImage({ data: "AAAA", format: "png" });
    assert.doesNotThrow(() => Datum.create({ modelInput: img, lossFnInputs: { target_tokens: [1, 2] } }));
  });

  it("checks a whole forward_backward input for the loss's required inputs", () => {
    const d = Datum.create({ modelInput: [1, 2], lossFnInputs: { target_tokens: [2, 3] } }).toWire();
    assert.throws(
      () => checkForwardBackwardInput({ data: [d], loss_fn: "cross_entropy" }, "input", failValidation),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.field === "input.data[0].loss_fn_inputs.weights" &&
        err.message.includes('loss "cross_entropy" needs loss_fn_inputs.weights'),
    );
    assert.throws(
      () => checkForwardBackwardInput({ data: [d], loss_fn: "mse" }, "input", failValidation),
      (err: unknown) => err instanceof ValidationError && err.message.includes("unknown loss function"),
    );
    assert.throws(
      () =>
        checkForwardBackwardInput(
          { data: [], loss_fn: "dro", loss_fn_config: { beta: Number.NaN } },
          "input",
          failValidation,
        ),
      (err: unknown) => err instanceof ValidationError && err.field === "input.loss_fn_config.beta",
    );
  });
});
