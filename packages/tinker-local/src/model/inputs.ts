// Checks and converts what callers hand to the model: token sequences and loss_fn_inputs.
// Every failure is a ModelInputError that names the datum, the key and what was expected.
import { ModelInputError } from "./errors.js";
import { checkClip, LOSS_SPECS, type LossFnName } from "./losses.js";

/** A TensorData (contract 4.2), dense, as plain arrays. `shape` defaults to [data.length]. */
export interface TensorInput {
  /**
   * `int64` for token ids (`target_tokens`), `float32` for everything else (weights, logprobs,
   * advantages).
   */
  dtype: "int64" | "float32";
  /** Dimensions; absent or null means one dimension of `data.length`. */
  shape?: readonly number[] | null;
  /** The values, row-major; int64 data may be bigints. */
  data: ArrayLike<number> | BigInt64Array | ArrayLike<bigint>;
}

/** One training example: the model_input tokens and the loss inputs aligned with them. */
export interface Datum {
  /** The input token ids, each in [0, vocab size); at most the model's context length. */
  tokens: Int32Array | ArrayLike<number>;
  /**
   * The loss's inputs by key (`target_tokens`, `weights`, `logprobs`, `advantages`...), each one
   * value per token.
   */
  lossFnInputs: Readonly<Record<string, TensorInput>>;
}

export interface PreparedDatum {
  tokens: Int32Array;
  targets: Int32Array;
  /** Float inputs by key (weights, logprobs, advantages, clip thresholds). */
  floats: Map<string, Float64Array>;
}

export function checkTokens(
  tokens: ArrayLike<number> | null | undefined,
  vocab: number,
  maxLen: number,
  what: string,
): Int32Array {
  if (!tokens || typeof tokens.length !== "number")
    throw new ModelInputError(`${what} must be an array of token ids`);
  if (tokens.length === 0) throw new ModelInputError(`${what} is empty; it needs at least one token`);
  if (tokens.length > maxLen) {
    throw new ModelInputError(
      `${what} has ${tokens.length} tokens, more than the model's context of ${maxLen}`,
    );
  }
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0 || t >= vocab) {
      throw new ModelInputError(`${what}[${i}] = ${String(t)} is not a token id in [0, ${vocab})`);
    }
    out[i] = t;
  }
  return out;
}

function toNumbers(input: TensorInput, where: string): number[] {
  const data = input.data as ArrayLike<number | bigint> | null | undefined;
  if (!data || typeof data.length !== "number") throw new ModelInputError(`${where}.data must be an array`);
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n)) {
      throw new ModelInputError(`${where}.data[${i}] = ${String(v)} is not a finite number`);
    }
    out[i] = n;
  }
  return out;
}

function checkShape(input: TensorInput, length: number, N: number, where: string): void {
  const shape = input.shape ?? [length];
  if (!Array.isArray(shape) || shape.length !== 1) {
    throw new ModelInputError(`${where} must be 1-D with shape [${N}], got shape ${JSON.stringify(shape)}`);
  }
  if (shape[0] !== length) {
    throw new ModelInputError(`${where} says shape [${shape[0]}] but holds ${length} values`);
  }
  if (length !== N) {
    throw new ModelInputError(
      `${where} has ${length} values but model_input has ${N} tokens; they must be the same length (position i predicts target i)`,
    );
  }
}

export function prepareDatum(
  datum: Datum,
  index: number,
  lossFn: LossFnName,
  vocab: number,
  maxLen: number,
): PreparedDatum {
  const where = `data[${index}]`;
  if (!datum || typeof datum !== "object") throw new ModelInputError(`${where} must be an object`);
  const tokens = checkTokens(datum.tokens, vocab, maxLen, `${where}.model_input`);
  const N = tokens.length;
  const inputs = datum.lossFnInputs;
  if (!inputs || typeof inputs !== "object")
    throw new ModelInputError(`${where}.loss_fn_inputs must be an object`);
  const spec = LOSS_SPECS[lossFn];
  for (const key of spec.required) {
    if (!(key in inputs)) {
      throw new ModelInputError(`${where}.loss_fn_inputs is missing '${key}', which ${lossFn} requires`);
    }
  }
  const allowed = [...spec.required, ...spec.optional];
  let targets: Int32Array = new Int32Array(0);
  const floats = new Map<string, Float64Array>();
  for (const [key, input] of Object.entries(inputs)) {
    const at = `${where}.loss_fn_inputs.${key}`;
    if (!allowed.includes(key)) {
      throw new ModelInputError(`${at} is not an input of ${lossFn}; it takes ${allowed.join(", ")}`);
    }
    if (!input || typeof input !== "object") throw new ModelInputError(`${at} must be a TensorData object`);
    const values = toNumbers(input, at);
    checkShape(input, values.length, N, at);
    if (key === "target_tokens") {
      if (input.dtype !== "int64")
        throw new ModelInputError(`${at} must have dtype int64, got ${input.dtype}`);
      targets = checkTokens(values, vocab, maxLen, at);
      continue;
    }
    if (input.dtype !== "float32")
      throw new ModelInputError(`${at} must have dtype float32, got ${input.dtype}`);
    floats.set(key, Float64Array.from(values));
  }
  const low = floats.get("clip_low_threshold");
  const high = floats.get("clip_high_threshold");
  if (low || high) {
    for (let i = 0; i < N; i++) {
      checkClip(
        low ? (low[i] as number) : 0,
        high ? (high[i] as number) : Number.POSITIVE_INFINITY,
        `${where} position ${i}`,
      );
    }
  }
  return { tokens, targets, floats };
}
