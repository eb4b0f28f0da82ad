// Structural checks on the logical wire objects, shared by the builders (bad user input, raised
// as ValidationError before anything is sent) and the decoders (bad bytes or JSON from the other
// side, raised as WireDecodeError). The caller picks which by passing `fail`.

import { ValidationError } from "../client/errors.js";
import { base64Decode } from "./base64.js";
import { WireDecodeError } from "./errors.js";
import { packedOf } from "./packed.js";
import type {
  ForwardBackwardInput,
  ModelInputChunk,
  WireDatum,
  WireModelInput,
  WireTensorData,
} from "./types.js";
import { CHUNK_TYPES, LOSS_FN_TYPES, TENSOR_DTYPES } from "./types.js";

export type Fail = (message: string, path: string) => never;

/** The `fail` of the SDK side: throws `ValidationError` (bad input from the caller, nothing sent). */
export const failValidation: Fail = (message, path) => {
  throw new ValidationError(`${path}: ${message}`, path);
};

/** The `fail` of the receiving side: throws `WireDecodeError` (a body that breaks the contract). */
export const failDecode: Fail = (message, path) => {
  throw new WireDecodeError(message, path);
};

export const MAX_TOKEN_ID = 2 ** 31 - 1;
const FLOAT32_MAX = 3.4028234663852886e38;

export function joinPath(path: string, suffix: string): string {
  return path ? `${path}.${suffix}` : suffix;
}

/**
 * Sets an own property even when the key is "__proto__": keys from the wire name tensors and
 * metrics, and a plain assignment with that key would replace the object's prototype instead.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "number") return String(value);
  return typeof value;
}

function checkObject(value: unknown, path: string, fail: Fail): Record<string, unknown> {
  if (!isPlainObject(value)) fail(`expected an object, got ${describe(value)}`, path);
  return value;
}

function checkArray(value: unknown, path: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) fail(`expected an array, got ${describe(value)}`, path);
  return value;
}

function checkString(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== "string") fail(`expected a string, got ${describe(value)}`, path);
  return value;
}

/** A non-negative integer that fits in protobuf int32 (token counts, expected_tokens). */
function checkCount(value: unknown, path: string, fail: Fail): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_TOKEN_ID) {
    fail(`expected a non-negative integer, got ${describe(value)}`, path);
  }
  return value;
}

export function checkTokens(value: unknown, path: string, fail: Fail): number[] {
  // A builder checked these when it made them, and the array is frozen since.
  if (packedOf(value, "int32")) return value as number[];
  const tokens = checkArray(value, path, fail);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0 || t > MAX_TOKEN_ID) {
      fail(
        `token ${describe(t)} at index ${i} is not a token id; tokens must be integers in [0, ${MAX_TOKEN_ID}]`,
        `${path}[${i}]`,
      );
    }
  }
  return tokens as number[];
}

function checkBase64(value: unknown, path: string, fail: Fail): string {
  const text = checkString(value, path, fail);
  if (base64Decode(text) === undefined) fail("is not valid standard base64", path);
  return text;
}

function checkImageFormat(value: unknown, path: string, fail: Fail): void {
  if (value !== "png" && value !== "jpeg")
    fail(`format must be "png" or "jpeg", got ${describe(value)}`, path);
}

export function checkChunk(value: unknown, path: string, fail: Fail): ModelInputChunk {
  const chunk = checkObject(value, path, fail);
  switch (chunk.type) {
    case "encoded_text":
      checkTokens(chunk.tokens, `${path}.tokens`, fail);
      break;
    case "image":
      checkBase64(chunk.data, `${path}.data`, fail);
      checkImageFormat(chunk.format, `${path}.format`, fail);
      if (chunk.expected_tokens != null) checkCount(chunk.expected_tokens, `${path}.expected_tokens`, fail);
      break;
    case "image_asset_pointer":
      checkImageFormat(chunk.format, `${path}.format`, fail);
      checkString(chunk.location, `${path}.location`, fail);
      if (chunk.expected_tokens != null) checkCount(chunk.expected_tokens, `${path}.expected_tokens`, fail);
      break;
    case "dmel":
      checkBase64(chunk.dmel, `${path}.dmel`, fail);
      break;
    default:
      fail(
        `unknown chunk type ${describe(chunk.type)}; expected one of ${CHUNK_TYPES.map((t) => `"${t}"`).join(", ")}`,
        `${path}.type`,
      );
  }
  return chunk as unknown as ModelInputChunk;
}

