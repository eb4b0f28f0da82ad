// A direct protobuf reader for the two results the SDK decodes on every call: ForwardBackwardOutput
// and SampleResponse. It walks the response bytes once and reads numeric arrays through typed-array
// views into the buffer (through one copy when a field does not start on a 4-byte boundary), where
// protobuf-es would build message objects and the old codec read element by element through a
// DataView. float32 and int32 fields are checked during the decode but read later: the `number[]`
// the types promise is made from the response bytes the first time the field is read (defineLazy),
// copy included, so the decoded object keeps the response bytes alive and they must not be changed
// afterwards. The result is value for value
// what the protobuf-es decoder in proto-reference.ts gives (property tests), including its checks
// and its errors' classes and paths.

import { WireDecodeError } from "./errors.js";
import { elementSize, FLOAT32, float32s, INT32, int32s, int64s, setValues, values } from "./proto-fields.js";
import { Reader } from "./proto-wire.js";
import type {
  ForwardBackwardOutput,
  SampledSequence,
  SampleResponse,
  TopkRow,
  WireTensorData,
} from "./types.js";
import { product, setOwn } from "./validate.js";

/** The cell value a server writes where a top-k row has fewer than k entries. */
export const TOPK_EMPTY_LOGPROB = -99999.0;

/** `module:ClassName` → `ClassName`; an empty type defaults to `ArrayRecord` (contract 4.5). */
export function normalizeOutputType(type: string): string {
  const name = type.slice(type.lastIndexOf(":") + 1);
  return name === "" ? "ArrayRecord" : name;
}

// ---- ForwardBackwardOutput ----

interface BatchedTensor {
  data: Uint8Array;
  offsets: Uint8Array;
  dtype: number;
  trailing: number[];
}

function readBatchedTensor(r: Reader, what: string): BatchedTensor {
  const bt: BatchedTensor = { data: new Uint8Array(0), offsets: new Uint8Array(0), dtype: 0, trailing: [] };
  while (r.pos < r.end) {
    const t = r.uint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 1 && wt === 2) bt.data = r.bytes();
    else if (field === 2 && wt === 2) bt.offsets = r.bytes();
    else if (field === 3 && wt === 0) bt.dtype = r.int32();
    else if (field === 4 && (wt === 0 || wt === 2)) r.int64s(bt.trailing, wt, `${what}.trailing_shape`);
    else r.skip(wt, field);
  }
  return bt;
}

interface ArrayRecord {
  fields: Record<string, BatchedTensor>;
  numDatums: number;
}

function readArrayRecord(r: Reader, what: string): ArrayRecord {
  const rec: ArrayRecord = { fields: {}, numDatums: 0 };
  while (r.pos < r.end) {
    const t = r.uint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 2) {
      r.expect(wt, 2, field);
      const entry = r.sub();
      let key = "";
      let value: BatchedTensor | undefined;
      while (entry.pos < entry.end) {
        const et = entry.uint32();
        if (et === 0x0a) key = entry.string();
        else if (et === 0x12) value = readBatchedTensor(entry.sub(), `${what}.fields`);
        else entry.skip(et & 7, et >>> 3);
      }
      setOwn(rec.fields, key, value ?? readBatchedTensor(new Reader(new Uint8Array(0), r.what), what));
    } else if (field === 3 && wt === 0) rec.numDatums = r.int64(`${what}.num_datums`);
    else r.skip(wt, field);
  }
  return rec;
}

/**
 * How many datums a BatchedTensor holds: its byte offsets have datums + 1 entries, and the count
 * must agree with the record's `num_datums` when it has one. Shared with the protobuf-es reference.
 */
export function batchedDatumCount(
  offsets: readonly number[],
  numDatums: number | undefined,
  what: string,
): number {
  if (offsets.length === 0) throw new WireDecodeError("offsets are empty; need datums + 1 entries", what);
  const count = offsets.length - 1;
  if (numDatums !== undefined && count !== numDatums) {
    throw new WireDecodeError(`has ${count} datums but the record has ${numDatums}`, what);
  }
  return count;
}

/**
 * Datum `i`'s byte range [start, end) in a BatchedTensor's `byteLength`-byte data, checked: inside
 * the data, and a whole number of `size`-byte elements. Shared with the protobuf-es reference.
 */
export function datumByteRange(
  offsets: readonly number[],
  i: number,
  byteLength: number,
  size: number,
  what: string,
): [start: number, end: number] {
  const start = offsets[i] as number;
  const end = offsets[i + 1] as number;
  if (start < 0 || end < start || end > byteLength) {
    throw new WireDecodeError(
      `byte offsets ${start}..${end} of datum ${i} fall outside the ${byteLength}-byte data`,
      `${what}.offsets`,
    );
  }
  if ((end - start) % size !== 0) {
    throw new WireDecodeError(`datum ${i} has ${end - start} bytes, not a multiple of ${size}`, what);
  }
  return [start, end];
}

