// A direct protobuf writer for ForwardBackwardRequest, the body every forward_backward sends. It
// gives the same bytes as protobuf-es's toBinary (proto-reference.ts, checked by property tests)
// without building nested message objects: one pass computes the size of every message, the
// second writes into a single buffer of exactly that size. Token and tensor arrays made by the
// builders are copied from their packed little-endian bytes with one `set` (packed.ts); other
// arrays are converted straight into the output.
//
// The writer trusts its input: it is what the public encoder and TrainingClient call after their
// own checks, so nothing is walked here except to copy it.

import { base64Decode } from "./base64.js";
import { packedOf, writeFloat32s, writeInt32s, writeInt64s } from "./packed.js";
import type { ForwardBackwardRequest, ModelInputChunk, WireDatum, WireTensorData } from "./types.js";
import { failValidation } from "./validate.js";

const LEN = 2;
const FIXED64 = 1;
const VARINT = 0;

function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Bytes of a varint for a non-negative safe integer, or 10 for a negative int32 (sign-extended). */
function varintSize(v: number): number {
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 4;
  let rest = Math.floor(v / 0x10000000);
  while (rest > 0) {
    n++;
    rest = Math.floor(rest / 128);
  }
  return n;
}

/** A length-delimited field holding `n` bytes: tag, length, bytes. */
function lenField(n: number): number {
  return 1 + varintSize(n) + n;
}

/** Per-call caches: map keys repeat on every datum, and image bytes are decoded once. */
class Strings {
  readonly #utf8 = new Map<string, Uint8Array>();
  readonly #base64 = new Map<string, Uint8Array>();
  readonly #encoder = new TextEncoder();

  utf8(text: string): Uint8Array {
    let bytes = this.#utf8.get(text);
    if (!bytes) {
      bytes = this.#encoder.encode(text);
      this.#utf8.set(text, bytes);
    }
    return bytes;
  }

  base64(text: string): Uint8Array {
    let bytes = this.#base64.get(text);
    if (!bytes) {
      // Checked input is valid base64; an invalid string would have been refused before.
      bytes = base64Decode(text) ?? new Uint8Array(0);
      this.#base64.set(text, bytes);
    }
    return bytes;
  }
}

// ---- Sizes ----

function isSparse(td: WireTensorData): boolean {
  return Boolean(td.sparse_crow_indices && td.sparse_col_indices);
}

function shapeOf(td: WireTensorData): readonly number[] {
  return td.shape ?? [td.data.length];
}

function shapeBodySize(shape: readonly number[]): number {
  let n = 0;
  for (const d of shape) n += varintSize(d);
  return n;
}

function sparseBodySize(td: WireTensorData): number {
  const values = td.data.length * (td.dtype === "int64" ? 8 : 4);
  const crow = td.sparse_crow_indices!.length * 8;
  const col = td.sparse_col_indices!.length * 8;
  return (
    (values > 0 ? lenField(values) : 0) + (crow > 0 ? lenField(crow) : 0) + (col > 0 ? lenField(col) : 0)
  );
}

function tensorBodySize(td: WireTensorData): number {
  const encoding = isSparse(td)
    ? lenField(sparseBodySize(td))
    : lenField(td.data.length * (td.dtype === "int64" ? 8 : 4));
  const shape = shapeOf(td);
  // dtype is FLOAT32 (1) or INT64 (2): never the default, so always written, in two bytes.
  return encoding + 2 + (shape.length > 0 ? lenField(shapeBodySize(shape)) : 0);
}

function imageBodySize(chunk: ModelInputChunk & { type: "image" }, strings: Strings): number {
  const data = strings.base64(chunk.data).length;
  const format = strings.utf8(chunk.format).length;
  return (
    (data > 0 ? lenField(data) : 0) +
    (format > 0 ? lenField(format) : 0) +
    (chunk.expected_tokens != null ? 1 + varintSize(chunk.expected_tokens) : 0)
  );
}

