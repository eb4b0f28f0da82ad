// Checked numeric arrays, kept twice: as the frozen `number[]` the public types promise, and as the
// little-endian bytes the protobuf body carries. The builders (TensorData, ModelInput) make both in
// one pass over the user's values, checking each value on the way; the encoder then copies the
// bytes with one `set` instead of converting element by element, and the checks of a later
// forward_backward see the array is registered and skip it. The arrays are frozen so that what was
// checked and packed is what is sent: a registered array cannot change behind the registry's back.
//
// Internal to wire/: nothing here is exported from the package.

/** Element types the registry knows: token ids, and the two tensor dtypes. */
export type PackedKind = "int32" | "int64" | "float32";

/** What the registry holds for one frozen array. */
export interface Packed {
  kind: PackedKind;
  /** The values as the wire carries them: little-endian, 4 or 8 bytes each. */
  bytes: Uint8Array;
  /** Smallest and largest value (0 for an empty array), for the range checks that follow. */
  min: number;
  max: number;
}

const registry = new WeakMap<readonly number[], Packed>();

/** The packed form of `values` when a builder made it with this element type. */
export function packedOf(values: unknown, kind: PackedKind): Packed | undefined {
  if (!Array.isArray(values)) return undefined;
  const p = registry.get(values);
  return p?.kind === kind ? p : undefined;
}

const NATIVE_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let littleEndian = NATIVE_LITTLE_ENDIAN;

/**
 * Whether typed-array bytes can be copied as they are (the host is little-endian). Tests force
 * `false` to run the DataView path a big-endian host takes.
 */
export function hostIsLittleEndian(): boolean {
  return littleEndian;
}

/** Test hook: pretend the host has the other byte order (`undefined` restores the real one). */
export function setHostLittleEndianForTesting(value: boolean | undefined): void {
  littleEndian = value ?? NATIVE_LITTLE_ENDIAN;
}

const TWO_32 = 4294967296;
const FLOAT32_MAX = 3.4028234663852886e38;
const MAX_INT32 = 2 ** 31 - 1;

function register(out: number[], kind: PackedKind, bytes: Uint8Array, min: number, max: number): number[] {
  Object.freeze(out);
  registry.set(out, { kind, bytes, min, max });
  return out;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Token ids: integers in [0, 2^31 − 1]. Returns the frozen array, or the index of the first value
 * that is not a token id (the caller raises its own error for it).
 */
export function packTokens(values: ArrayLike<unknown>): number[] | number {
  const n = values.length;
  const out = new Array<number>(n);
  const bytes = new Uint8Array(n * 4);
  let max = 0;
  let min = n === 0 ? 0 : MAX_INT32;
  if (littleEndian) {
    const words = new Int32Array(bytes.buffer);
    if (values instanceof Int32Array) {
      words.set(values);
      for (let i = 0; i < n; i++) {
        const v = words[i]!;
        if (v < 0) return i;
        if (v > max) max = v;
        if (v < min) min = v;
        out[i] = v;
      }
      return register(out, "int32", bytes, min, max);
    }
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== "number" || !(v >= 0 && v <= MAX_INT32) || (v | 0) !== v) return i;
      if (v > max) max = v;
      if (v < min) min = v;
      words[i] = v;
      out[i] = v;
    }
    return register(out, "int32", bytes, min, max);
  }
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !(v >= 0 && v <= MAX_INT32) || (v | 0) !== v) return i;
    if (v > max) max = v;
    if (v < min) min = v;
    view.setInt32(i * 4, v, true);
    out[i] = v;
  }
  return register(out, "int32", bytes, min, max);
}

/**
 * float32 values: finite and within float32 range, rounded to float32 once. Returns the frozen
 * array or the index of the first bad value.
 */
export function packFloat32(values: ArrayLike<unknown>): number[] | number {
  const n = values.length;
  const out = new Array<number>(n);
  if (littleEndian) {
    const floats = values instanceof Float32Array ? values.slice() : new Float32Array(n);
    if (values instanceof Float32Array) {
      for (let i = 0; i < n; i++) {
        const v = floats[i]!;
        if (!(v <= FLOAT32_MAX && v >= -FLOAT32_MAX)) return i;
        out[i] = v;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== "number" || !(v <= FLOAT32_MAX && v >= -FLOAT32_MAX)) return i;
        floats[i] = v;
        out[i] = floats[i]!;
      }
    }
    return register(out, "float32", bytesOf(floats), 0, 0);
  }
  const bytes = new Uint8Array(n * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !(v <= FLOAT32_MAX && v >= -FLOAT32_MAX)) return i;
    view.setFloat32(i * 4, v, true);
    out[i] = Math.fround(v);
  }
  return register(out, "float32", bytes, 0, 0);
}

