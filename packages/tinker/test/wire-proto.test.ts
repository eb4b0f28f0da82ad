import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  Datum,
  decodeForwardBackwardOutputProto,
  decodeForwardBackwardRequestProto,
  decodeSampleResponseProto,
  encodeForwardBackwardOutputProto,
  encodeForwardBackwardRequestProto,
  encodeSampleResponseProto,
  type ForwardBackwardOutput,
  type ForwardBackwardRequest,
  ModelInput,
  pb,
  type SampleResponse,
  TensorData,
  WireDecodeError,
  type WireTensorData,
} from "tinker-ts/wire";
import { ValidationError } from "../src/client/errors.js";

/** Hex with spaces and comments stripped, so vectors can be laid out field by field. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, "").replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ForwardBackwardRequest{model_id "m", seq_id 1, one datum with tokens [1, 2] and
// target_tokens int64 [2, 3], loss_fn "cross_entropy", loss_fn_config {beta: 0.5}, forward_only}.
// Derived by hand: tag = field << 3 | wire type; int32/float32 arrays little-endian in bytes fields.
const FWDBWD_REQUEST_HEX = `
  0a 01 6d                        # 1 model_id: len 1, "m"
  10 01                           # 2 seq_id: varint 1
  1a 38                           # 3 data: Datum, 56 bytes
    0a 0c                         #   1 model_input: Chunk, 12 bytes
      0a 0a                       #     1 encoded_text, 10 bytes
        0a 08 01000000 02000000   #       1 tokens: int32 LE [1, 2]
    12 28                         #   2 loss_fn_inputs entry, 40 bytes
      0a 0d 7461726765745f746f6b656e73   # key "target_tokens"
      12 17                       #     value: Tensor, 23 bytes
        0a 10 0200000000000000 0300000000000000   # 1 dense: int64 LE [2, 3]
        18 02                     #       3 dtype INT64
        22 01 02                  #       4 shape: packed [2]
  22 0d 63726f73735f656e74726f7079   # 4 loss_fn "cross_entropy"
  2a 0f                           # 5 loss_fn_config entry, 15 bytes
    0a 04 62657461                #   key "beta"
    11 000000000000e03f           #   value: double 0.5 (fixed64 LE)
  30 01                           # 6 forward_only: true
`;

const FWDBWD_REQUEST: ForwardBackwardRequest = {
  model_id: "m",
  seq_id: 1,
  data: [
    {
      model_input: { chunks: [{ type: "encoded_text", tokens: [1, 2] }] },
      loss_fn_inputs: { target_tokens: { data: [2, 3], dtype: "int64", shape: [2] } },
    },
  ],
  loss_fn: "cross_entropy",
  loss_fn_config: { beta: 0.5 },
  forward_only: true,
};

// SampleResponse{one sequence (length, tokens [5], logprobs [-0.5]), prompt_logprobs [NaN, -1],
// top-k k=1 over 2 positions (first empty), prompt_cache_hit_tokens 3}.
const SAMPLE_RESPONSE_HEX = `
  0a 0e                           # 1 sequences: SampledSequence, 14 bytes
    08 01                         #   1 stop_reason LENGTH
    12 04 05000000                #   2 tokens int32 [5]
    1a 04 000000bf                #   3 logprobs float32 [-0.5]
  12 08 0000c07f 000080bf         # 2 prompt_logprobs float32 [NaN, -1]
  1a 18                           # 3 topk_prompt_logprobs, 24 bytes
    0a 08 00000000 07000000       #   1 token_ids int32 [0, 7]
    12 08 804fc3c7 000080be       #   2 logprobs float32 [-99999, -0.25]
    18 01                         #   3 k = 1
    20 02                         #   4 prompt_length = 2
  20 03                           # 4 prompt_cache_hit_tokens 3
`;

const SAMPLE_RESPONSE: SampleResponse = {
  sequences: [{ stop_reason: "length", tokens: [5], logprobs: [-0.5] }],
  prompt_logprobs: [null, -1],
  topk_prompt_logprobs: [null, [[7, -0.25]]],
  prompt_cache_hit_tokens: 3,
};

// ForwardBackwardOutput{type "a:ArrayRecord", one record of 2 datums with ragged float32
// "logprobs" ([-1, -0.5] and [-0.25]) at byte offsets [0, 8, 12], metrics {"loss:sum": 1.5}}.
const FWDBWD_OUTPUT_HEX = `
  0a 0d 613a41727261795265636f7264   # 1 loss_fn_output_type "a:ArrayRecord"
  12 3a                           # 2 loss_fn_outputs: ArrayRecord, 58 bytes
    12 36                         #   2 fields entry, 54 bytes
      0a 08 6c6f6770726f6273      #     key "logprobs"
      12 2a                       #     value: BatchedTensor, 42 bytes
        0a 0c 000080bf 000000bf 000080be               # 1 data float32 [-1, -0.5, -0.25]
        12 18 0000000000000000 0800000000000000 0c00000000000000   # 2 offsets int64 [0, 8, 12]
        18 01                     #       3 dtype FLOAT32
    18 02                         #   3 num_datums 2
  1a 13                           # 3 metrics entry, 19 bytes
    0a 08 6c6f73733a73756d        #   key "loss:sum"
    11 000000000000f83f           #   value: double 1.5
`;

describe("known bytes", () => {
  it("encodes and decodes a tiny ForwardBackwardRequest exactly", () => {
    assert.equal(toHex(encodeForwardBackwardRequestProto(FWDBWD_REQUEST)), toHex(hex(FWDBWD_REQUEST_HEX)));
    assert.deepEqual(decodeForwardBackwardRequestProto(hex(FWDBWD_REQUEST_HEX)), FWDBWD_REQUEST);
  });

  it("encodes and decodes a tiny SampleResponse exactly", () => {
    assert.equal(toHex(encodeSampleResponseProto(SAMPLE_RESPONSE)), toHex(hex(SAMPLE_RESPONSE_HEX)));
    assert.deepEqual(decodeSampleResponseProto(hex(SAMPLE_RESPONSE_HEX)), SAMPLE_RESPONSE);
  });

  it("decodes ragged ForwardBackwardOutput offsets and trims the type", () => {
    const out = decodeForwardBackwardOutputProto(hex(FWDBWD_OUTPUT_HEX));
    assert.deepEqual(out, {
      loss_fn_output_type: "ArrayRecord",
      loss_fn_outputs: [
        { logprobs: { data: [-1, -0.5], dtype: "float32", shape: [2] } },
        { logprobs: { data: [-0.25], dtype: "float32", shape: [1] } },
      ],
      metrics: { "loss:sum": 1.5 },
    });
    const reencoded = encodeForwardBackwardOutputProto({ ...out, loss_fn_output_type: "a:ArrayRecord" });
    assert.equal(toHex(reencoded), toHex(hex(FWDBWD_OUTPUT_HEX)));
  });
});

const float32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const int64 = fc.maxSafeInteger();

/** A dense TensorData with 1–3 small dimensions. */
const tensorArb: fc.Arbitrary<WireTensorData> = fc
  .record({
    dtype: fc.constantFrom("int64" as const, "float32" as const),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = fc.array(dtype === "int64" ? int64 : float32, { minLength: n, maxLength: n });
    return values.map((data) =>
      TensorData.from(dtype === "float32" ? new Float32Array(data) : data, { dtype, shape }).toWire(),
    );
  });

