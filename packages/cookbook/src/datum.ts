// From a supervised example (tokens and per-token weights) to the Datum that forward_backward
// takes: the model reads tokens[0..n-2] and is scored on predicting tokens[1..n-1], so targets
// and weights are shifted by one against the input.

import { Datum } from "tinker-ts";
import { RendererError } from "./errors.js";
import type { SupervisedExample } from "./renderers/types.js";

/** Options of `datumFromExample`. */
export interface DatumOptions {
  /** Keep only the first `maxLength` tokens (longer conversations are cut). */
  maxLength?: number;
}

/** A `cross_entropy` Datum: input tokens, next-token targets and their weights. */
export function datumFromExample(example: SupervisedExample, options: DatumOptions = {}): Datum {
  let tokens = example.modelInput.toInts();
  let weights = example.weights;
  if (tokens.length !== weights.length)
    throw new RendererError(`the example has ${tokens.length} tokens but ${weights.length} weights`);
  if (options.maxLength !== undefined) {
    tokens = tokens.slice(0, options.maxLength);
    weights = weights.slice(0, options.maxLength);
  }
  if (tokens.length < 2) throw new RendererError("an example needs at least two tokens to predict one");
  return Datum.create({
    modelInput: tokens.slice(0, -1),
    lossFnInputs: { target_tokens: tokens.slice(1), weights: weights.slice(1) },
  });
}