function batchedTensorValues(
  bt: BatchedTensor,
  numDatums: number | undefined,
  what: string,
): WireTensorData[] {
  const offsets = int64s(bt.offsets, `${what}.offsets`);
  const count = batchedDatumCount(offsets, numDatums, what);
  const inner = product(bt.trailing);
  const size = elementSize(bt.dtype);
  // No copy of a misaligned field here: float32 and int32 datums are read lazily (setValues), and
  // each makes the copy it needs when read; the other dtypes are read at once, element by element.
  const out: WireTensorData[] = [];
  for (let i = 0; i < count; i++) {
    const [start, end] = datumByteRange(offsets, i, bt.data.byteLength, size, what);
    const bytes = bt.data.subarray(start, end);
    const length = (end - start) / size;
    if (inner === 0 ? length !== 0 : length % inner !== 0) {
      // The reference reads the values first, so a dtype it does not know is named before this.
      values(bytes, bt.dtype, what);
      throw new WireDecodeError(
        `datum ${i} has ${length} elements, not a multiple of trailing shape [${bt.trailing.join(", ")}]`,
        what,
      );
    }
    const shape = [inner === 0 ? 0 : length / inner, ...bt.trailing];
    if (bt.dtype === FLOAT32 || bt.dtype === INT32) {
      const td = {} as WireTensorData;
      setValues(td, "data", bytes, bt.dtype === FLOAT32 ? "float32" : "int32", what);
      td.dtype = bt.dtype === FLOAT32 ? "float32" : "int64";
      td.shape = shape;
      out.push(td);
    } else {
      const { data, dtype } = values(bytes, bt.dtype, what);
      out.push({ data, dtype, shape });
    }
  }
  return out;
}

/** Decodes a ForwardBackwardOutput body (contract 4.5) into the logical shape of types.ts. */
export function readForwardBackwardOutput(bytes: Uint8Array): ForwardBackwardOutput {
  const r = new Reader(bytes, "ForwardBackwardOutput");
  let type = "";
  const records: ArrayRecord[] = [];
  const metrics: Record<string, number> = {};
  while (r.pos < r.end) {
    const t = r.uint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 1 && wt === 2) type = r.string();
    else if (field === 2 && wt === 2)
      records.push(readArrayRecord(r.sub(), `loss_fn_outputs[${records.length}]`));
    else if (field === 3 && wt === 2) {
      const entry = r.sub();
      let key = "";
      let value = 0;
      while (entry.pos < entry.end) {
        const et = entry.uint32();
        if (et === 0x0a) key = entry.string();
        else if (et === 0x11) value = entry.double();
        else entry.skip(et & 7, et >>> 3);
      }
      setOwn(metrics, key, value);
    } else r.skip(wt, field);
  }
  const outputs: Record<string, WireTensorData>[] = [];
  records.forEach((rec, i) => {
    const what = `loss_fn_outputs[${i}]`;
    const keys = Object.keys(rec.fields);
    // num_datums 0 means "not filled in": the first field's datum count stands in for it.
    const expected = rec.numDatums > 0 ? rec.numDatums : undefined;
    const columns = keys.map((key) =>
      batchedTensorValues(rec.fields[key]!, expected, `${what}.fields.${key}`),
    );
    pushDatumsFromColumns(outputs, keys, columns, expected, what);
  });
  return { loss_fn_output_type: normalizeOutputType(type), loss_fn_outputs: outputs, metrics };
}

// ---- SampleResponse ----

function readSequence(r: Reader, what: string): SampledSequence {
  let stop = 0;
  let tokens: Uint8Array = new Uint8Array(0);
  let logprobs: Uint8Array | undefined;
  while (r.pos < r.end) {
    const t = r.uint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 1 && wt === 0) stop = r.int32();
    else if (field === 2 && wt === 2) tokens = r.bytes();
    else if (field === 3 && wt === 2) logprobs = r.bytes();
    else r.skip(wt, field);
  }
  let stop_reason: SampledSequence["stop_reason"];
  if (stop === 0) stop_reason = "stop";
  else if (stop === 1) stop_reason = "length";
  else throw new WireDecodeError(`unknown stop_reason ${stop} (0 = stop, 1 = length)`, `${what}.stop_reason`);
  const seq = { stop_reason } as SampledSequence;
  setValues(seq, "tokens", tokens, "int32", `${what}.tokens`);
  if (logprobs !== undefined) setValues(seq, "logprobs", logprobs, "float32", `${what}.logprobs`);
  return seq;
}