const tokensArb = fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 40 });

describe("ForwardBackwardRequest round trips", () => {
  it("keeps tokens, tensors, config and flags", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tokens: tokensArb,
            inputs: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tensorArb, {
              maxKeys: 3,
              noNullPrototype: true,
            }),
          }),
          {
            maxLength: 4,
          },
        ),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.double({ noNaN: true, noDefaultInfinity: true }), {
          maxKeys: 3,
          noNullPrototype: true,
        }),
        fc.boolean(),
        (datums, seq, config, forwardOnly) => {
          const req: ForwardBackwardRequest = {
            model_id: "sess:train:0",
            seq_id: seq,
            data: datums.map((d) => ({
              model_input: { chunks: [{ type: "encoded_text", tokens: d.tokens }] },
              loss_fn_inputs: d.inputs,
            })),
            loss_fn: "ppo",
            loss_fn_config: config,
            forward_only: forwardOnly,
          };
          const back = decodeForwardBackwardRequestProto(encodeForwardBackwardRequestProto(req));
          assert.deepEqual(back, { ...req, loss_fn_config: { ...config } });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("carries image, dmel and sparse CSR inputs", () => {
    const mi = ModelInput.fromInts([1])
      .appendImage({ data: new Uint8Array([1, 2, 3, 4, 5]), format: "jpeg", expectedTokens: 2 })
      .appendImage({ data: new Uint8Array([9]), format: "png" })
      .appendDmel(new Uint8Array([254, 1, 1, 3]));
    const csr = TensorData.fromCsr({
      values: [1.5, 2],
      crowIndices: [0, 1, 2],
      colIndices: [1, 0],
      shape: [2, 2],
      dtype: "float32",
    });
    const req: ForwardBackwardRequest = {
      model_id: "m",
      seq_id: 7,
      data: [{ model_input: mi.toWire(), loss_fn_inputs: { extra: csr.toWire() } }],
      loss_fn: "cross_entropy",
    };
    const back = decodeForwardBackwardRequestProto(encodeForwardBackwardRequestProto(req));
    assert.deepEqual(back.data, req.data);
    assert.equal(back.forward_only, false);
    assert.deepEqual(back.loss_fn_config, {});
  });

  it("refuses image asset pointers and bad headers before sending", () => {
    const pointer = ModelInput.empty().appendImageAssetPointer({
      location: "s3://x.png",
      format: "png",
      expectedTokens: 1,
    });
    const base: ForwardBackwardRequest = { model_id: "m", seq_id: 1, data: [], loss_fn: "cross_entropy" };
    assert.throws(
      () =>
        encodeForwardBackwardRequestProto({
          ...base,
          data: [{ model_input: pointer.toWire(), loss_fn_inputs: {} }],
        }),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.field === "data[0].model_input.chunks[0]" &&
        err.message.includes("image_asset_pointer chunks cannot be sent to forward_backward"),
    );
    assert.throws(
      () => encodeForwardBackwardRequestProto({ ...base, seq_id: 2 ** 31 }),
      (err: unknown) => err instanceof ValidationError && err.field === "seq_id",
    );
    assert.throws(
      () => encodeForwardBackwardRequestProto({ ...base, model_id: "" }),
      (err: unknown) => err instanceof ValidationError && err.field === "model_id",
    );
  });

  it('never lets a "__proto__" tensor name become a prototype', () => {
    // protobuf-es drops such map keys when decoding; what matters is that nothing is polluted.
    const inputs = JSON.parse(
      '{"__proto__": {"data": [1], "dtype": "int64"}, "ok": {"data": [2], "dtype": "int64"}}',
    );
    const req: ForwardBackwardRequest = {
      model_id: "m",
      seq_id: 1,
      data: [{ model_input: { chunks: [] }, loss_fn_inputs: inputs }],
      loss_fn: "cross_entropy",
    };
    const decoded = decodeForwardBackwardRequestProto(encodeForwardBackwardRequestProto(req)).data[0]!
      .loss_fn_inputs;
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.equal((decoded as Record<string, unknown>).data, undefined);
    assert.deepEqual(decoded.ok, { data: [2], dtype: "int64", shape: [1] });
  });

  it("rejects malformed bytes with WireDecodeError", () => {
    assert.throws(() => decodeForwardBackwardRequestProto(Uint8Array.of(0x0a, 0x05, 0x6d)), WireDecodeError);
    const emptyChunk = toBinary(
      pb.ForwardBackwardRequestSchema,
      create(pb.ForwardBackwardRequestSchema, {
        data: [create(pb.DatumSchema, { modelInput: [create(pb.ChunkSchema, {})] })],
      }),
    );
    assert.throws(
      () => decodeForwardBackwardRequestProto(emptyChunk),
      (err: unknown) =>
        err instanceof WireDecodeError && err.message.includes("none of encoded_text, image or dmel"),
    );
    const oddTokens = toBinary(
      pb.ForwardBackwardRequestSchema,
      create(pb.ForwardBackwardRequestSchema, {
        data: [
          create(pb.DatumSchema, {
            modelInput: [
              create(pb.ChunkSchema, {
                chunk: {
                  case: "encodedText",
                  value: create(pb.EncodedTextChunkSchema, { tokens: new Uint8Array(6) }),
                },
              }),
            ],
          }),
        ],
      }),
    );
    assert.throws(
      () => decodeForwardBackwardRequestProto(oddTokens),
      (err: unknown) => err instanceof WireDecodeError && err.message.includes("not a multiple of 4"),
    );
  });
});

