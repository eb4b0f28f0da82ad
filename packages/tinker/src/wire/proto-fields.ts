// Numeric fields of the decoded results (proto-reader.ts): little-endian arrays read through typed
// views into the response where they are aligned (one copy where not), a DataView on a big-endian
// host, and the lazy `number[]` the logical types promise (defineLazy).

import { WireDecodeError } from "./errors.js";
import { hostIsLittleEndian } from "./packed.js";
import { setOwn } from "./validate.js";

const TWO_32 = 4294967296;
/** Largest magnitude of the high word of an int64 whose value is a safe JS integer. */
const SAFE_HIGH = 2 ** 21;

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

/**
 * Sets `target[key]` to the values of a float32 or int32 field: lazily on a little-endian host,
 * at once through a DataView otherwise. Checks the length first, so a bad body still fails inside
 * the decode call. The lazy read also makes the one copy a field that does not start on a 4-byte
 * boundary needs, so a decode that nobody reads as arrays copies nothing (a misaligned 1M-logprob
 * output cost a 4 MB copy per decode when the copy was made here).
 */
export function setValues(
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
  defineLazy(target, key, () => {
    const values = kind === "float32" ? float32s(bytes, what) : int32s(bytes, what);
    return map ? (map(values) as number[]) : values;
  });
}

/**
 * A copy of `bytes` in a buffer of its own. Not `bytes.slice()`: on a Node `Buffer` that is a view
 * into the same memory (often Node's shared 8 KiB pool, at any offset), not a copy.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** A typed view of `bytes` when they start on an element boundary, else of a copy. */
function aligned(bytes: Uint8Array, size: number): { buffer: ArrayBufferLike; offset: number } {
  if ((bytes.byteOffset & (size - 1)) === 0) return { buffer: bytes.buffer, offset: bytes.byteOffset };
  return { buffer: copyBytes(bytes).buffer, offset: 0 };
}

export function float32s(bytes: Uint8Array, what: string): number[] {
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

export function int32s(bytes: Uint8Array, what: string): number[] {
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

export function int64s(bytes: Uint8Array, what: string): number[] {
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
export const FLOAT32 = 1;
const INT64 = 2;
export const INT32 = 3;
const BFLOAT16 = 4;

/** Widening rules of contract 4.5: INT32 → int64, BFLOAT16 → float32. */
export function values(
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

export function elementSize(dtype: number): number {
  return dtype === INT64 ? 8 : dtype === BFLOAT16 ? 2 : 4;
}
