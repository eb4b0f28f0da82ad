// The direct protobuf reader against protobuf-es, which stays the reference: the same values for
// every result (all four dtypes, several records, top-k rows, NaN prompt logprobs), on both
// byte-order paths and from unaligned buffers; the same refusals for truncated or corrupted bodies.
// The writer's tests are in wire-proto-direct-encode.test.ts.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { WireDecodeError } from "../src/wire/errors.js";
import * as pb from "../src/wire/gen/tinker_public_pb.js";
import { setHostLittleEndianForTesting } from "../src/wire/packed.js";
import { decodeForwardBackwardOutputProto, decodeSampleResponseProto } from "../src/wire/proto-codec.js";
import {
  referenceDecodeForwardBackwardOutput,
  referenceDecodeSampleResponse,
} from "../src/wire/proto-reference.js";

afterEach(() => setHostLittleEndianForTesting(undefined));

// ---- Results ----

/** Keys and names: any UTF-16 string (lone surrogates included), except a prototype-setting key. */
const text = (minLength = 0) =>
  fc.string({ unit: "binary", minLength, maxLength: 8 }).filter((s) => s !== "__proto__");

const DTYPES = [pb.DType.FLOAT32, pb.DType.INT64, pb.DType.INT32, pb.DType.BFLOAT16] as const;
const ELEMENT = { [pb.DType.FLOAT32]: 4, [pb.DType.INT64]: 8, [pb.DType.INT32]: 4, [pb.DType.BFLOAT16]: 2 };

/** Little-endian bytes of random elements (any bit pattern: NaNs, -0, subnormals). */
function elementBytes(dtype: (typeof DTYPES)[number], count: number): fc.Arbitrary<Uint8Array> {
  if (dtype === pb.DType.INT64) {
    const safe = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -3, max: 3 }));
    return fc.array(safe, { minLength: count, maxLength: count }).map((vs) => {
      const out = new Uint8Array(count * 8);
      const view = new DataView(out.buffer);
      vs.forEach((v, i) => {
        view.setBigInt64(i * 8, BigInt(v), true);
      });
      return out;
    });
  }
  const n = count * ELEMENT[dtype];
  return fc.uint8Array({ minLength: n, maxLength: n });
}

const batchedArb: fc.Arbitrary<{ bt: pb.BatchedTensor; datums: number }> = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    trailing: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    rows: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
  })
  .chain(({ dtype, trailing, rows }) => {
    const inner = trailing.reduce((a, b) => a * b, 1);
    const total = rows.reduce((a, r) => a + r * inner, 0);
    return elementBytes(dtype, total).map((data) => {
      const offsets = [0];
      for (const r of rows) offsets.push(offsets[offsets.length - 1]! + r * inner * ELEMENT[dtype]);
      const offsetBytes = new Uint8Array(offsets.length * 8);
      const view = new DataView(offsetBytes.buffer);
      offsets.forEach((o, i) => {
        view.setBigInt64(i * 8, BigInt(o), true);
      });
      return {
        bt: create(pb.BatchedTensorSchema, {
          data,
          offsets: offsetBytes,
          dtype,
          trailingShape: trailing.map(BigInt),
        }),
        datums: rows.length,
      };
    });
  });

const outputBytesArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    type: fc.constantFrom("", "ArrayRecord", "tinker.types:ArrayRecord", "x:"),
    records: fc.array(
      fc.record({
        fields: fc.dictionary(text(), batchedArb, { maxKeys: 3 }),
        declare: fc.constantFrom("none", "right", "wrong"),
      }),
      { maxLength: 3 },
    ),
    metrics: fc.dictionary(text(), fc.double(), { maxKeys: 3 }),
  })
  .map(({ type, records, metrics }) =>
    toBinary(
      pb.ForwardBackwardOutputSchema,
      create(pb.ForwardBackwardOutputSchema, {
        lossFnOutputType: type,
        lossFnOutputs: records.map(({ fields, declare }) => {
          const first = Object.values(fields)[0]?.datums ?? 0;
          return create(pb.ArrayRecordSchema, {
            fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.bt])),
            numDatums: BigInt(declare === "none" ? 0 : declare === "right" ? first : first + 1),
          });
        }),
        metrics,
      }),
    ),
  );

const sampleBytesArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    sequences: fc.array(
      fc.record({
        stop: fc.constantFrom(0, 1, 1, 0, 2),
        tokens: fc.integer({ min: 0, max: 6 }).chain((n) => elementBytes(pb.DType.INT32, n)),
        logprobs: fc.option(
          fc.integer({ min: 0, max: 6 }).chain((n) => elementBytes(pb.DType.FLOAT32, n)),
          { nil: undefined },
        ),
      }),
      { maxLength: 4 },
    ),
    prompt: fc.option(
      fc.array(fc.oneof(fc.float(), fc.constant(Number.NaN)), { maxLength: 6 }).map((vs) => {
        const out = new Uint8Array(vs.length * 4);
        const view = new DataView(out.buffer);
        vs.forEach((v, i) => {
          view.setFloat32(i * 4, v, true);
        });
        return out;
      }),
      { nil: undefined },
    ),
    topk: fc.option(
      fc
        .record({
          n: fc.integer({ min: 0, max: 4 }),
          k: fc.integer({ min: 0, max: 3 }),
          off: fc.constantFrom(0, 0, 1),
        })
        .chain(({ n, k, off }) =>
          fc
            .array(
              fc.oneof(
                fc.constant<[number, number]>([0, -99999]),
                fc.tuple(fc.integer({ min: 0, max: 100 }), fc.float({ noNaN: true })),
              ),
              { minLength: n * k, maxLength: n * k },
            )
            .map((cells) => {
              const ids = new Uint8Array(cells.length * 4);
              const lps = new Uint8Array(cells.length * 4);
              cells.forEach(([t, l], i) => {
                new DataView(ids.buffer).setInt32(i * 4, t, true);
                new DataView(lps.buffer).setFloat32(i * 4, l, true);
              });
              return create(pb.TopkPromptLogprobsSchema, {
                tokenIds: ids,
                logprobs: lps,
                k,
                promptLength: n + off,
              });
            }),
        ),
      { nil: undefined },
    ),
    hits: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ sequences, prompt, topk, hits }) =>
    toBinary(
      pb.SampleResponseSchema,
      create(pb.SampleResponseSchema, {
        sequences: sequences.map((s) =>
          create(pb.SampledSequenceSchema, {
            stopReason: s.stop as pb.StopReason,
            tokens: s.tokens,
            ...(s.logprobs !== undefined ? { logprobs: s.logprobs } : {}),
          }),
        ),
        ...(prompt !== undefined ? { promptLogprobs: prompt } : {}),
        ...(topk !== undefined ? { topkPromptLogprobs: topk } : {}),
        promptCacheHitTokens: hits,
      }),
    ),
  );

/** Both give the same value, or both refuse with a WireDecodeError. */
function sameOutcome<T>(direct: () => T, reference: () => T): void {
  let expected: T;
  try {
    expected = reference();
  } catch (err) {
    assert.ok(err instanceof WireDecodeError, `reference threw ${err}`);
    assert.throws(direct, WireDecodeError);
    return;
  }
  assert.deepStrictEqual(direct(), expected);
}

/** The bytes at an odd offset of a larger buffer, as a pooled network buffer may hand them over. */
function unaligned(bytes: Uint8Array, shift: number): Uint8Array {
  const host = new Uint8Array(bytes.length + shift);
  host.set(bytes, shift);
  return host.subarray(shift);
}