/** Outputs whose datums share keys, dtypes and trailing shapes but have ragged first dimensions. */
const outputArb: fc.Arbitrary<ForwardBackwardOutput> = fc
  .record({
    width: fc.integer({ min: 1, max: 3 }),
    lengths: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 6 }),
  })
  .chain(({ width, lengths }) =>
    fc
      .tuple(
        ...lengths.map((n) =>
          fc.tuple(
            fc.array(float32, { minLength: n, maxLength: n }),
            fc.array(int64, { minLength: n * width, maxLength: n * width }),
          ),
        ),
      )
      .map((rows) => ({
        loss_fn_output_type: "ArrayRecord",
        loss_fn_outputs: rows.map(([lp, ids], i) => ({
          logprobs: {
            data: Array.from(new Float32Array(lp)),
            dtype: "float32" as const,
            shape: [lengths[i]!],
          },
          topk_ids: { data: ids, dtype: "int64" as const, shape: [lengths[i]!, width] },
        })),
        metrics: { "loss:sum": 1 },
      })),
  );

describe("ForwardBackwardOutput", () => {
  it("round-trips ragged outputs with byte offsets of datums + 1 entries", () => {
    fc.assert(
      fc.property(outputArb, (out) => {
        const bytes = encodeForwardBackwardOutputProto(out);
        assert.deepEqual(decodeForwardBackwardOutputProto(bytes), out);
        const msg = fromBinary(pb.ForwardBackwardOutputSchema, bytes);
        if (out.loss_fn_outputs.length === 0) {
          assert.equal(msg.lossFnOutputs.length, 0);
          return;
        }
        const field = msg.lossFnOutputs[0]!.fields.logprobs!;
        const view = new DataView(field.offsets.buffer, field.offsets.byteOffset, field.offsets.byteLength);
        const offsets = Array.from({ length: field.offsets.byteLength / 8 }, (_, i) =>
          Number(view.getBigInt64(i * 8, true)),
        );
        const expected = [0];
        for (const o of out.loss_fn_outputs) expected.push(expected.at(-1)! + o.logprobs!.data.length * 4);
        assert.deepEqual(offsets, expected);
        assert.equal(msg.lossFnOutputs[0]!.numDatums, BigInt(out.loss_fn_outputs.length));
      }),
      { numRuns: 100 },
    );
  });

  it("splits datums with different fields into separate records", () => {
    const out: ForwardBackwardOutput = {
      loss_fn_output_type: "ArrayRecord",
      loss_fn_outputs: [
        { logprobs: { data: [-1], dtype: "float32", shape: [1] } },
        {
          logprobs: { data: [-2], dtype: "float32", shape: [1] },
          ratio: { data: [1], dtype: "float32", shape: [1] },
        },
      ],
      metrics: {},
    };
    const bytes = encodeForwardBackwardOutputProto(out);
    assert.equal(fromBinary(pb.ForwardBackwardOutputSchema, bytes).lossFnOutputs.length, 2);
    assert.deepEqual(decodeForwardBackwardOutputProto(bytes), out);
  });

  function outputBytes(
    records: Parameters<typeof create<typeof pb.ArrayRecordSchema>>[1][],
    type = "",
  ): Uint8Array {
    return toBinary(
      pb.ForwardBackwardOutputSchema,
      create(pb.ForwardBackwardOutputSchema, {
        lossFnOutputType: type,
        lossFnOutputs: records.map((r) => create(pb.ArrayRecordSchema, r)),
      }),
    );
  }

  function batched(data: number[], offsets: number[], dtype: pb.DType, trailing: number[] = []) {
    const bytes = new Uint8Array(data.length);
    bytes.set(data);
    const off = new Uint8Array(offsets.length * 8);
    const view = new DataView(off.buffer);
    offsets.forEach((o, i) => {
      view.setBigInt64(i * 8, BigInt(o), true);
    });
    return create(pb.BatchedTensorSchema, {
      data: bytes,
      offsets: off,
      dtype,
      trailingShape: trailing.map(BigInt),
    });
  }

  it("widens BFLOAT16 to float32 and INT32 to int64", () => {
    const bytes = outputBytes([
      {
        numDatums: 1n,
        fields: {
          // bfloat16 0x3fc0 = 1.5, 0xc000 = -2
          lp: batched([0xc0, 0x3f, 0x00, 0xc0], [0, 4], pb.DType.BFLOAT16),
          // int32 -1, 7 as a 1×2 datum
          ids: batched([0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0], [0, 8], pb.DType.INT32, [2]),
        },
      },
    ]);
    const out = decodeForwardBackwardOutputProto(bytes);
    assert.deepEqual(out.loss_fn_outputs, [
      {
        lp: { data: [1.5, -2], dtype: "float32", shape: [2] },
        ids: { data: [-1, 7], dtype: "int64", shape: [1, 2] },
      },
    ]);
  });

  it("uses the first field's count when num_datums is 0 and sums records", () => {
    const f32 = (v: number[]) => {
      const b = new Uint8Array(v.length * 4);
      v.forEach((x, i) => {
        new DataView(b.buffer).setFloat32(i * 4, x, true);
      });
      return Array.from(b);
    };
    const bytes = outputBytes(
      [
        { numDatums: 0n, fields: { lp: batched(f32([1, 2]), [0, 4, 8], pb.DType.FLOAT32) } },
        { numDatums: 1n, fields: { lp: batched(f32([3]), [0, 4], pb.DType.FLOAT32) } },
      ],
      "tinker.types.loss:ArrayRecord",
    );
    const out = decodeForwardBackwardOutputProto(bytes);
    assert.equal(out.loss_fn_output_type, "ArrayRecord");
    assert.deepEqual(
      out.loss_fn_outputs.map((o) => o.lp?.data),
      [[1], [2], [3]],
    );
  });

  it("accepts empty outputs and defaults the type", () => {
    assert.deepEqual(decodeForwardBackwardOutputProto(new Uint8Array(0)), {
      loss_fn_output_type: "ArrayRecord",
      loss_fn_outputs: [],
      metrics: {},
    });
  });

  it("rejects missing entries, bad offsets and unknown dtypes", () => {
    const f = (fn: () => unknown, fragment: string) =>
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof WireDecodeError, String(err));
        assert.ok(err.message.includes(fragment), err.message);
        return true;
      });
    f(
      () =>
        decodeForwardBackwardOutputProto(
          outputBytes([{ numDatums: 2n, fields: { lp: batched([0, 0, 0, 0], [0, 4], pb.DType.FLOAT32) } }]),
        ),
      "has 1 datums but the record has 2",
    );
    f(
      () =>
        decodeForwardBackwardOutputProto(
          outputBytes([
            {
              numDatums: 0n,
              fields: {
                a: batched([0, 0, 0, 0, 0, 0, 0, 0], [0, 4, 8], pb.DType.FLOAT32),
                b: batched([0, 0, 0, 0], [0, 4], pb.DType.FLOAT32),
              },
            },
          ]),
        ),
      'field "b" has 1 datums but "a" has 2',
    );
    f(
      () =>
        decodeForwardBackwardOutputProto(
          outputBytes([{ numDatums: 1n, fields: { lp: batched([0, 0, 0, 0], [0, 8], pb.DType.FLOAT32) } }]),
        ),
      "fall outside the 4-byte data",
    );
    f(
      () =>
        decodeForwardBackwardOutputProto(
          outputBytes([
            { numDatums: 1n, fields: { lp: batched([0, 0, 0, 0, 0, 0], [0, 6], pb.DType.FLOAT32) } },
          ]),
        ),
      "not a multiple of 4",
    );
    f(
      () =>
        decodeForwardBackwardOutputProto(
          outputBytes([
            { numDatums: 1n, fields: { lp: batched([0, 0, 0, 0], [0, 4], pb.DType.UNSPECIFIED) } },
          ]),
        ),
      "unsupported dtype 0",
    );
    f(
      () =>
        decodeForwardBackwardOutputProto(
          outputBytes([
            {
              numDatums: 1n,
              fields: { lp: batched([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 12], pb.DType.FLOAT32, [2]) },
            },
          ]),
        ),
      "not a multiple of trailing shape [2]",
    );
  });
});

