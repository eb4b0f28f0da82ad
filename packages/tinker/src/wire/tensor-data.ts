// TensorData as users build it: from plain or nested arrays and typed arrays, checked before
// anything is sent. Instances are also valid wire objects (same field names), so they can be put
// into requests as they are. Their arrays are frozen: they are checked and packed into wire bytes
// once, when the tensor is made, and the encoder sends those bytes.

import { packFloat32, packInt64 } from "./packed.js";
import type { TensorDtype, WireTensorData } from "./types.js";
import { checkCsr, checkTensorData, checkValues, failValidation, product } from "./validate.js";

/** The typed arrays `TensorData.from` accepts; float arrays become float32, integer arrays int64. */
export type TypedNumberArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

/** A (possibly nested, rectangular) array of numbers. */
export type NestedNumbers = readonly number[] | readonly NestedNumbers[];

/** What `TensorData.from` builds a tensor from: nested arrays (shape implied) or flat typed arrays. */
export type TensorInput = NestedNumbers | TypedNumberArray;

/** Options of `TensorData.from`. */
export interface TensorDataOptions {
  /** Required for plain arrays; typed arrays imply it (float arrays → float32, integer arrays → int64). */
  dtype?: TensorDtype;
  /** Row-major shape for flat values; must hold exactly as many elements. Nested arrays imply it. */
  shape?: readonly number[];
  /** Name used in error messages, e.g. `loss_fn_inputs.weights`. */
  field?: string;
}

/** A 2-D sparse tensor in compressed-sparse-row form, for `TensorData.fromCsr`. */
export interface CsrInit {
  /** The non-zero values, row by row. */
  values: readonly number[] | TypedNumberArray;
  /** Row pointers: row r's values are `values[crowIndices[r] .. crowIndices[r + 1])`; rows + 1 entries. */
  crowIndices: readonly number[] | TypedNumberArray;
  /** The column of each value; as many as `values`. */
  colIndices: readonly number[] | TypedNumberArray;
  /** `[rows, columns]` of the dense tensor. */
  shape: readonly [number, number] | readonly number[];
  /** Element type of `values`. */
  dtype: TensorDtype;
}

/**
 * Whether a 2-D tensor of `rows` × `cols` with `nonZeros` non-zero values is smaller as sparse CSR,
 * by the Python SDK 0.25's rule (`TensorData.from_torch_sparse`), which counts entries, not bytes:
 * CSR holds rows + 1 row pointers, nnz columns and nnz values; dense holds rows · cols values; CSR
 * is chosen only when strictly smaller.
 */
export function csrIsSmaller(rows: number, cols: number, nonZeros: number): boolean {
  return rows + 1 + 2 * nonZeros < rows * cols;
}

function typedDtype(values: TypedNumberArray): TensorDtype {
  return values instanceof Float32Array || values instanceof Float64Array ? "float32" : "int64";
}

function flattenNested(values: NestedNumbers, field: string): { flat: unknown[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  // A flat list is packed (copied and checked) as it is: no copy of it here.
  if (shape.length === 1) return { flat: values as readonly unknown[] as unknown[], shape };
  const flat: unknown[] = [];
  // Paths are only built when something is wrong: big tensors walk this loop millions of times.
  const where = (trail: number[]): string => `${field}${trail.map((i) => `[${i}]`).join("")}`;
  const trail: number[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) {
        failValidation("is nested deeper than its siblings; nested lists must be rectangular", where(trail));
      }
      flat.push(node);
      return;
    }
    if (!Array.isArray(node)) {
      failValidation(
        `expected a list of length ${shape[depth]} here; nested lists must be rectangular`,
        where(trail),
      );
    }
    if (node.length !== shape[depth]) {
      failValidation(
        `has length ${node.length} but its siblings have length ${shape[depth]}; ragged nested lists are rejected, pad them or send one datum per row`,
        where(trail),
      );
    }
    for (let i = 0; i < node.length; i++) {
      trail.push(i);
      walk(node[i], depth + 1);
      trail.pop();
    }
  };
  walk(values, 0);
  return { flat, shape };
}

function bigintsToNumbers(values: BigInt64Array, field: string): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      failValidation(
        `value ${v} at index ${i} is outside the safe integer range (±2^53 − 1)`,
        `${field}[${i}]`,
      );
    }
    out[i] = Number(v);
  }
  return out;
}

/** Typed arrays stay as they are (the packing below copies them); BigInt64Array becomes numbers. */
function toNumbers(values: readonly number[] | TypedNumberArray, field: string): ArrayLike<number> {
  if (values instanceof BigInt64Array) return bigintsToNumbers(values, field);
  return values as ArrayLike<number>;
}

/**
 * Checks every value and makes the tensor's frozen `number[]` and its wire bytes in the same pass
 * (packed.ts). float32 values are rounded to float32 here, once, so JSON and protobuf carry the
 * same numbers.
 */
