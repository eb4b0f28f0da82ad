import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  chunkForwardBackwardData,
  Datum,
  estimateDatumBytes,
  ModelInput,
  TensorData,
  type WireDatum,
} from "tinker-ts/wire";
import { ValidationError } from "../src/client/errors.js";

/** A datum of `n` input tokens with int64 targets and float32 weights: 4n + 8n + 4n = 16n bytes. */
function datum(n: number, first = 0): WireDatum {
  const tokens = Array.from({ length: n + 1 }, (_, i) => first + i);
  return Datum.forNextTokenPrediction(tokens).toWire();
}

describe("estimateDatumBytes", () => {
  it("counts 4 per token, raw tensor bytes, image and dmel bytes, 8 per sparse index", () => {
    assert.equal(estimateDatumBytes(datum(10)), 160);
    const mi = ModelInput.fromInts([1, 2])
      .appendImage({ data: new Uint8Array(7), format: "png", expectedTokens: 3 })
      .appendDmel(new Uint8Array(5))
      .appendImageAssetPointer({ location: "/x.png", format: "png" });
    const csr = TensorData.fromCsr({
      values: [1, 2],
      crowIndices: [0, 1, 2],
      colIndices: [0, 0],
      shape: [2, 1],
      dtype: "float32",
    });
    const d: WireDatum = { model_input: mi.toWire(), loss_fn_inputs: { x: csr.toWire() } };
    assert.equal(estimateDatumBytes(d), 2 * 4 + 7 + 5 + 0 + (2 * 4 + 5 * 8));
  });
});

describe("chunkForwardBackwardData", () => {
  it("cuts exactly at the datum count limit", () => {
    const data = Array.from({ length: 10 }, (_, i) => datum(1, i));
    const chunks = chunkForwardBackwardData(data, { maxChunkLen: 4 });
    assert.deepEqual(
      chunks.map((c) => c.length),
      [4, 4, 2],
    );
    assert.deepEqual(chunks.flat(), data, "order is kept");
    assert.deepEqual(
      chunkForwardBackwardData(data, { maxChunkLen: 10 }).map((c) => c.length),
      [10],
    );
  });

  it("fills a chunk up to the byte budget and not past it", () => {
    const data = Array.from({ length: 5 }, () => datum(10)); // 160 bytes each
    assert.deepEqual(
      chunkForwardBackwardData(data, { maxChunkBytes: 480 }).map((c) => c.length),
      [3, 2],
      "exactly at the budget still fits",
    );
    assert.deepEqual(
      chunkForwardBackwardData(data, { maxChunkBytes: 479 }).map((c) => c.length),
      [2, 2, 1],
    );
  });

  it("gives an over-budget datum a chunk of its own", () => {
    const data = [datum(1), datum(100), datum(1), datum(1)];
    assert.deepEqual(
      chunkForwardBackwardData(data, { maxChunkBytes: 100 }).map((c) => c.length),
      [1, 1, 2],
    );
  });

  it("returns no chunks for no data and rejects bad limits", () => {
    assert.deepEqual(chunkForwardBackwardData([]), []);
    assert.throws(
      () => chunkForwardBackwardData([datum(1)], { maxChunkLen: 0 }),
      (err: unknown) =>
        err instanceof ValidationError && err.message.includes("maxChunkLen must be a positive integer"),
    );
  });

  it("keeps every datum, in order, within both limits", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 16, max: 1000 }),
        (sizes, maxChunkLen, maxChunkBytes) => {
          const data = sizes.map((n, i) => datum(n, i));
          const chunks = chunkForwardBackwardData(data, { maxChunkLen, maxChunkBytes });
          assert.deepEqual(chunks.flat(), data);
          for (const c of chunks) {
            assert.ok(c.length >= 1 && c.length <= maxChunkLen);
            const bytes = c.reduce((n, d) => n + estimateDatumBytes(d), 0);
            assert.ok(c.length === 1 || bytes <= maxChunkBytes, "only a lone datum may exceed the budget");
          }
          // Greedy: the next chunk's first datum would not have fitted in the previous chunk.
          for (let i = 1; i < chunks.length; i++) {
            const prev = chunks[i - 1]!;
            const prevBytes = prev.reduce((n, d) => n + estimateDatumBytes(d), 0);
            const next = estimateDatumBytes(chunks[i]![0]!);
            assert.ok(prev.length === maxChunkLen || prevBytes + next > maxChunkBytes);
          }
        },
      ),
    );
  });
});