/**
 * Checks a wire model input (chunks, their types and tokens); calls `fail` with the path of the
 * first problem.
 */
export function checkModelInput(value: unknown, path: string, fail: Fail): WireModelInput {
  const mi = checkObject(value, path, fail);
  const chunks = checkArray(mi.chunks, `${path}.chunks`, fail);
  chunks.forEach((c, i) => {
    checkChunk(c, `${path}.chunks[${i}]`, fail);
  });
  return mi as unknown as WireModelInput;
}

/**
 * Reads the dimension count and first dimension of a TensorContainer header (contract 4.1):
 * optional 254 marker, dtype byte, LEB128 ndim, LEB128 dims. Undefined when the header is cut short.
 */
export function dmelFirstDim(bytes: Uint8Array): number | undefined {
  let pos = 0;
  if (bytes[pos] === 254) pos++;
  const dtype = bytes[pos++];
  if (dtype === undefined || dtype > 7) return undefined;
  const readVarint = (): number | undefined => {
    let result = 0;
    let scale = 1;
    for (let n = 0; n < 8; n++) {
      const b = bytes[pos++];
      if (b === undefined) return undefined;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    return undefined;
  };
  const ndim = readVarint();
  // A 0-D container has no first dimension, so its length is unknown to the client.
  if (ndim === undefined || ndim === 0) return undefined;
  return readVarint();
}

/**
 * The token length of a chunk as the client counts it (contract 4.1), or undefined when it cannot be
 * told: an image without `expected_tokens`, or a dmel whose header cannot be read.
 */
export function chunkLength(chunk: ModelInputChunk): number | undefined {
  switch (chunk.type) {
    case "encoded_text":
      return chunk.tokens.length;
    case "image":
    case "image_asset_pointer":
      return chunk.expected_tokens ?? undefined;
    case "dmel": {
      const bytes = base64Decode(chunk.dmel);
      return bytes ? dmelFirstDim(bytes) : undefined;
    }
  }
}

/**
 * Tokens in a model input, or undefined when a chunk's length is unknown (an image without
 * `expected_tokens`).
 */
export function modelInputLength(mi: WireModelInput): number | undefined {
  let total = 0;
  for (const c of mi.chunks) {
    const n = chunkLength(c);
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}

export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

function checkDims(value: unknown, path: string, fail: Fail): number[] {
  const dims = checkArray(value, path, fail);
  dims.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(`dimension ${describe(d)} is not a non-negative integer`, `${path}[${i}]`);
    }
  });
  return dims as number[];
}

function checkIndexArray(value: unknown, path: string, fail: Fail): number[] {
  const idx = checkArray(value, path, fail);
  idx.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(`index ${describe(d)} is not a non-negative integer`, `${path}[${i}]`);
    }
  });
  return idx as number[];
}

/** Checks that every value is representable in `dtype`. */
export function checkValues(values: ArrayLike<unknown>, dtype: string, path: string, fail: Fail): void {
  // A builder checked these when it made them, and the array is frozen since.
  if (packedOf(values, dtype === "int64" ? "int64" : "float32")) return;
  if (dtype === "int64") {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number" || !Number.isSafeInteger(v)) {
        fail(
          `value ${describe(v)} at index ${i} is not an integer in the safe range; int64 data must hold integers`,
          `${path}[${i}]`,
        );
      }
    }
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      fail(
        `value ${describe(v)} at index ${i} is not a finite number; NaN and Infinity cannot be sent`,
        `${path}[${i}]`,
      );
    }
    if (Math.abs(v) > FLOAT32_MAX) {
      fail(`value ${v} at index ${i} overflows float32`, `${path}[${i}]`);
    }
  }
}

const TENSOR_KEYS = new Set(["data", "dtype", "shape", "sparse_crow_indices", "sparse_col_indices"]);

/**
 * Checks a wire tensor (dtype, finite values, shape against data, CSR indices); calls `fail` with
 * the path of the first problem. `forbidExtraFields` also refuses unknown keys.
 */