function packValues(values: ArrayLike<unknown>, dtype: TensorDtype, path: string): number[] {
  const packed = dtype === "float32" ? packFloat32(values) : packInt64(values);
  if (typeof packed !== "number") return packed;
  // Raises the message for the first bad value; the packer only says where it is.
  checkValues(values, dtype, path, failValidation);
  return failValidation(`value at index ${packed} cannot be sent as ${dtype}`, `${path}[${packed}]`);
}

function checkShapeOption(shape: readonly number[], field: string): number[] {
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      failValidation(`shape dimension ${d} is not a non-negative integer`, `${field}.shape[${i}]`);
    }
  });
  return [...shape];
}

/**
 * A checked tensor (dense or sparse CSR) for loss inputs and outputs. It is its own wire form, so
 * it can go into a request as is. Build one with `from`, `fromCsr` or `fromWire`.
 */
export class TensorData implements WireTensorData {
  /** Flat, row-major values (for sparse CSR: the non-zeros). */
  readonly data: number[];
  /** Element type. */
  readonly dtype: TensorDtype;
  /** Dimensions, always explicit. */
  readonly shape: number[];
  readonly sparse_crow_indices?: number[];
  readonly sparse_col_indices?: number[];

  private constructor(wire: WireTensorData & { shape: number[] }) {
    this.data = wire.data;
    this.dtype = wire.dtype;
    this.shape = wire.shape;
    if (wire.sparse_crow_indices) {
      this.sparse_crow_indices = wire.sparse_crow_indices;
      this.sparse_col_indices = wire.sparse_col_indices;
    }
  }

  /**
   * Builds a dense tensor. Plain arrays need `dtype`; nested arrays must be rectangular; int64
   * values must be safe integers; float32 values must be finite.
   */
  static from(values: TensorInput, options: TensorDataOptions = {}): TensorData {
    const field = options.field ?? "TensorData";
    let flat: ArrayLike<unknown>;
    let shape: number[] | undefined;
    let dtype = options.dtype;
    if (ArrayBuffer.isView(values)) {
      dtype ??= typedDtype(values as TypedNumberArray);
      flat = toNumbers(values as TypedNumberArray, field);
    } else if (Array.isArray(values)) {
      if (dtype === undefined) {
        failValidation(
          'a plain array needs a dtype: TensorData.from(values, { dtype: "int64" }) or { dtype: "float32" } (typed arrays carry their own)',
          field,
        );
      }
      ({ flat, shape } = flattenNested(values as NestedNumbers, field));
      if (shape.length === 1) shape = undefined;
    } else {
      failValidation("expected an array of numbers or a typed array", field);
    }
    if (dtype !== "int64" && dtype !== "float32") {
      failValidation(`dtype must be "int64" or "float32", got ${JSON.stringify(dtype)}`, `${field}.dtype`);
    }
    if (options.shape) {
      const given = checkShapeOption(options.shape, field);
      if (shape && (shape.length !== given.length || shape.some((d, i) => d !== given[i]))) {
        failValidation(
          `shape option [${given.join(", ")}] disagrees with the nested array's shape [${shape.join(", ")}]`,
          `${field}.shape`,
        );
      }
      shape = given;
    }
    shape ??= [flat.length];
    if (product(shape) !== flat.length) {
      failValidation(
        `shape [${shape.join(", ")}] holds ${product(shape)} elements but ${flat.length} values were given`,
        `${field}.shape`,
      );
    }
    return new TensorData({ data: packValues(flat, dtype, `${field}.data`), dtype, shape });
  }

  /** A 2-D sparse CSR tensor: `values` are the non-zeros, `crowIndices` has rows + 1 entries. */
  static fromCsr(init: CsrInit, options: { field?: string } = {}): TensorData {
    const field = options.field ?? "TensorData";
    const shape = checkShapeOption(init.shape, field);
    const data = packValues(toNumbers(init.values, `${field}.data`), init.dtype, `${field}.data`);
    const crow = packValues(
      toNumbers(init.crowIndices, `${field}.sparse_crow_indices`),
      "int64",
      `${field}.sparse_crow_indices`,
    );
    const col = packValues(
      toNumbers(init.colIndices, `${field}.sparse_col_indices`),
      "int64",
      `${field}.sparse_col_indices`,
    );
    checkCsr(shape, crow, col, data.length, field, failValidation);
    return new TensorData({
      data,
      dtype: init.dtype,
      shape,
      sparse_crow_indices: crow,
      sparse_col_indices: col,
    });
  }

