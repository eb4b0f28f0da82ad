// The protobuf codec of the SDK's hot path, against a plain copy of the same bytes in the same run.
//   npm run bench -- codec
//   node --conditions=tinker-source --import tsx bench/codec.ts   (table only, no doc)
//
// The request is the issue's: 256 datums × 4096 tokens, cross_entropy with int64 targets and
// float32 weights (about 16.8 MB of protobuf). "memcpy" allocates a buffer of that size and copies
// the encoded bytes into it, which is the floor for any encoder that must produce a fresh buffer.
// Rows:
// - encode of datums made by the builders (what TrainingClient sends after checking them), with the
//   direct writer and with the protobuf-es reference the writer is held to;
// - encode of plain wire objects no builder packed (the writer converts the arrays itself);
// - the whole client-side path from the user's arrays: Datum.create for each datum, the batch checks
//   forwardBackward runs, and the encode; once from plain arrays and once from typed arrays;
// - decode of a ForwardBackwardOutput carrying 1M float32 logprobs (256 × 4096), and of a
//   SampleResponse of 64 sequences × 4096 tokens with logprobs, direct and reference.
// Every encoder's output is compared with the reference's bytes, and every decode with the
// reference's values, before anything is timed.
import { deepStrictEqual } from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  checkForwardBackwardInput,
  Datum,
  encodeForwardBackwardOutputProto,
  encodeSampleResponseProto,
  type ForwardBackwardRequest,
  failValidation,
  type WireDatum,
} from "tinker-ts/wire";
import {
  decodeForwardBackwardOutputProto,
  decodeSampleResponseProto,
  encodeCheckedForwardBackwardRequestProto,
} from "../packages/tinker/src/wire/proto-codec.js";
import {
  referenceDecodeForwardBackwardOutput,
  referenceDecodeSampleResponse,
  referenceEncodeForwardBackwardRequest,
} from "../packages/tinker/src/wire/proto-reference.js";
import { type BenchResult, median, rng, runIfMain } from "./lib.js";

// A full GC on demand without starting node with --expose-gc (the runner starts every benchmark
// alike): the flag is set now and `gc` taken from a fresh context, where V8 then defines it.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

export const name = "codec";
export const description =
  "protobuf encode of a 1M-token forward_backward request (256 × 4096, cross_entropy with weights) and decode of 1M-logprob results, direct codec vs the protobuf-es reference, as multiples of a memcpy of the same bytes in the same run.";

const DATUMS = 256;
const TOKENS = 4096;

interface UserArrays {
  tokens: number[];
  targets: number[];
  weights: number[];
}

function userArrays(): UserArrays[] {
  const rand = rng(7);
  return Array.from({ length: DATUMS }, () => {
    const ids = Array.from({ length: TOKENS + 1 }, () => Math.floor(32000 * rand() ** 3));
    const promptLength = Math.floor(rand() * TOKENS);
    return {
      tokens: ids.slice(0, -1),
      targets: ids.slice(1),
      weights: Array.from({ length: TOKENS }, (_, i) => (i >= promptLength ? 1 : 0)),
    };
  });
}

function request(data: WireDatum[]): ForwardBackwardRequest {
  return { model_id: "bench:train:0", seq_id: 1, data, loss_fn: "cross_entropy" };
}

/** A deep copy in plain objects and arrays: nothing a builder packed. */
function plainCopy(datum: WireDatum): WireDatum {
  return JSON.parse(JSON.stringify(datum)) as WireDatum;
}

/** forwardBackward's client-side work: build each datum, check the batch, encode. */
function clientPath(make: (i: number) => Datum): Uint8Array {
  const data = Array.from({ length: DATUMS }, (_, i) => make(i).toWire());
  checkForwardBackwardInput({ data, loss_fn: "cross_entropy" }, "forwardBackward", failValidation);
  return encodeCheckedForwardBackwardRequestProto(request(data));
}