/**
 * int64 values: safe integers. Returns the frozen array or the index of the first bad value.
 */
export function packInt64(values: ArrayLike<unknown>): number[] | number {
  const n = values.length;
  const out = new Array<number>(n);
  const bytes = new Uint8Array(n * 8);
  let min = n === 0 ? 0 : Number.POSITIVE_INFINITY;
  let max = n === 0 ? 0 : Number.NEGATIVE_INFINITY;
  const words = littleEndian ? new Int32Array(bytes.buffer) : undefined;
  const view = littleEndian ? undefined : new DataView(bytes.buffer);
  if (words && values instanceof Int32Array) {
    // Every int32 is a safe integer: nothing to check, and a loop V8 keeps monomorphic.
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      out[i] = v;
      words[2 * i] = v;
      words[2 * i + 1] = v >> 31;
    }
    return register(out, "int64", bytes, min, max);
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number") return i;
    let lo: number;
    let hi: number;
    if ((v | 0) === v) {
      lo = v;
      hi = v >> 31;
    } else {
      if (!Number.isSafeInteger(v)) return i;
      hi = Math.floor(v / TWO_32);
      lo = (v - hi * TWO_32) | 0;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    out[i] = v;
    if (words) {
      words[2 * i] = lo;
      words[2 * i + 1] = hi;
    } else {
      view!.setInt32(i * 8, lo, true);
      view!.setInt32(i * 8 + 4, hi, true);
    }
  }
  return register(out, "int64", bytes, min, max);
}

// ---- Writing arrays no builder packed (plain wire objects) ----

/** Writes `values` as little-endian int32 at `pos` of `out`. */
export function writeInt32s(out: Uint8Array, pos: number, values: ArrayLike<number>): void {
  const n = values.length;
  if (littleEndian && values instanceof Int32Array) {
    out.set(bytesOf(values), pos);
    return;
  }
  if (littleEndian && ((out.byteOffset + pos) & 3) === 0) {
    const words = new Int32Array(out.buffer, out.byteOffset + pos, n);
    for (let i = 0; i < n; i++) words[i] = values[i]!;
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + pos, n * 4);
  for (let i = 0; i < n; i++) view.setInt32(i * 4, values[i]!, true);
}

/** Writes `values` as little-endian float32 at `pos` of `out`. */
export function writeFloat32s(out: Uint8Array, pos: number, values: ArrayLike<number>): void {
  const n = values.length;
  if (littleEndian && values instanceof Float32Array) {
    out.set(bytesOf(values), pos);
    return;
  }
  if (littleEndian && ((out.byteOffset + pos) & 3) === 0) {
    const floats = new Float32Array(out.buffer, out.byteOffset + pos, n);
    for (let i = 0; i < n; i++) floats[i] = values[i]!;
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + pos, n * 4);
  for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[i]!, true);
}

/** Writes safe integers as little-endian int64 at `pos` of `out`. */
export function writeInt64s(out: Uint8Array, pos: number, values: ArrayLike<number>): void {
  const n = values.length;
  if (littleEndian && values instanceof BigInt64Array) {
    out.set(bytesOf(values), pos);
    return;
  }
  const aligned = littleEndian && ((out.byteOffset + pos) & 3) === 0;
  // Unaligned: words go to a scratch array first, then one copy; still faster than DataView pairs.
  const words = aligned ? new Int32Array(out.buffer, out.byteOffset + pos, n * 2) : new Int32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if ((v | 0) === v) {
      words[2 * i] = v;
      words[2 * i + 1] = v >> 31;
    } else {
      const hi = Math.floor(v / TWO_32);
      words[2 * i] = (v - hi * TWO_32) | 0;
      words[2 * i + 1] = hi;
    }
  }
  if (aligned) return;
  if (littleEndian) {
    out.set(bytesOf(words), pos);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + pos, n * 8);
  for (let i = 0; i < 2 * n; i++) view.setInt32(i * 4, words[i]!, true);
}
