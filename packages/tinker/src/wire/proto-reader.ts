// A direct protobuf reader for the two results the SDK decodes on every call: ForwardBackwardOutput
// and SampleResponse. It walks the response bytes once and reads numeric arrays through typed-array
// views into the buffer (one copy first when a field does not start on a 4-byte boundary), where
// protobuf-es would build message objects and the old codec read element by element through a
// DataView. float32 and int32 fields reach the caller as views: the `number[]` the types promise
// is made from the view the first time the field is read (defineLazy), so the decoded object keeps
// the response bytes alive and they must not be changed afterwards. The result is value for value
// what the protobuf-es decoder in proto-reference.ts gives (property tests), including its checks
// and its errors' classes and paths.

import { WireDecodeError } from "./errors.js";
import { hostIsLittleEndian } from "./packed.js";
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

const TWO_32 = 4294967296;
/** Largest magnitude of the high word of an int64 whose value is a safe JS integer. */
const SAFE_HIGH = 2 ** 21;
const utf8 = new TextDecoder();

// ---- The wire ----

class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  readonly what: string;

  constructor(buf: Uint8Array, what: string, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  fail(message: string): never {
    throw new WireDecodeError(`malformed protobuf: ${message}`, this.what);
  }

  /** A varint's low 32 bits as an unsigned number; the high bits are read and dropped. */
  uint32(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("premature end of data in a varint");
      const b = buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    return this.fail("varint longer than 10 bytes");
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** An int64 varint as a number; outside ±(2^53 − 1) is an error (not a silent rounding). */
  int64(what: string): number {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("premature end of data in a varint");
      const b = buf[this.pos++]!;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (shift - 32);
      shift += 7;
      if ((b & 0x80) === 0) {
        const high = hi | 0;
        const low = lo >>> 0;
        if (high >= SAFE_HIGH || high < -SAFE_HIGH || (high === -SAFE_HIGH && low === 0)) {
          throw new WireDecodeError(
            `int64 value ${BigInt(high) * 4294967296n + BigInt(low)} is outside the safe integer range`,
            what,
          );
        }
        return high * TWO_32 + low;
      }
    }
    return this.fail("varint longer than 10 bytes");
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail("premature end of data in a double");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** Start and end of a length-delimited field's bytes; the reader moves past them. */
  span(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (len > this.end - start) this.fail(`length ${len} runs past the end of the data`);
    this.pos = start + len;
    return [start, start + len];
  }

  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.buf.subarray(start, end);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A nested message's reader. */
  sub(): Reader {
    const [start, end] = this.span();
    return new Reader(this.buf, this.what, start, end);
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case 0:
        this.uint32();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.span();
        return;
      case 5:
        this.advance(4);
        return;
      case 3:
        for (;;) {
          const t = this.uint32();
          if ((t & 7) === 4) {
            if (t >>> 3 !== field) this.fail("unbalanced group");
            return;
          }
          this.skip(t & 7, t >>> 3);
        }
      default:
        this.fail(`unexpected wire type ${wireType}`);
    }
  }

  advance(n: number): void {
    if (n > this.end - this.pos) this.fail("premature end of data");
    this.pos += n;
  }

  /** Repeated int64, packed or not (a parser must accept both). */
  int64s(into: number[], wireType: number, what: string): void {
    if (wireType === 2) {
      const r = this.sub();
      while (r.pos < r.end) into.push(r.int64(what));
    } else into.push(this.int64(what));
  }

  expect(wireType: number, want: number, field: number): void {
    if (wireType !== want) this.fail(`field ${field} has wire type ${wireType}, expected ${want}`);
  }
}

// ---- Numeric arrays ----

function checkMultiple(bytes: Uint8Array, size: number, what: string): number {
  if (bytes.byteLength % size !== 0) {
    throw new WireDecodeError(`byte length ${bytes.byteLength} is not a multiple of ${size}`, what);
  }
  return bytes.byteLength / size;
}

/**
 * Defines `key` on `target` as the `number[]` that `read` makes, made on first access and kept:
 * the decoder hands out typed views into the response, and a caller who never reads a field as a
 * plain array never pays for one. The property is an ordinary enumerable one to every reader
 * (spread, JSON, deepStrictEqual); assigning to it replaces it.
 */
function defineLazy(target: object, key: string, read: () => number[]): void {
  const settle = (value: unknown) =>
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = read();
      settle(value);
      return value;
    },
    set: settle,
  });
}

function toArray(view: ArrayLike<number>): number[] {
  const out = new Array<number>(view.length);
  for (let i = 0; i < view.length; i++) out[i] = view[i]!;
  return out;
}

/**
 * The elements of `bytes` as a typed array (little-endian host): a view into the response where
 * the field starts on a 4-byte boundary, else a view of one copy.
 */
function view32(bytes: Uint8Array, kind: "float32" | "int32"): Float32Array | Int32Array {
  const { buffer, offset } = aligned(bytes, 4);
  const n = bytes.byteLength / 4;
  return kind === "float32" ? new Float32Array(buffer, offset, n) : new Int32Array(buffer, offset, n);
}

/**
 * Sets `target[key]` to the values of a float32 or int32 field: lazily from a view on a
 * little-endian host, at once through a DataView otherwise. Checks the length first, so a bad
 * body still fails inside the decode call.
 */
