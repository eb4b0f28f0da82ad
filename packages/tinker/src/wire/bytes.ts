// Packed numeric arrays as the wire carries them: little-endian whatever the host is. DataView
// does the byte order for us; V8 compiles its accessors to plain loads, so no fast path is needed.

import { WireDecodeError } from "./errors.js";

const TWO_32 = 4294967296;
/** Largest magnitude of the high word of an int64 whose value is a safe JS integer. */
const SAFE_HIGH = 2 ** 21;

export function int32ToBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  return out;
}

export function float32ToBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** Values must be safe integers (checked by the callers that take user input). */
export function int64ToBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const high = Math.floor(v / TWO_32);
    view.setUint32(i * 8, v - high * TWO_32, true);
    view.setInt32(i * 8 + 4, high, true);
  }
  return out;
}

function viewOf(bytes: Uint8Array, elementSize: number, what: string): DataView {
  if (bytes.byteLength % elementSize !== 0) {
    throw new WireDecodeError(`byte length ${bytes.byteLength} is not a multiple of ${elementSize}`, what);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function bytesToInt32(bytes: Uint8Array, what = "int32 array"): number[] {
  const view = viewOf(bytes, 4, what);
  const out = new Array<number>(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

export function bytesToFloat32(bytes: Uint8Array, what = "float32 array"): number[] {
  const view = viewOf(bytes, 4, what);
  const out = new Array<number>(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** bfloat16 is the top half of a float32, so widening is a 16-bit shift. */
export function bytesToBfloat16(bytes: Uint8Array, what = "bfloat16 array"): number[] {
  const view = viewOf(bytes, 2, what);
  const out = new Array<number>(bytes.byteLength / 2);
  const scratch = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < out.length; i++) {
    scratch.setUint32(0, (view.getUint16(i * 2, true) << 16) >>> 0);
    out[i] = scratch.getFloat32(0);
  }
  return out;
}

/** int64 values become JS numbers; one beyond ±(2^53 − 1) is an error rather than a silent rounding. */
export function bytesToInt64(bytes: Uint8Array, what = "int64 array"): number[] {
  const view = viewOf(bytes, 8, what);
  const out = new Array<number>(bytes.byteLength / 8);
  for (let i = 0; i < out.length; i++) {
    const low = view.getUint32(i * 8, true);
    const high = view.getInt32(i * 8 + 4, true);
    if (high >= SAFE_HIGH || high < -SAFE_HIGH) {
      throw new WireDecodeError(`int64 value at index ${i} is outside the safe integer range`, what);
    }
    out[i] = high * TWO_32 + low;
  }
  return out;
}

/** Narrow a protobuf int64 (bigint) to a number, refusing what would lose precision. */
export function bigintToNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new WireDecodeError(`int64 value ${value} is outside the safe integer range`, what);
  }
  return Number(value);
}