export function checkTensorData(
  value: unknown,
  path: string,
  fail: Fail,
  options: { forbidExtraFields?: boolean; values?: boolean } = {},
): WireTensorData {
  const td = checkObject(value, path, fail);
  if (options.forbidExtraFields) {
    for (const key of Object.keys(td)) {
      if (!TENSOR_KEYS.has(key)) fail(`unexpected field "${key}" in TensorData`, `${path}.${key}`);
    }
  }
  const dtype = td.dtype;
  if (typeof dtype !== "string" || !(TENSOR_DTYPES as readonly string[]).includes(dtype)) {
    fail(`dtype must be "int64" or "float32", got ${describe(dtype)}`, `${path}.dtype`);
  }
  const data = checkArray(td.data, `${path}.data`, fail);
  // `values: false`: the caller packs the values next, which checks each one (one walk, not two).
  if (options.values !== false) checkValues(data, dtype, `${path}.data`, fail);
  const shape = td.shape == null ? undefined : checkDims(td.shape, `${path}.shape`, fail);
  const crow = td.sparse_crow_indices;
  const col = td.sparse_col_indices;
  if (crow == null && col == null) {
    if (shape && product(shape) !== data.length) {
      fail(
        `shape [${shape.join(", ")}] holds ${product(shape)} elements but data has ${data.length}`,
        `${path}.shape`,
      );
    }
    return td as unknown as WireTensorData;
  }
  if (crow == null || col == null) {
    fail("sparse CSR needs both sparse_crow_indices and sparse_col_indices", path);
  }
  checkCsr(
    shape,
    checkIndexArray(crow, `${path}.sparse_crow_indices`, fail),
    checkIndexArray(col, `${path}.sparse_col_indices`, fail),
    data.length,
    path,
    fail,
  );
  return td as unknown as WireTensorData;
}

export function checkCsr(
  shape: readonly number[] | undefined,
  crow: ArrayLike<number>,
  col: ArrayLike<number>,
  nnz: number,
  path: string,
  fail: Fail,
): void {
  if (shape?.length !== 2) fail("sparse CSR needs a 2-D shape [rows, cols]", `${path}.shape`);
  const [rows, cols] = shape as [number, number];
  if (crow.length !== rows + 1) {
    fail(`has length ${crow.length}; CSR needs rows + 1 = ${rows + 1}`, `${path}.sparse_crow_indices`);
  }
  if (crow[0] !== 0) fail("must start at 0", `${path}.sparse_crow_indices`);
  for (let i = 1; i < crow.length; i++) {
    if (crow[i]! < crow[i - 1]!) fail(`decreases at index ${i}`, `${path}.sparse_crow_indices`);
  }
  if (crow[crow.length - 1] !== nnz) {
    fail(`must end at the number of values (${nnz})`, `${path}.sparse_crow_indices`);
  }
  if (col.length !== nnz) {
    fail(`has length ${col.length} but there are ${nnz} values`, `${path}.sparse_col_indices`);
  }
  for (let i = 0; i < col.length; i++) {
    if (col[i]! >= cols)
      fail(
        `column ${col[i]} at index ${i} is out of range for ${cols} columns`,
        `${path}.sparse_col_indices`,
      );
  }
}

/** The shape a TensorData has, filling in the 1-D default. */
export function tensorShape(td: WireTensorData): number[] {
  return td.shape ?? [td.data.length];
}

/** Per-token loss inputs whose first dimension must equal the model input length (contract 4.3). */
export const ALIGNED_LOSS_INPUTS: readonly string[] = [
  "target_tokens",
  "weights",
  "advantages",
  "logprobs",
  "clip_low_threshold",
  "clip_high_threshold",
];

/** Structure always; `alignment` adds the per-token length rules of checkAlignment. */
export function checkDatum(
  value: unknown,
  path: string,
  fail: Fail,
  options: { alignment?: boolean } = {},
): WireDatum {
  const d = checkObject(value, path, fail);
  const mi = checkModelInput(d.model_input, `${path}.model_input`, fail);
  const inputs = checkObject(d.loss_fn_inputs, `${path}.loss_fn_inputs`, fail);
  for (const [key, td] of Object.entries(inputs)) {
    checkTensorData(td, `${path}.loss_fn_inputs.${key}`, fail);
  }
  if (options.alignment) checkAlignment(mi, inputs as Record<string, WireTensorData>, path, fail);
  return d as unknown as WireDatum;
}