function same(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) {
    throw new Error(`${what}: bytes differ from the protobuf-es reference`);
  }
}

export async function run(): Promise<BenchResult[]> {
  const arrays = userArrays();
  const typed = arrays.map((a) => ({
    tokens: Int32Array.from(a.tokens),
    targets: Int32Array.from(a.targets),
    weights: Float32Array.from(a.weights),
  }));
  const built = arrays.map((a) =>
    Datum.create({
      modelInput: a.tokens,
      lossFnInputs: { target_tokens: a.targets, weights: a.weights },
    }).toWire(),
  );
  const plain = built.map(plainCopy);
  const reference = referenceEncodeForwardBackwardRequest(request(plain));
  same(encodeCheckedForwardBackwardRequestProto(request(built)), reference, "direct (built datums)");
  same(encodeCheckedForwardBackwardRequestProto(request(plain)), reference, "direct (plain wire objects)");
  const fromPlain = (i: number) =>
    Datum.create({
      modelInput: arrays[i]!.tokens,
      lossFnInputs: { target_tokens: arrays[i]!.targets, weights: arrays[i]!.weights },
    });
  const fromTyped = (i: number) =>
    Datum.create({
      modelInput: typed[i]!.tokens,
      lossFnInputs: { target_tokens: typed[i]!.targets, weights: typed[i]!.weights },
    });
  same(clientPath(fromPlain), reference, "client path (plain arrays)");
  same(clientPath(fromTyped), reference, "client path (typed arrays)");

  const rows: BenchResult[] = [];
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  // Every timed call starts after a full GC: the encodes allocate a fresh 16.8 MB buffer each, and
  // without it each row paid for the garbage of the rows before it (the same encode measured 4 to
  // 10 ms depending on its place). Three untimed calls first.
  const timedAfterGc = (fn: () => unknown) => {
    collectGarbage();
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  const time = (fn: () => unknown, reps: number) =>
    median(Array.from({ length: 3 + reps }, () => timedAfterGc(fn)).slice(3));
  const memcpyOf = (bytes: Uint8Array) =>
    time(() => {
      const out = new Uint8Array(bytes.length);
      out.set(bytes);
    }, 21);

  // ---- encode ----
  const copyMs = memcpyOf(reference);
  rows.push({
    metric: "request memcpy (allocate + copy)",
    value: copyMs,
    unit: "ms",
    notes: mb(reference.length),
  });
  const encodeRow = (metric: string, fn: () => unknown, reps: number, notes = "") => {
    const ms = time(fn, reps);
    rows.push({
      metric,
      value: ms,
      unit: "ms",
      notes: `${(ms / copyMs).toFixed(1)}× memcpy${notes && `; ${notes}`}`,
    });
    return ms;
  };
  encodeRow(
    "encode, direct writer, built datums",
    () => encodeCheckedForwardBackwardRequestProto(request(built)),
    21,
  );
  encodeRow(
    "encode, direct writer, plain wire objects",
    () => encodeCheckedForwardBackwardRequestProto(request(plain)),
    11,
    "arrays converted by the writer",
  );
  encodeRow(
    "encode, protobuf-es reference (old path)",
    () => referenceEncodeForwardBackwardRequest(request(plain)),
    5,
    "checks + message objects + toBinary",
  );
  // The two client paths are timed in pairs, in alternating order, and their ratio is the median of
  // the pairs' ratios (timed one after the other without a GC between, the ratio swung from 0.7 to
  // 1.3 with the order alone).
  const pairs = { plain: [] as number[], typed: [] as number[], ratio: [] as number[] };
  for (let round = 0; round < 2 + 9; round++) {
    const order = round % 2 === 0 ? (["plain", "typed"] as const) : (["typed", "plain"] as const);
    const ms = { plain: 0, typed: 0 };
    for (const input of order) {
      ms[input] = timedAfterGc(() => clientPath(input === "plain" ? fromPlain : fromTyped));
    }
    if (round < 2) continue; // warm-up
    pairs.plain.push(ms.plain);
    pairs.typed.push(ms.typed);
    pairs.ratio.push(ms.typed / ms.plain);
  }
  for (const [metric, ms, notes] of [
    [
      "build + check + encode from plain arrays",
      median(pairs.plain),
      "Datum.create ×256, batch checks, encode",
    ],
    ["build + check + encode from typed arrays", median(pairs.typed), ""],
  ] as const) {
    rows.push({
      metric,
      value: ms,
      unit: "ms",
      notes: `${(ms / copyMs).toFixed(1)}× memcpy${notes && `; ${notes}`}`,
    });
  }
  rows.push({
    metric: "typed-array input / plain-array input",
    value: median(pairs.ratio),
    unit: "×",
    notes: "median of 9 paired rounds, alternating order, GC before each; below 1: typed arrays are faster",
  });

  // ---- decode ----
  const rand = rng(11);
  const logprobs = Array.from({ length: DATUMS }, () =>
    Array.from({ length: TOKENS }, () => Math.fround(-10 * rand())),
  );
  const fbo = encodeForwardBackwardOutputProto({
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: logprobs.map((data) => ({ logprobs: { data, dtype: "float32", shape: [TOKENS] } })),
    metrics: { "loss:sum": 1234.5 },
  });
  deepStrictEqual(decodeForwardBackwardOutputProto(fbo), referenceDecodeForwardBackwardOutput(fbo));
  const fboCopyMs = memcpyOf(fbo);
  rows.push({
    metric: "ForwardBackwardOutput memcpy",
    value: fboCopyMs,
    unit: "ms",
    notes: `${mb(fbo.length)}, 1M logprobs`,
  });
  const decodeRow = (metric: string, fn: () => unknown, reps: number, floor: number) => {
    const ms = time(fn, reps);
    rows.push({ metric, value: ms, unit: "ms", notes: `${(ms / floor).toFixed(1)}× memcpy` });
  };
  decodeRow(
    "decode ForwardBackwardOutput, direct reader",
    () => decodeForwardBackwardOutputProto(fbo),
    21,
    fboCopyMs,
  );
  // The decode defers reading the arrays (and copying a misaligned field) to the first read: this
  // row pays for both, as a caller that reads every logprobs array does.
  decodeRow(
    "decode ForwardBackwardOutput + read every array",
    () => {
      let n = 0;
      for (const out of decodeForwardBackwardOutputProto(fbo).loss_fn_outputs) n += out.logprobs!.data.length;
      return n;
    },
    21,
    fboCopyMs,
  );
  decodeRow(
    "decode ForwardBackwardOutput, protobuf-es reference",
    () => referenceDecodeForwardBackwardOutput(fbo),
    7,
    fboCopyMs,
  );

  const sample = encodeSampleResponseProto({
    sequences: Array.from({ length: 64 }, () => ({
      stop_reason: "length" as const,
      tokens: Array.from({ length: TOKENS }, () => Math.floor(32000 * rand())),
      logprobs: Array.from({ length: TOKENS }, () => Math.fround(-5 * rand())),
    })),
    prompt_cache_hit_tokens: 0,
  });
  deepStrictEqual(decodeSampleResponseProto(sample), referenceDecodeSampleResponse(sample));
  const sampleCopyMs = memcpyOf(sample);
  rows.push({
    metric: "SampleResponse memcpy",
    value: sampleCopyMs,
    unit: "ms",
    notes: `${mb(sample.length)}, 64 × 4096 tokens + logprobs`,
  });
  decodeRow(
    "decode SampleResponse, direct reader",
    () => decodeSampleResponseProto(sample),
    21,
    sampleCopyMs,
  );
  decodeRow(
    "decode SampleResponse, protobuf-es reference",
    () => referenceDecodeSampleResponse(sample),
    7,
    sampleCopyMs,
  );
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
