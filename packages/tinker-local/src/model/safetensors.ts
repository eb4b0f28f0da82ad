// A small reader/writer for the safetensors format: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
// then the raw little-endian tensor bytes. Offsets are relative to the end of the header.
import { ModelInputError } from "./errors.js";

export type WritableDtype = "F32" | "F64";
const READABLE = { F64: 8, F32: 4, F16: 2, BF16: 2 } as const;
type ReadableDtype = keyof typeof READABLE;

/** One tensor for {@link writeSafetensors}. */
export interface TensorToWrite {
  /** Its key in the header; unique within a file (PEFT names such as `base_model.model...lora_A.weight`). */
  name: string;
  /** How the values are stored: `F32` or `F64`, little-endian. */
  dtype: WritableDtype;
  /** Dimensions; their product must equal `data.length`. */
  shape: readonly number[];
  /** The values, row-major. */
  data: ArrayLike<number>;
}

export interface ReadTensor {
  dtype: ReadableDtype;
  shape: number[];
  /** The values widened to float64 (exact for every readable dtype). */
  data: Float64Array;
}

/** A parsed safetensors file. */
export interface Safetensors {
  /** The header's `__metadata__` strings; empty when the file has none. */
  metadata: Record<string, string>;
  /** Every tensor, by name. */
  tensors: Map<string, ReadTensor>;
}

const MAX_HEADER = 100 * 1024 * 1024;

/** Tensors are written in the order given; names must be unique. */
export function writeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name in header) throw new Error(`duplicate tensor name ${t.name}`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length)
      throw new Error(`${t.name}: shape ${t.shape} does not hold ${t.data.length} values`);
    const size = numel * READABLE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
  const headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  json += " ".repeat(padded - headerBytes.length);
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  let pos = 8 + padded;
  for (const t of tensors) {
    if (t.dtype === "F32") {
      for (let i = 0; i < t.data.length; i++, pos += 4) view.setFloat32(pos, t.data[i] as number, true);
    } else {
      for (let i = 0; i < t.data.length; i++, pos += 8) view.setFloat64(pos, t.data[i] as number, true);
    }
  }
  return out;
}

function bad(why: string): never {
  throw new ModelInputError(`not a valid safetensors file: ${why}`);
}

/**
 * Parses a safetensors file (F64, F32, F16 and BF16 tensors). Throws `ModelInputError` naming
 * what is wrong when the bytes are not a well-formed file (bad header, offsets out of range).
 */
export function readSafetensors(bytes: Uint8Array): Safetensors {
  if (!(bytes instanceof Uint8Array)) bad("expected bytes (Uint8Array)");
  if (bytes.length < 8) bad(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER, bytes.length - 8)))
    bad(`header length ${headerLen} is too large`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    bad("header is not JSON");
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) bad("header is not a JSON object");
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, ReadTensor>();
  const spans: [number, number][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!entry || typeof entry !== "object") bad("__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") bad(`metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== "string" || !(e.dtype in READABLE)) {
      bad(
        `tensor ${name} has dtype ${String(e.dtype)}; readable dtypes are ${Object.keys(READABLE).join(", ")}`,
      );
    }
    const dtype = e.dtype as ReadableDtype;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      bad(`tensor ${name} has an invalid shape`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      bad(`tensor ${name} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = READABLE[dtype];
    if (end < begin || end > dataLen || end - begin !== numel * width) {
      bad(
        `tensor ${name}: data_offsets [${begin}, ${end}] do not fit shape ${JSON.stringify(shape)} ${dtype}`,
      );
    }
    spans.push([begin, end]);
    const data = new Float64Array(numel);
    const at = dataStart + begin;
    for (let i = 0; i < numel; i++) data[i] = readValue(view, dtype, at + i * width);
    tensors.set(name, { dtype, shape: [...(shape as number[])], data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if ((spans[i] as [number, number])[0] < (spans[i - 1] as [number, number])[1])
      bad("tensor data overlaps");
  }
  return { metadata, tensors };
}

function readValue(view: DataView, dtype: ReadableDtype, pos: number): number {
  switch (dtype) {
    case "F64":
      return view.getFloat64(pos, true);
    case "F32":
      return view.getFloat32(pos, true);
    case "BF16": {
      const scratch = new DataView(new ArrayBuffer(4));
      scratch.setUint16(0, view.getUint16(pos, true), false);
      return scratch.getFloat32(0, false);
    }
    case "F16":
      return halfToFloat(view.getUint16(pos, true));
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