/** Size of the chunk's inner message (EncodedTextChunk, ImageChunk or DmelChunk). */
function chunkInnerSize(chunk: ModelInputChunk, strings: Strings, what: string): number {
  switch (chunk.type) {
    case "encoded_text": {
      const n = chunk.tokens.length * 4;
      return n > 0 ? lenField(n) : 0;
    }
    case "image":
      return imageBodySize(chunk, strings);
    case "dmel": {
      const n = strings.base64(chunk.dmel).length;
      return n > 0 ? lenField(n) : 0;
    }
    case "image_asset_pointer":
      return failValidation(
        "image_asset_pointer chunks cannot be sent to forward_backward (the protobuf body has no form for them); load the image and use an image chunk with its bytes",
        what,
      );
  }
}

function mapEntrySize(key: Uint8Array, valueField: number): number {
  return lenField(key.length) + valueField;
}

function datumBodySize(datum: WireDatum, strings: Strings, what: string): number {
  let n = 0;
  const chunks = datum.model_input.chunks;
  for (let j = 0; j < chunks.length; j++) {
    n += lenField(lenField(chunkInnerSize(chunks[j]!, strings, `${what}.model_input.chunks[${j}]`)));
  }
  const inputs = datum.loss_fn_inputs;
  for (const key of Object.keys(inputs)) {
    n += lenField(mapEntrySize(strings.utf8(key), lenField(tensorBodySize(inputs[key]!))));
  }
  return n;
}

// ---- Writing ----

class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  varint(v: number): void {
    const buf = this.buf;
    if (v < 0) {
      // A negative int32 is written as its 64-bit two's complement: ten bytes.
      let lo = v >>> 0;
      for (let i = 0; i < 4; i++) {
        buf[this.pos++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      // Bits 28..31 of the low word, then the all-ones high word.
      buf[this.pos++] = (lo & 0x0f) | 0x70 | 0x80;
      for (let i = 0; i < 4; i++) buf[this.pos++] = 0xff;
      buf[this.pos++] = 0x01;
      return;
    }
    while (v >= 0x80) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.pos++] = v;
  }

  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.buf[this.pos++] = tag(field, LEN);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  header(field: number, length: number): void {
    this.buf[this.pos++] = tag(field, LEN);
    this.varint(length);
  }
}

type NumericKind = "int32" | "int64" | "float32";

/**
 * A packed numeric field: one copy when a builder packed the array, else a conversion. Empty
 * fields are left out, as proto3 does, unless `always` (a oneof member is written even when empty).
 */
function writeNumbers(
  w: Writer,
  field: number,
  values: ArrayLike<number>,
  kind: NumericKind,
  always = false,
): void {
  const n = values.length * (kind === "int64" ? 8 : 4);
  if (n === 0 && !always) return;
  w.header(field, n);
  if (n === 0) return;
  const packed = packedOf(values, kind);
  if (packed) {
    w.raw(packed.bytes);
    return;
  }
  if (kind === "int32") writeInt32s(w.buf, w.pos, values);
  else if (kind === "float32") writeFloat32s(w.buf, w.pos, values);
  else writeInt64s(w.buf, w.pos, values);
  w.pos += n;
}

function writeTensor(w: Writer, td: WireTensorData): void {
  const kind: NumericKind = td.dtype === "int64" ? "int64" : "float32";
  if (isSparse(td)) {
    w.header(2, sparseBodySize(td));
    writeNumbers(w, 1, td.data, kind);
    writeNumbers(w, 2, td.sparse_crow_indices!, "int64");
    writeNumbers(w, 3, td.sparse_col_indices!, "int64");
  } else {
    writeNumbers(w, 1, td.data, kind, true);
  }
  w.buf[w.pos++] = tag(3, VARINT);
  w.buf[w.pos++] = kind === "int64" ? 2 : 1;
  const shape = shapeOf(td);
  if (shape.length > 0) {
    w.header(4, shapeBodySize(shape));
    for (const d of shape) w.varint(d);
  }
}

