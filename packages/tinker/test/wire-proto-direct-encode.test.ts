// The direct protobuf writer against protobuf-es, which stays the reference: the same bytes for
// every request (all chunk types, dense and sparse tensors of both dtypes, configs, forward-only,
// zstd on and off), from plain objects, builder-made datums and typed arrays, on both byte-order
// paths. The reader's tests are in wire-proto-direct-decode.test.ts.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import fc from "fast-check";
import { ValidationError } from "../src/client/errors.js";
import { base64Encode } from "../src/wire/base64.js";
import { ModelInput } from "../src/wire/model-input.js";
import { packedOf, setHostLittleEndianForTesting } from "../src/wire/packed.js";
import {
  encodeCheckedForwardBackwardRequestProto,
  encodeForwardBackwardRequestProto,
} from "../src/wire/proto-codec.js";
import { referenceEncodeForwardBackwardRequest } from "../src/wire/proto-reference.js";
import { TensorData } from "../src/wire/tensor-data.js";
import type {
  ForwardBackwardRequest,
  ModelInputChunk,
  WireDatum,
  WireTensorData,
} from "../src/wire/types.js";
import { zstdCompress, zstdDecompress } from "../src/wire/zstd.js";

afterEach(() => setHostLittleEndianForTesting(undefined));

// ---- Requests ----

/** Keys and names: any UTF-16 string (lone surrogates included), except a prototype-setting key. */
const text = (minLength = 0) =>
  fc.string({ unit: "binary", minLength, maxLength: 8 }).filter((s) => s !== "__proto__");
const float32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const int64 = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -5, max: 5 }), fc.integer());
const bytesArb = fc.uint8Array({ maxLength: 12 });

const chunkArb: fc.Arbitrary<ModelInputChunk> = fc.oneof(
  fc.record({
    type: fc.constant("encoded_text" as const),
    tokens: fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 12 }),
  }),
  fc
    .record({
      data: bytesArb,
      format: fc.constantFrom("png" as const, "jpeg" as const),
      expected: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
    })
    .map(({ data, format, expected }) => ({
      type: "image" as const,
      data: base64Encode(data),
      format,
      ...(expected !== undefined ? { expected_tokens: expected } : {}),
    })),
  bytesArb.map((b) => ({ type: "dmel" as const, dmel: base64Encode(b) })),
);

const denseArb: fc.Arbitrary<WireTensorData> = fc
  .record({
    dtype: fc.constantFrom("int64" as const, "float32" as const),
    dims: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    explicitShape: fc.boolean(),
  })
  .chain(({ dtype, dims, explicitShape }) => {
    const n = dims.reduce((a, b) => a * b, 1);
    return fc.array(dtype === "int64" ? int64 : float32, { minLength: n, maxLength: n }).map((data) => {
      // Without a shape a tensor is 1-D; a 0-D shape [] holds one element.
      if (!explicitShape && dims.length === 1) return { data, dtype };
      return { data, dtype, shape: dims };
    });
  });

const sparseArb: fc.Arbitrary<WireTensorData> = fc
  .record({
    dtype: fc.constantFrom("int64" as const, "float32" as const),
    cols: fc.integer({ min: 1, max: 5 }),
    rows: fc.integer({ min: 0, max: 4 }),
  })
  .chain(({ dtype, cols, rows }) =>
    fc.array(fc.subarray([...Array(cols).keys()]), { minLength: rows, maxLength: rows }).chain((perRow) => {
      const col = perRow.flat();
      const crow = [0];
      for (const r of perRow) crow.push(crow[crow.length - 1]! + r.length);
      return fc
        .array(dtype === "int64" ? int64 : float32, { minLength: col.length, maxLength: col.length })
        .map((data) => ({
          data,
          dtype,
          shape: [rows, cols],
          sparse_crow_indices: crow,
          sparse_col_indices: col,
        }));
    }),
  );