const topkRowArb = fc.oneof(
  fc.constant(null),
  fc.array(
    fc.tuple(
      fc.integer({ min: 1, max: 50000 }),
      float32.filter((x) => x !== -99999),
    ),
    { minLength: 1, maxLength: 4 },
  ),
);

const sampleArb: fc.Arbitrary<SampleResponse> = fc.record(
  {
    sequences: fc.array(
      fc.record(
        {
          stop_reason: fc.constantFrom("stop" as const, "length" as const),
          tokens: tokensArb,
          logprobs: fc.array(float32, { maxLength: 10 }).map((xs) => Array.from(new Float32Array(xs))),
        },
        { requiredKeys: ["stop_reason", "tokens"], noNullPrototype: true },
      ),
      { maxLength: 3 },
    ),
    prompt_logprobs: fc
      .array(fc.option(float32, { nil: null }), { maxLength: 10 })
      .map((xs) => xs.map((x) => (x === null ? null : Math.fround(x)))),
    topk_prompt_logprobs: fc
      .array(topkRowArb, { maxLength: 6 })
      .map((rows) =>
        rows.map((r) => (r === null ? null : r.map(([t, l]) => [t, Math.fround(l)] as [number, number]))),
      ),
    prompt_cache_hit_tokens: fc.integer({ min: 0, max: 1000 }),
  },
  { requiredKeys: ["sequences", "prompt_cache_hit_tokens"], noNullPrototype: true },
);