describe("direct result reader", () => {
  for (const littleEndian of [true, false]) {
    const host = littleEndian ? "little-endian" : "forced big-endian (DataView)";
    it(`reads ForwardBackwardOutput as protobuf-es does (all dtypes, records, offsets) on the ${host} path`, () => {
      fc.assert(
        fc.property(outputBytesArb, fc.integer({ min: 0, max: 3 }), (bytes, shift) => {
          setHostLittleEndianForTesting(littleEndian);
          const input = unaligned(bytes, shift);
          sameOutcome(
            () => decodeForwardBackwardOutputProto(input),
            () => referenceDecodeForwardBackwardOutput(input),
          );
        }),
        { numRuns: 200 },
      );
    });

    it(`reads SampleResponse as protobuf-es does (NaN prompt logprobs, top-k rows) on the ${host} path`, () => {
      fc.assert(
        fc.property(sampleBytesArb, fc.integer({ min: 0, max: 3 }), (bytes, shift) => {
          setHostLittleEndianForTesting(littleEndian);
          const input = unaligned(bytes, shift);
          sameOutcome(
            () => decodeSampleResponseProto(input),
            () => referenceDecodeSampleResponse(input),
          );
        }),
        { numRuns: 200 },
      );
    });
  }

  it("reads a Node Buffer that lives in Node's shared pool (an HTTP body from Buffer.concat) as protobuf-es does", () => {
    // Buffer#slice is a view, not a copy: a reader that copied a misaligned field with it read the
    // pool's first bytes instead (a forward from a plain node:http client failed to decode).
    let pooledSeen = 0;
    fc.assert(
      fc.property(outputBytesArb, sampleBytesArb, (fbo, sample) => {
        for (const [bytes, decode, reference] of [
          [fbo, decodeForwardBackwardOutputProto, referenceDecodeForwardBackwardOutput],
          [sample, decodeSampleResponseProto, referenceDecodeSampleResponse],
        ] as const) {
          const input = Buffer.concat([Buffer.from(bytes.subarray(0, 3)), Buffer.from(bytes.subarray(3))]);
          if (input.buffer.byteLength > input.length) pooledSeen++;
          sameOutcome(
            () => decode(input),
            () => reference(new Uint8Array(input)),
          );
        }
      }),
      { numRuns: 200 },
    );
    assert.ok(pooledSeen > 0, "no input landed in Node's Buffer pool");
  });

  it("refuses truncated and corrupted bodies as protobuf-es does: with a WireDecodeError", () => {
    fc.assert(
      fc.property(outputBytesArb, sampleBytesArb, fc.nat(), fc.nat(), (fbo, sample, cut, flip) => {
        for (const bytes of [fbo, sample]) {
          if (bytes.length === 0) continue;
          const truncated = bytes.subarray(0, cut % bytes.length);
          const corrupted = bytes.slice();
          corrupted[flip % bytes.length]! ^= 0xff;
          for (const input of [truncated, corrupted]) {
            const decode = bytes === fbo ? decodeForwardBackwardOutputProto : decodeSampleResponseProto;
            const reference =
              bytes === fbo ? referenceDecodeForwardBackwardOutput : referenceDecodeSampleResponse;
            let refOk = true;
            let refValue: unknown;
            try {
              refValue = reference(input);
            } catch (err) {
              refOk = false;
              assert.ok(err instanceof WireDecodeError);
            }
            // A byte flip can make a body protobuf-es reads leniently (e.g. a field with an
            // unexpected wire type); the direct reader must then either agree or refuse cleanly.
            try {
              const value = decode(input);
              if (refOk) assert.deepStrictEqual(value, refValue);
            } catch (err) {
              assert.ok(err instanceof WireDecodeError, `direct reader threw ${err}`);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("reads float32 fields from the response when first read, aligned or not (no copy at decode)", () => {
    const body = toBinary(
      pb.SampleResponseSchema,
      create(pb.SampleResponseSchema, {
        sequences: [
          create(pb.SampledSequenceSchema, { tokens: new Uint8Array(8), logprobs: new Uint8Array(8) }),
        ],
      }),
    );
    let aligned = 0;
    for (const shift of [0, 1, 2, 3]) {
      // The decode copies nothing, even where the field is off a 4-byte boundary: a change to the
      // response bytes before the first read shows in the array, whatever the offset.
      const input = unaligned(body, shift);
      const seq = decodeSampleResponseProto(input).sequences[0]!;
      const logprobsAt = body.length - 8 + shift;
      new DataView(input.buffer).setFloat32(logprobsAt, 0.5, true);
      assert.ok(Object.getOwnPropertyDescriptor(seq, "logprobs")?.get, "not read yet");
      if ((input.byteOffset + body.length - 8) % 4 === 0) aligned++;
      assert.deepEqual(seq.logprobs, [0.5, 0]);
      assert.ok(Array.isArray(Object.getOwnPropertyDescriptor(seq, "logprobs")?.value), "an array once read");
      new DataView(input.buffer).setFloat32(logprobsAt, 0.25, true);
      assert.deepEqual(seq.logprobs, [0.5, 0], "kept once read");
      seq.tokens = [7];
      assert.deepEqual(seq.tokens, [7]);
    }
    assert.equal(aligned, 1, "one of four offsets is aligned, so three took the misaligned path");
  });

  it("skips unknown fields and keeps the last value of a repeated scalar", () => {
    const body = toBinary(
      pb.SampleResponseSchema,
      create(pb.SampleResponseSchema, { promptCacheHitTokens: 3, sequences: [] }),
    );
    // field 15 varint 7, field 14 fixed32, field 13 bytes, then prompt_cache_hit_tokens again = 9.
    const extra = Uint8Array.of(0x78, 0x07, 0x75, 1, 2, 3, 4, 0x6a, 0x02, 0xaa, 0xbb, 0x20, 0x09);
    const input = new Uint8Array(body.length + extra.length);
    input.set(body);
    input.set(extra, body.length);
    assert.deepStrictEqual(decodeSampleResponseProto(input), referenceDecodeSampleResponse(input));
    assert.equal(decodeSampleResponseProto(input).prompt_cache_hit_tokens, 9);
  });
});