interface Topk {
  tokenIds: Uint8Array;
  logprobs: Uint8Array;
  k: number;
  promptLength: number;
}

/** A message field seen twice is merged, as protobuf parsers do: later fields win. */
function readTopk(r: Reader, into: Topk): void {
  while (r.pos < r.end) {
    const t = r.uint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 1 && wt === 2) into.tokenIds = r.bytes();
    else if (field === 2 && wt === 2) into.logprobs = r.bytes();
    else if (field === 3 && wt === 0) into.k = r.uint32();
    else if (field === 4 && wt === 0) into.promptLength = r.uint32();
    else r.skip(wt, field);
  }
}

function topkRows(t: Topk): TopkRow[] {
  const ids = int32s(t.tokenIds, "topk_prompt_logprobs.token_ids");
  const lps = float32s(t.logprobs, "topk_prompt_logprobs.logprobs");
  const n = t.promptLength;
  const k = t.k;
  if (ids.length !== n * k || lps.length !== n * k) {
    throw new WireDecodeError(
      `expected ${n}×${k} = ${n * k} cells, got ${ids.length} token ids and ${lps.length} logprobs`,
      "topk_prompt_logprobs",
    );
  }
  const empty = (j: number) => ids[j] === 0 && lps[j] === TOPK_EMPTY_LOGPROB;
  const rows: TopkRow[] = [];
  for (let i = 0; i < n; i++) {
    const base = i * k;
    if (k === 0 || empty(base)) {
      rows.push(null);
      continue;
    }
    let end = k;
    while (end > 0 && empty(base + end - 1)) end--;
    const row: [number, number][] = [];
    for (let j = 0; j < end; j++) row.push([ids[base + j]!, lps[base + j]!]);
    rows.push(row);
  }
  return rows;
}

/** Decodes a SampleResponse body (contract 4.8) into the logical shape of types.ts. */
export function readSampleResponse(bytes: Uint8Array): SampleResponse {
  const r = new Reader(bytes, "SampleResponse");
  const sequences: SampledSequence[] = [];
  let promptLogprobs: Uint8Array | undefined;
  let topk: Topk | undefined;
  let cacheHits = 0;
  while (r.pos < r.end) {
    const t = r.uint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 1 && wt === 2) sequences.push(readSequence(r.sub(), `sequences[${sequences.length}]`));
    else if (field === 2 && wt === 2) promptLogprobs = r.bytes();
    else if (field === 3 && wt === 2) {
      topk ??= { tokenIds: new Uint8Array(0), logprobs: new Uint8Array(0), k: 0, promptLength: 0 };
      readTopk(r.sub(), topk);
    } else if (field === 4 && wt === 0) cacheHits = r.int32();
    else r.skip(wt, field);
  }
  const res: SampleResponse = { sequences, prompt_cache_hit_tokens: cacheHits };
  if (promptLogprobs !== undefined) {
    // NaN marks a position with no logprob (contract 4.8): it reaches the caller as null.
    setValues(res, "prompt_logprobs", promptLogprobs, "float32", "prompt_logprobs", (lps) =>
      lps.map((v) => (Number.isNaN(v) ? null : v)),
    );
  }
  if (topk !== undefined) res.topk_prompt_logprobs = topkRows(topk);
  return res;
}

/**
 * Turns one loss_fn_outputs record, read as one column of per-datum tensors per field, into one
 * record per datum, appended to `out`. Every field must hold the same number of datums: the
 * declared `num_datums` when the server filled it in, otherwise the first field's count. Shared by
 * the direct reader and the protobuf-es reference, so both refuse the same records with the same
 * message.
 */
export function pushDatumsFromColumns(
  out: Record<string, WireTensorData>[],
  keys: readonly string[],
  columns: readonly (readonly WireTensorData[])[],
  expected: number | undefined,
  what: string,
): void {
  const count = expected ?? columns[0]?.length ?? 0;
  for (let j = 1; j < columns.length; j++) {
    if (columns[j]!.length !== count) {
      throw new WireDecodeError(
        `field "${keys[j]}" has ${columns[j]!.length} datums but "${keys[0]}" has ${count}; every field needs one entry per datum`,
        what,
      );
    }
  }
  for (let d = 0; d < count; d++) {
    const datum: Record<string, WireTensorData> = {};
    keys.forEach((key, j) => {
      setOwn(datum, key, columns[j]![d]!);
    });
    out.push(datum);
  }
}