  /** Adopts a wire object after checking it (e.g. one taken from a decoded response). */
  static fromWire(wire: WireTensorData, options: { field?: string } = {}): TensorData {
    if (wire instanceof TensorData) return wire;
    const field = options.field ?? "TensorData";
    // Structure here; each value is checked as it is packed (one walk of the data, not two).
    checkTensorData(wire, field, failValidation, { values: false });
    return new TensorData({
      data: packValues(wire.data, wire.dtype, `${field}.data`),
      dtype: wire.dtype,
      shape: wire.shape ? [...wire.shape] : [wire.data.length],
      ...(wire.sparse_crow_indices
        ? {
            sparse_crow_indices: packValues(
              wire.sparse_crow_indices,
              "int64",
              `${field}.sparse_crow_indices`,
            ),
            sparse_col_indices: packValues(
              wire.sparse_col_indices ?? [],
              "int64",
              `${field}.sparse_col_indices`,
            ),
          }
        : {}),
    });
  }

  /**
   * @internal Adopts a tensor decoded from a server answer, as it is. The decoder has checked its
   * structure (a malformed one is a WireDecodeError there); its values are the server's, not user
   * input, so they are not checked again: a -Infinity logprob is a real answer, not a bad one.
   */
  static fromDecoded(wire: WireTensorData): TensorData {
    if (wire instanceof TensorData) return wire;
    return new TensorData({
      data: wire.data,
      dtype: wire.dtype,
      shape: wire.shape ?? [wire.data.length],
      ...(wire.sparse_crow_indices
        ? { sparse_crow_indices: wire.sparse_crow_indices, sparse_col_indices: wire.sparse_col_indices ?? [] }
        : {}),
    });
  }

  /**
   * This tensor as sparse CSR when that is smaller by {@link csrIsSmaller} (a 2-D dense tensor
   * with enough zeros), else this tensor itself. The values are the same: CSR decodes back to this
   * dense tensor (zeros, including -0, are left out). `Datum.create` applies it to 2-D
   * `target_tokens` and `weights` given as nested arrays, as the Python SDK does for 2-D torch
   * tensors.
   */
  toSparseIfSmaller(): TensorData {
    if (this.sparse_crow_indices || this.shape.length !== 2) return this;
    const [rows, cols] = this.shape as [number, number];
    let nonZeros = 0;
    for (const v of this.data) if (v !== 0) nonZeros++;
    if (!csrIsSmaller(rows, cols, nonZeros)) return this;
    const values: number[] = [];
    const colIndices: number[] = [];
    const crowIndices: number[] = [0];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = this.data[r * cols + c]!;
        if (v !== 0) {
          values.push(v);
          colIndices.push(c);
        }
      }
      crowIndices.push(values.length);
    }
    return new TensorData({
      data: packValues(values, this.dtype, "TensorData.data"),
      dtype: this.dtype,
      shape: [rows, cols],
      sparse_crow_indices: packValues(crowIndices, "int64", "TensorData.sparse_crow_indices"),
      sparse_col_indices: packValues(colIndices, "int64", "TensorData.sparse_col_indices"),
    });
  }

  /** Whether it is stored as sparse CSR. */
  get isSparse(): boolean {
    return this.sparse_crow_indices !== undefined;
  }

  /** Number of elements of the dense tensor. */
  get size(): number {
    return product(this.shape);
  }

  /** Dense, flat, row-major values. */
  toArray(): number[] {
    if (!this.sparse_crow_indices || !this.sparse_col_indices) return [...this.data];
    const cols = this.shape[1] ?? 0;
    const out = new Array<number>(this.size).fill(0);
    const crow = this.sparse_crow_indices;
    for (let r = 0; r + 1 < crow.length; r++) {
      for (let k = crow[r]!; k < crow[r + 1]!; k++)
        out[r * cols + this.sparse_col_indices[k]!] = this.data[k]!;
    }
    return out;
  }

  /** Dense, flat, row-major values as a Float32Array (int64 values are converted). */
  toFloat32Array(): Float32Array {
    return Float32Array.from(this.toArray());
  }

  /** Dense values nested by `shape` (a 1-D tensor gives a flat array). */
  toNested(): NestedNumbers {
    const flat = this.toArray();
    const build = (depth: number, offset: number): NestedNumbers => {
      const dim = this.shape[depth]!;
      if (depth === this.shape.length - 1) return flat.slice(offset, offset + dim);
      const stride = product(this.shape.slice(depth + 1));
      return Array.from({ length: dim }, (_, i) => build(depth + 1, offset + i * stride)) as NestedNumbers;
    };
    if (this.shape.length === 0) return flat;
    return build(0, 0);
  }

  /** A plain wire object (always with an explicit shape). */
  toWire(): WireTensorData {
    const wire: WireTensorData = { data: this.data, dtype: this.dtype, shape: this.shape };
    if (this.sparse_crow_indices) {
      wire.sparse_crow_indices = this.sparse_crow_indices;
      wire.sparse_col_indices = this.sparse_col_indices ?? [];
    }
    return wire;
  }

  /** The wire form, for `JSON.stringify`. */
  toJSON(): WireTensorData {
    return this.toWire();
  }
}