const datumArb: fc.Arbitrary<WireDatum> = fc.record({
  model_input: fc.record({ chunks: fc.array(chunkArb, { maxLength: 3 }) }),
  loss_fn_inputs: fc.dictionary(text(), fc.oneof(denseArb, sparseArb), { maxKeys: 3 }),
});

const requestArb: fc.Arbitrary<ForwardBackwardRequest> = fc
  .record({
    model_id: text(1),
    seq_id: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    data: fc.array(datumArb, { maxLength: 4 }),
    loss_fn: fc.oneof(fc.constantFrom("cross_entropy", "ppo", "dro"), text(1)),
    config: fc.option(
      fc.dictionary(text(), fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 3 }),
      {
        nil: undefined,
      },
    ),
    forwardOnly: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(({ model_id, seq_id, data, loss_fn, config, forwardOnly }) => ({
    model_id,
    seq_id,
    data,
    loss_fn: loss_fn as ForwardBackwardRequest["loss_fn"],
    ...(config !== undefined ? { loss_fn_config: config } : {}),
    ...(forwardOnly !== undefined ? { forward_only: forwardOnly } : {}),
  }));

/** The same request with every array made by the builders (packed bytes, frozen arrays). */
function built(req: ForwardBackwardRequest): ForwardBackwardRequest {
  return {
    ...req,
    data: req.data.map((d) => {
      const inputs: Record<string, WireTensorData> = {};
      for (const [key, td] of Object.entries(d.loss_fn_inputs)) {
        Object.defineProperty(inputs, key, {
          value: TensorData.fromWire(td, { field: key }).toWire(),
          enumerable: true,
        });
      }
      return { model_input: ModelInput.fromWire(d.model_input).toWire(), loss_fn_inputs: inputs };
    }),
  };
}

/** The same request with float32 data and int32-range values in typed arrays, as a caller may pass. */
function typed(req: ForwardBackwardRequest): ForwardBackwardRequest {
  const asTyped = (td: WireTensorData): WireTensorData =>
    td.dtype === "float32" ? { ...td, data: Float32Array.from(td.data) as unknown as number[] } : td;
  return {
    ...req,
    data: req.data.map((d) => ({
      model_input: {
        chunks: d.model_input.chunks.map((c) =>
          c.type === "encoded_text" ? { ...c, tokens: Int32Array.from(c.tokens) as unknown as number[] } : c,
        ),
      },
      loss_fn_inputs: Object.fromEntries(Object.entries(d.loss_fn_inputs).map(([k, td]) => [k, asTyped(td)])),
    })),
  };
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(Buffer.from(actual).toString("hex"), Buffer.from(expected).toString("hex"));
}

describe("direct ForwardBackwardRequest writer", () => {
  for (const littleEndian of [true, false]) {
    const host = littleEndian ? "little-endian" : "forced big-endian (DataView)";
    it(`writes protobuf-es's bytes for random requests, plain and built, on the ${host} path`, () => {
      fc.assert(
        fc.property(requestArb, (req) => {
          setHostLittleEndianForTesting(littleEndian);
          const expected = referenceEncodeForwardBackwardRequest(req);
          sameBytes(encodeForwardBackwardRequestProto(req), expected);
          sameBytes(encodeCheckedForwardBackwardRequestProto(req), expected);
          const fromBuilders = built(req);
          sameBytes(encodeCheckedForwardBackwardRequestProto(fromBuilders), expected);
          sameBytes(encodeCheckedForwardBackwardRequestProto(typed(req)), expected);
          // What a builder made, the writer copies from the packed bytes.
          for (const d of fromBuilders.data) {
            for (const td of Object.values(d.loss_fn_inputs)) {
              assert.ok(packedOf(td.data, td.dtype === "int64" ? "int64" : "float32"));
            }
          }
        }),
        { numRuns: 120 },
      );
    });
  }

  it("sends the same body with zstd on: it decompresses to the reference bytes", async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (req) => {
        const expected = referenceEncodeForwardBackwardRequest(req);
        const body = await zstdCompress(encodeCheckedForwardBackwardRequestProto(built(req)));
        sameBytes(await zstdDecompress(body), expected);
      }),
      { numRuns: 25 },
    );
  });

  it("handles the edge cases: empty arrays, -0, a 0-D tensor, large int64, negative int64", () => {
    const req: ForwardBackwardRequest = {
      model_id: "m",
      seq_id: 0,
      data: [
        { model_input: { chunks: [] }, loss_fn_inputs: {} },
        {
          model_input: { chunks: [{ type: "encoded_text", tokens: [] }] },
          loss_fn_inputs: {
            empty: { data: [], dtype: "float32", shape: [0] },
            zero: { data: [-0, 0], dtype: "float32" },
            scalar: { data: [7], dtype: "int64", shape: [] },
            big: { data: [2 ** 53 - 1, -(2 ** 53 - 1), -1, 2 ** 32], dtype: "int64" },
            sparseEmpty: {
              data: [],
              dtype: "float32",
              shape: [2, 3],
              sparse_crow_indices: [0, 0, 0],
              sparse_col_indices: [],
            },
          },
        },
      ],
      loss_fn: "cross_entropy",
      loss_fn_config: { negZero: -0, one: 1 },
    };
    for (const le of [true, false]) {
      setHostLittleEndianForTesting(le);
      const expected = referenceEncodeForwardBackwardRequest(req);
      sameBytes(encodeForwardBackwardRequestProto(req), expected);
      sameBytes(encodeCheckedForwardBackwardRequestProto(built(req)), expected);
    }
    // -0 keeps its sign bit in a float32 tensor (00 00 00 80) and in the double config (… 80).
    const hexBody = Buffer.from(encodeForwardBackwardRequestProto(req)).toString("hex");
    assert.ok(hexBody.includes("0a080000008000000000"), "float32 -0 then 0");
    assert.ok(hexBody.includes("110000000000000080"), "double -0");
  });

  it("refuses NaN and Infinity before writing (the SDK never sends them), and image pointers", () => {
    const datum = (data: number[]): WireDatum => ({
      model_input: { chunks: [] },
      loss_fn_inputs: { x: { data, dtype: "float32" } },
    });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e39]) {
      const req = { model_id: "m", seq_id: 1, data: [datum([1, bad])], loss_fn: "cross_entropy" as const };
      assert.throws(() => encodeForwardBackwardRequestProto(req), ValidationError);
      assert.throws(() => referenceEncodeForwardBackwardRequest(req), ValidationError);
      assert.throws(() => TensorData.from([bad], { dtype: "float32" }), /finite|overflows/);
    }
    const pointer: WireDatum = {
      model_input: {
        chunks: [{ type: "image_asset_pointer", format: "png", location: "s3://bucket/a.png" }],
      },
      loss_fn_inputs: {},
    };
    const req = { model_id: "m", seq_id: 1, data: [pointer], loss_fn: "cross_entropy" as const };
    for (const encode of [encodeForwardBackwardRequestProto, encodeCheckedForwardBackwardRequestProto]) {
      assert.throws(
        () => encode(req),
        (err: unknown) => err instanceof ValidationError && /image_asset_pointer/.test(err.message),
      );
    }
  });

  it("freezes what the builders packed, so what was checked is what is sent", () => {
    const td = TensorData.from([1.5, 2], { dtype: "float32" });
    assert.ok(Object.isFrozen(td.data));
    assert.throws(() => {
      (td.data as number[])[0] = Number.NaN;
    }, TypeError);
    const mi = ModelInput.fromInts(new Int32Array([5, 6]));
    const chunk = mi.chunks[0]!;
    assert.ok(chunk.type === "encoded_text" && Object.isFrozen(chunk.tokens));
    assert.deepEqual(mi.toInts(), [5, 6]);
    assert.throws(() => ModelInput.fromInts(new Int32Array([1, -2])), ValidationError);
  });
});