function setValues(
  target: object,
  key: string,
  bytes: Uint8Array,
  kind: "float32" | "int32",
  what: string,
  map?: (values: number[]) => unknown[],
): void {
  checkMultiple(bytes, 4, what);
  if (!hostIsLittleEndian()) {
    const values = kind === "float32" ? float32s(bytes, what) : int32s(bytes, what);
    setOwn(target as Record<string, unknown>, key, map ? map(values) : values);
    return;
  }
  const typed = view32(bytes, kind);
  defineLazy(target, key, () => (map ? (map(toArray(typed)) as number[]) : toArray(typed)));
}

/** A typed view of `bytes` when they start on an element boundary, else of a copy. */
function aligned(bytes: Uint8Array, size: number): { buffer: ArrayBufferLike; offset: number } {
  if ((bytes.byteOffset & (size - 1)) === 0) return { buffer: bytes.buffer, offset: bytes.byteOffset };
  return { buffer: bytes.slice().buffer, offset: 0 };
}

function float32s(bytes: Uint8Array, what: string): number[] {
  const n = checkMultiple(bytes, 4, what);
  const out = new Array<number>(n);
  if (!hostIsLittleEndian()) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const { buffer, offset } = aligned(bytes, 4);
  const floats = new Float32Array(buffer, offset, n);
  for (let i = 0; i < n; i++) out[i] = floats[i]!;
  return out;
}

function int32s(bytes: Uint8Array, what: string): number[] {
  const n = checkMultiple(bytes, 4, what);
  const out = new Array<number>(n);
  if (!hostIsLittleEndian()) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
    return out;
  }
  const { buffer, offset } = aligned(bytes, 4);
  const words = new Int32Array(buffer, offset, n);
  for (let i = 0; i < n; i++) out[i] = words[i]!;
  return out;
}

function int64s(bytes: Uint8Array, what: string): number[] {
  const n = checkMultiple(bytes, 8, what);
  const out = new Array<number>(n);
  const le = hostIsLittleEndian();
  const { buffer, offset } = le ? aligned(bytes, 4) : { buffer: bytes.buffer, offset: bytes.byteOffset };
  const words = le ? new Int32Array(buffer, offset, n * 2) : undefined;
  const view = le ? undefined : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const low = words ? words[2 * i]! >>> 0 : view!.getUint32(i * 8, true);
    const high = words ? words[2 * i + 1]! : view!.getInt32(i * 8 + 4, true);
    if (high >= SAFE_HIGH || high < -SAFE_HIGH) {
      throw new WireDecodeError(`int64 value at index ${i} is outside the safe integer range`, what);
    }
    out[i] = high * TWO_32 + low;
  }
  return out;
}

/** bfloat16 is the top half of a float32. */
function bfloat16s(bytes: Uint8Array, what: string): number[] {
  const n = checkMultiple(bytes, 2, what);
  const out = new Array<number>(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scratch = new Uint32Array(1);
  const asFloat = new Float32Array(scratch.buffer);
  for (let i = 0; i < n; i++) {
    scratch[0] = view.getUint16(i * 2, true) << 16;
    out[i] = asFloat[0]!;
  }
  return out;
}

// DType enum values (contract 4.17).
const FLOAT32 = 1;
const INT64 = 2;
const INT32 = 3;
const BFLOAT16 = 4;

/** Widening rules of contract 4.5: INT32 → int64, BFLOAT16 → float32. */
function values(
  bytes: Uint8Array,
  dtype: number,
  what: string,
): { data: number[]; dtype: "int64" | "float32" } {
  switch (dtype) {
    case FLOAT32:
      return { data: float32s(bytes, what), dtype: "float32" };
    case BFLOAT16:
      return { data: bfloat16s(bytes, what), dtype: "float32" };
    case INT64:
      return { data: int64s(bytes, what), dtype: "int64" };
    case INT32:
      return { data: int32s(bytes, what), dtype: "int64" };
    default:
      throw new WireDecodeError(
        `unsupported dtype ${dtype} (expected FLOAT32, BFLOAT16, INT64 or INT32)`,
        what,
      );
  }
}

function elementSize(dtype: number): number {
  return dtype === INT64 ? 8 : dtype === BFLOAT16 ? 2 : 4;
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

function batchedTensorValues(
  bt: BatchedTensor,
  numDatums: number | undefined,
  what: string,
): WireTensorData[] {
  const offsets = int64s(bt.offsets, `${what}.offsets`);
  if (offsets.length === 0) throw new WireDecodeError("offsets are empty; need datums + 1 entries", what);
  const count = offsets.length - 1;
  if (numDatums !== undefined && count !== numDatums) {
    throw new WireDecodeError(`has ${count} datums but the record has ${numDatums}`, what);
  }
  const inner = product(bt.trailing);
  const size = elementSize(bt.dtype);
  // One copy of the whole field when it is misaligned, rather than one per datum.
  const all =
    (bt.data.byteOffset & 3) !== 0 && size === 4 && hostIsLittleEndian() ? bt.data.slice() : bt.data;
  const out: WireTensorData[] = [];
  for (let i = 0; i < count; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    if (start < 0 || end < start || end > bt.data.byteLength) {
      throw new WireDecodeError(
        `byte offsets ${start}..${end} of datum ${i} fall outside the ${bt.data.byteLength}-byte data`,
        `${what}.offsets`,
      );
    }
    if ((end - start) % size !== 0) {
      throw new WireDecodeError(`datum ${i} has ${end - start} bytes, not a multiple of ${size}`, what);
    }
    const bytes = all.subarray(start, end);
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
      outputs.push(datum);
    }
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