/**
 * target_tokens must be int64 with non-negative ids, and every per-token input must have the model
 * input's length as its first dimension. Other keys have semantics we do not know and are left to
 * the server.
 */
export function checkAlignment(
  mi: WireModelInput,
  inputs: Record<string, WireTensorData>,
  path: string,
  fail: Fail,
): void {
  const n = modelInputLength(mi);
  for (const key of ALIGNED_LOSS_INPUTS) {
    const td = inputs[key];
    if (!td) continue;
    const where = joinPath(path, `loss_fn_inputs.${key}`);
    const shape = tensorShape(td);
    if (shape.length === 0) fail("must have at least one dimension (one entry per token)", where);
    if (n !== undefined && shape[0] !== n) {
      fail(
        `has ${shape[0]} entries but model_input has ${n} tokens; per-token loss inputs must match the model input length (targets are the input shifted by one)`,
        where,
      );
    }
  }
  const targets = inputs.target_tokens;
  if (targets) {
    const where = joinPath(path, "loss_fn_inputs.target_tokens");
    if (targets.dtype !== "int64") fail(`must be int64, got ${targets.dtype}`, where);
    const packed = packedOf(targets.data, "int64");
    const i = packed && packed.min >= 0 ? -1 : targets.data.findIndex((t) => t < 0);
    if (i >= 0)
      fail(
        `token ${targets.data[i]} at index ${i} is negative; target tokens must be >= 0`,
        `${where}.data[${i}]`,
      );
  }
}

/**
 * Index of the first value >= `limit`, or -1. Arrays a builder packed know their largest value, so
 * a batch of checked datums is not walked again for a vocabulary check.
 */
export function indexOfAtLeast(values: readonly number[], limit: number): number {
  const packed = packedOf(values, "int32") ?? packedOf(values, "int64");
  if (packed && packed.max < limit) return -1;
  return values.findIndex((x) => x >= limit);
}

/** Required inputs per loss (contract 4.4). */
export const REQUIRED_LOSS_INPUTS: Readonly<Record<string, readonly string[]>> = {
  cross_entropy: ["target_tokens", "weights"],
  importance_sampling: ["target_tokens", "logprobs", "advantages"],
  ppo: ["target_tokens", "logprobs", "advantages"],
  cispo: ["target_tokens", "logprobs", "advantages"],
  dro: ["target_tokens", "logprobs", "advantages"],
};

export function checkLossFnConfig(value: unknown, path: string, fail: Fail): Record<string, number> {
  const config = checkObject(value, path, fail);
  for (const [key, v] of Object.entries(config)) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      fail(`must be a finite number, got ${describe(v)}`, `${path}.${key}`);
    }
  }
  return config as Record<string, number>;
}

/**
 * Everything a forward_backward call can be checked for before sending: a known loss, its required
 * inputs on every datum, finite config values, and each datum's own structure.
 */
export function checkForwardBackwardInput(value: unknown, path: string, fail: Fail): ForwardBackwardInput {
  const input = checkObject(value, path, fail);
  const lossFn = input.loss_fn;
  if (typeof lossFn !== "string" || !(LOSS_FN_TYPES as readonly string[]).includes(lossFn)) {
    fail(
      `unknown loss function ${describe(lossFn)}; expected one of ${LOSS_FN_TYPES.join(", ")}`,
      `${path}.loss_fn`,
    );
  }
  if (input.loss_fn_config != null) checkLossFnConfig(input.loss_fn_config, `${path}.loss_fn_config`, fail);
  const data = checkArray(input.data, `${path}.data`, fail);
  const required = REQUIRED_LOSS_INPUTS[lossFn] ?? [];
  data.forEach((d, i) => {
    const datum = checkDatum(d, `${path}.data[${i}]`, fail, { alignment: true });
    for (const key of required) {
      if (!(key in datum.loss_fn_inputs)) {
        fail(`loss "${lossFn}" needs loss_fn_inputs.${key}`, `${path}.data[${i}].loss_fn_inputs.${key}`);
      }
    }
  });
  return input as unknown as ForwardBackwardInput;
}
