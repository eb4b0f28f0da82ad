// Datum as users build it. The key rule of contract 4.2 decides the dtype of plain lists, and the
// alignment rule of 4.3 is checked here so a misaligned batch fails before any request is sent.

import { ModelInput, type TokenInput } from "./model-input.js";
import { type NestedNumbers, TensorData, type TypedNumberArray } from "./tensor-data.js";
import type { TensorDtype, WireDatum, WireModelInput } from "./types.js";
import { checkAlignment, checkDatum, failValidation, isPlainObject, setOwn } from "./validate.js";

/** The loss inputs whose plain-list dtype is known from the key (contract 4.2). */
export const LOSS_INPUT_DTYPES: Readonly<Record<string, TensorDtype>> = Object.freeze({
  target_tokens: "int64",
  weights: "float32",
  advantages: "float32",
  logprobs: "float32",
  clip_low_threshold: "float32",
  clip_high_threshold: "float32",
});

/**
 * The keys whose 2-D nested-array values are sent as sparse CSR when that is smaller (as the
 * Python SDK does for 2-D torch tensors; see `TensorData.toSparseIfSmaller`).
 */
export const SPARSE_ELIGIBLE_LOSS_INPUTS: readonly string[] = Object.freeze(["target_tokens", "weights"]);

/**
 * One loss input as a caller may give it: a TensorData, or a plain or typed array (plain arrays
 * only for the keys of {@link LOSS_INPUT_DTYPES}, whose dtype is known).
 */
export type LossFnInputValue = TensorData | NestedNumbers | TypedNumberArray;

/** What `Datum.create` takes. */
export interface DatumInit {
  /** A ModelInput, a wire model input, or plain token ids. */
  modelInput: ModelInput | WireModelInput | TokenInput;
  /**
   * The loss's inputs by name (`target_tokens`, `weights`, ...); per-token ones must match the
   * input's length.
   */
  lossFnInputs?: Record<string, LossFnInputValue>;
}

function toModelInput(value: DatumInit["modelInput"]): ModelInput {
  if (value instanceof ModelInput) return value;
  if (typeof value === "object" && value !== null && "chunks" in value) {
    return ModelInput.fromWire(value as WireModelInput);
  }
  return ModelInput.fromInts(value as TokenInput);
}

function toTensor(key: string, value: LossFnInputValue): TensorData {
  const field = `loss_fn_inputs.${key}`;
  const keyDtype = LOSS_INPUT_DTYPES[key];
  if (value instanceof TensorData) {
    if (keyDtype && value.dtype !== keyDtype) {
      failValidation(
        `must be ${keyDtype} but this TensorData is ${value.dtype}; rebuild it with { dtype: "${keyDtype}" } or pass a plain array`,
        field,
      );
    }
    return value;
  }
  if (Array.isArray(value)) {
    if (!keyDtype) {
      failValidation(
        `a plain array is only accepted for ${Object.keys(LOSS_INPUT_DTYPES).join(", ")}; pass TensorData.from(values, { dtype }) or a typed array for "${key}"`,
        field,
      );
    }
    const dense = TensorData.from(value, { dtype: keyDtype, field });
    // A 2-D top-k target or weight matrix is mostly zeros: CSR is smaller on the wire, same values.
    return SPARSE_ELIGIBLE_LOSS_INPUTS.includes(key) ? dense.toSparseIfSmaller() : dense;
  }
  if (ArrayBuffer.isView(value)) {
    // A known key fixes the dtype even for typed arrays: float target tokens or int weights are
    // always a mistake, and converting here keeps the server's view of the batch uniform.
    return TensorData.from(value as TypedNumberArray, { ...(keyDtype ? { dtype: keyDtype } : {}), field });
  }
  failValidation("expected a TensorData, a plain array or a typed array", field);
}

/**
 * One training example: a model input and the loss's inputs, checked together (dtypes, finite
 * values, per-token alignment) when built, so a bad batch fails with `ValidationError` before any
 * request is sent. Immutable.
 */
export class Datum {
  /** What the model reads. */
  readonly modelInput: ModelInput;
  /** The loss's inputs by name, frozen. */
  readonly lossFnInputs: Readonly<Record<string, TensorData>>;

  private constructor(modelInput: ModelInput, lossFnInputs: Record<string, TensorData>) {
    this.modelInput = modelInput;
    this.lossFnInputs = Object.freeze(lossFnInputs);
  }

  /**
   * Builds and checks a datum: dtypes by key, ragged lists, non-finite floats, non-integer or
   * negative tokens, and per-token inputs whose length differs from the model input's.
   */
  static create(init: DatumInit): Datum {
    const modelInput = toModelInput(init.modelInput);
    const inputs: Record<string, TensorData> = {};
    for (const [key, value] of Object.entries(init.lossFnInputs ?? {})) {
      setOwn(inputs, key, toTensor(key, value));
    }
    checkAlignment(modelInput, inputs, "", failValidation);
    return new Datum(modelInput, inputs);
  }

  /**
   * The usual supervised datum: input is `tokens` without its last token, targets are `tokens`
   * shifted left by one. `weights` (one per token of `tokens`, default all 1) are shifted the same
   * way, so `weights[0]` is dropped.
   */
  static forNextTokenPrediction(tokens: TokenInput, options: { weights?: ArrayLike<number> } = {}): Datum {
    const all = Array.from(tokens as ArrayLike<number>);
    if (all.length < 2) failValidation("needs at least 2 tokens to predict a next token", "tokens");
    let weights: number[];
    if (options.weights) {
      weights = Array.from(options.weights);
      if (weights.length !== all.length) {
        failValidation(
          `has ${weights.length} entries but there are ${all.length} tokens; give one weight per token`,
          "weights",
        );
      }
      weights = weights.slice(1);
    } else {
      weights = new Array<number>(all.length - 1).fill(1);
    }
    return Datum.create({
      modelInput: ModelInput.fromInts(all.slice(0, -1)),
      lossFnInputs: { target_tokens: all.slice(1), weights },
    });
  }

  /**
   * Checks and adopts a wire datum. Every array is walked once: checked as it is copied and packed
   * into wire bytes (the checks are checkDatum's, under the same paths).
   */
  static fromWire(wire: WireDatum): Datum {
    if (!isPlainObject(wire) || !isPlainObject(wire.loss_fn_inputs)) {
      checkDatum(wire, "datum", failValidation); // raises the structural error
    }
    const modelInput = ModelInput.fromWire(wire.model_input, "datum.model_input");
    const inputs: Record<string, TensorData> = {};
    for (const [key, td] of Object.entries(wire.loss_fn_inputs)) {
      setOwn(inputs, key, TensorData.fromWire(td, { field: `datum.loss_fn_inputs.${key}` }));
    }
    checkAlignment(modelInput, inputs, "datum", failValidation);
    return new Datum(modelInput, inputs);
  }

  /** A plain wire object (copies of the model input and tensors). */
  toWire(): WireDatum {
    const loss_fn_inputs: WireDatum["loss_fn_inputs"] = {};
    for (const [key, td] of Object.entries(this.lossFnInputs)) setOwn(loss_fn_inputs, key, td.toWire());
    return { loss_fn_inputs, model_input: this.modelInput.toWire() };
  }

  /** The wire form, for `JSON.stringify`. */
  toJSON(): WireDatum {
    return this.toWire();
  }
}