function writeChunk(w: Writer, chunk: ModelInputChunk, strings: Strings, what: string): void {
  const inner = chunkInnerSize(chunk, strings, what);
  w.header(1, lenField(inner));
  switch (chunk.type) {
    case "encoded_text":
      w.header(1, inner);
      writeNumbers(w, 1, chunk.tokens, "int32");
      return;
    case "image": {
      w.header(2, inner);
      const data = strings.base64(chunk.data);
      if (data.length > 0) w.bytesField(1, data);
      const format = strings.utf8(chunk.format);
      if (format.length > 0) w.bytesField(2, format);
      if (chunk.expected_tokens != null) {
        w.buf[w.pos++] = tag(3, VARINT);
        w.varint(chunk.expected_tokens);
      }
      return;
    }
    case "dmel": {
      w.header(3, inner);
      const data = strings.base64(chunk.dmel);
      if (data.length > 0) w.bytesField(1, data);
      return;
    }
    case "image_asset_pointer":
      return; // refused by chunkInnerSize above
  }
}

function writeDatum(w: Writer, datum: WireDatum, strings: Strings, what: string): void {
  const chunks = datum.model_input.chunks;
  for (let j = 0; j < chunks.length; j++)
    writeChunk(w, chunks[j]!, strings, `${what}.model_input.chunks[${j}]`);
  const inputs = datum.loss_fn_inputs;
  for (const key of Object.keys(inputs)) {
    const td = inputs[key]!;
    const keyBytes = strings.utf8(key);
    const tensorSize = tensorBodySize(td);
    w.header(2, mapEntrySize(keyBytes, lenField(tensorSize)));
    w.bytesField(1, keyBytes);
    w.header(2, tensorSize);
    writeTensor(w, td);
  }
}

/**
 * Encodes a ForwardBackwardRequest whose fields have been checked (see
 * `encodeForwardBackwardRequestProto` for the checking entry point). Same bytes as protobuf-es.
 */
export function writeForwardBackwardRequest(req: ForwardBackwardRequest): Uint8Array {
  const strings = new Strings();
  const modelId = strings.utf8(req.model_id);
  const lossFn = strings.utf8(req.loss_fn);
  const config = req.loss_fn_config ?? {};
  const configKeys = Object.keys(config);
  const datumSizes = new Array<number>(req.data.length);
  let size = 0;
  if (modelId.length > 0) size += lenField(modelId.length);
  if (req.seq_id !== 0) size += 1 + varintSize(req.seq_id);
  for (let i = 0; i < req.data.length; i++) {
    const n = datumBodySize(req.data[i]!, strings, `data[${i}]`);
    datumSizes[i] = n;
    size += lenField(n);
  }
  if (lossFn.length > 0) size += lenField(lossFn.length);
  for (const key of configKeys) size += lenField(mapEntrySize(strings.utf8(key), 9));
  if (req.forward_only === true) size += 2;

  const w = new Writer(size);
  if (modelId.length > 0) w.bytesField(1, modelId);
  if (req.seq_id !== 0) {
    w.buf[w.pos++] = tag(2, VARINT);
    w.varint(req.seq_id);
  }
  for (let i = 0; i < req.data.length; i++) {
    w.header(3, datumSizes[i]!);
    writeDatum(w, req.data[i]!, strings, `data[${i}]`);
  }
  if (lossFn.length > 0) w.bytesField(4, lossFn);
  for (const key of configKeys) {
    const keyBytes = strings.utf8(key);
    w.header(5, mapEntrySize(keyBytes, 9));
    w.bytesField(1, keyBytes);
    w.buf[w.pos++] = tag(2, FIXED64);
    w.view.setFloat64(w.pos, config[key]!, true);
    w.pos += 8;
  }
  if (req.forward_only === true) {
    w.buf[w.pos++] = tag(6, VARINT);
    w.buf[w.pos++] = 1;
  }
  if (w.pos !== size) throw new Error(`ForwardBackwardRequest writer: wrote ${w.pos} of ${size} bytes`);
  return w.buf;
}