describe("SampleResponse", () => {
  it("round-trips NaN/null prompt logprobs and trimmed top-k rows", () => {
    fc.assert(
      fc.property(sampleArb, (res) => {
        assert.deepEqual(decodeSampleResponseProto(encodeSampleResponseProto(res)), res);
      }),
      { numRuns: 200 },
    );
  });

  it("turns empty first cells into null rows and trims empty tails", () => {
    // k = 3 over 3 positions: an empty row, a row with an empty tail, a row with an empty middle.
    const ids = [0, 0, 0, 4, 5, 0, 6, 0, 8];
    const lps = [-99999, -99999, -99999, -0.5, -1, -99999, -2, -99999, -3];
    const i32 = new Uint8Array(36);
    const f32 = new Uint8Array(36);
    ids.forEach((v, i) => {
      new DataView(i32.buffer).setInt32(i * 4, v, true);
    });
    lps.forEach((v, i) => {
      new DataView(f32.buffer).setFloat32(i * 4, v, true);
    });
    const bytes = toBinary(
      pb.SampleResponseSchema,
      create(pb.SampleResponseSchema, {
        topkPromptLogprobs: create(pb.TopkPromptLogprobsSchema, {
          tokenIds: i32,
          logprobs: f32,
          k: 3,
          promptLength: 3,
        }),
      }),
    );
    // Only trailing empties are trimmed; an empty cell between two real ones stays.
    assert.deepEqual(decodeSampleResponseProto(bytes).topk_prompt_logprobs, [
      null,
      [
        [4, -0.5],
        [5, -1],
      ],
      [
        [6, -2],
        [0, -99999],
        [8, -3],
      ],
    ]);
  });

  it("rejects unknown stop reasons and mis-sized top-k", () => {
    const badStop = toBinary(
      pb.SampleResponseSchema,
      create(pb.SampleResponseSchema, {
        sequences: [create(pb.SampledSequenceSchema, { stopReason: 2 as pb.StopReason })],
      }),
    );
    assert.throws(
      () => decodeSampleResponseProto(badStop),
      (err: unknown) => err instanceof WireDecodeError && err.message.includes("unknown stop_reason 2"),
    );
    const badTopk = toBinary(
      pb.SampleResponseSchema,
      create(pb.SampleResponseSchema, {
        topkPromptLogprobs: create(pb.TopkPromptLogprobsSchema, {
          tokenIds: new Uint8Array(4),
          logprobs: new Uint8Array(4),
          k: 2,
          promptLength: 1,
        }),
      }),
    );
    assert.throws(
      () => decodeSampleResponseProto(badTopk),
      (err: unknown) => err instanceof WireDecodeError && err.message.includes("expected 1×2 = 2 cells"),
    );
  });
});

describe("builders feed the proto encoder", () => {
  it("a Datum built from typed arrays encodes and decodes to its wire form", () => {
    const d = Datum.create({
      modelInput: new Int32Array([3, 1, 4]),
      lossFnInputs: {
        target_tokens: new BigInt64Array([1n, 4n, 1n]),
        weights: new Float32Array([0, 1, 0.25]),
      },
    });
    const req: ForwardBackwardRequest = {
      model_id: "m",
      seq_id: 1,
      data: [d.toWire()],
      loss_fn: "cross_entropy",
    };
    assert.deepEqual(decodeForwardBackwardRequestProto(encodeForwardBackwardRequestProto(req)).data, [
      d.toWire(),
    ]);
  });
});
