// Pure checks of TrainingClient's parameters: each takes what the user passed and returns the wire
// form, or throws a ValidationError naming the field, before anything is sent. No I/O, no state.

import { ValidationError } from "../../client/errors.js";
import { registerSecret } from "../../client/redact.js";
import { checkpointNameProblem } from "../../paths/checkpoint-name.js";
import { knownVocabSize } from "../../tokenizer/resolve.js";
import { Datum } from "../../wire/datum.js";
import {
  ADAM_PARAMS_DEFAULTS,
  DEFAULT_LORA_RANK,
  type LoraConfig,
  type LossFnConfig,
  type LossFnType,
  type AdamParams as WireAdamParams,
  type WireDatum,
} from "../../wire/types.js";
import {
  checkForwardBackwardInput,
  failValidation,
  indexOfAtLeast,
  modelInputLength,
} from "../../wire/validate.js";
import type { AdamStepParams, DatumLike, LoraTrainingOptions } from "./types.js";

/**
 * Checks a weights access token before anything is sent. It is registered as a secret first, so
 * neither this error nor any later log line can show it.
 */
export function checkWeightsAccessToken(token: unknown): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== "string" || token === "") {
    throw new ValidationError("weightsAccessToken must be a non-empty API key or JWT", "weightsAccessToken");
  }
  registerSecret(token);
  if (!token.startsWith("tml-") && !token.startsWith("eyJ")) {
    throw new ValidationError(
      "weightsAccessToken is not valid: it must be a Tinker API key starting with 'tml-' (or a JWT starting with 'eyJ'). " +
        "Check that the whole key was copied.",
      "weightsAccessToken",
    );
  }
  return token;
}

const ADAM_KEYS: Record<keyof AdamStepParams, keyof WireAdamParams> = {
  learningRate: "learning_rate",
  beta1: "beta1",
  beta2: "beta2",
  eps: "eps",
  weightDecay: "weight_decay",
  gradClipNorm: "grad_clip_norm",
};

/**
 * The largest learning rate optimStep sends. Adam moves every weight by about the learning rate per
 * step whatever the gradient's scale, so above 1 a single step wrecks a model for good (and 3.4e38
 * turns every weight into infinity); fine-tuning rates are around 1e-5 to 1e-3.
 */
export const MAX_LEARNING_RATE = 1;

/** The full wire AdamParams with the contract's defaults (4.6), checked. */
export function toWireAdamParams(params: AdamStepParams | WireAdamParams = {}): Required<WireAdamParams> {
  const out: Required<WireAdamParams> = { ...ADAM_PARAMS_DEFAULTS };
  const wireNames = new Set<string>(Object.values(ADAM_KEYS));
  for (const [key, value] of Object.entries(params)) {
    const wire = wireNames.has(key) ? (key as keyof WireAdamParams) : ADAM_KEYS[key as keyof AdamStepParams];
    if (!wire) {
      throw new ValidationError(
        `adamParams.${key} is not an Adam parameter; known: ${Object.keys(ADAM_KEYS).join(", ")}`,
        `adamParams.${key}`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new ValidationError(
        `adamParams.${key} must be a finite number, got ${value}`,
        `adamParams.${key}`,
      );
    }
    out[wire] = value;
  }
  const fail = (key: keyof AdamStepParams, rule: string) => {
    throw new ValidationError(`adamParams.${key} ${rule}, got ${out[ADAM_KEYS[key]]}`, `adamParams.${key}`);
  };
  if (out.learning_rate < 0 || out.learning_rate > MAX_LEARNING_RATE) {
    fail(
      "learningRate",
      `must be in [0, ${MAX_LEARNING_RATE}] (Adam moves each weight by about this much per step)`,
    );
  }
  if (out.beta1 < 0 || out.beta1 >= 1) fail("beta1", "must be in [0, 1)");
  if (out.beta2 < 0 || out.beta2 >= 1) fail("beta2", "must be in [0, 1)");
  if (!(out.eps > 0)) fail("eps", "must be > 0");
  if (out.weight_decay < 0) fail("weightDecay", "must be >= 0");
  if (out.grad_clip_norm < 0) fail("gradClipNorm", "must be >= 0 (0 means no clipping)");
  return out;
}

/** The LoRA config of create_model (contract 4.9), checked: at least one train flag must be true. */
export function toLoraConfig(options: LoraTrainingOptions = {}): LoraConfig {
  const rank = options.rank ?? DEFAULT_LORA_RANK;
  if (!Number.isSafeInteger(rank) || rank < 1) {
    throw new ValidationError(`rank must be a positive integer, got ${rank}`, "rank");
  }
  const config: LoraConfig = {
    rank,
    train_unembed: options.trainUnembed ?? true,
    train_mlp: options.trainMlp ?? true,
    train_attn: options.trainAttn ?? true,
  };
  if (!config.train_unembed && !config.train_mlp && !config.train_attn) {
    throw new ValidationError(
      "At least one of trainMlp, trainAttn and trainUnembed must be true: otherwise LoRA has nothing to train",
      "trainMlp",
    );
  }
  if (options.seed !== undefined) {
    if (!Number.isSafeInteger(options.seed)) {
      throw new ValidationError(`seed must be an integer, got ${options.seed}`, "seed");
    }
    config.seed = options.seed;
  }
  return config;
}

/** A checkpoint name the server accepts and the SDK can address afterwards. */
export function checkName(name: unknown, field: string): string {
  if (typeof name !== "string") {
    throw new ValidationError(
      `${field} must be a checkpoint name (a string), got ${JSON.stringify(name)}`,
      field,
    );
  }
  // The server's rule too: a name it accepts is one the SDK can address afterwards.
  const problem = checkpointNameProblem(name);
  if (problem !== undefined) throw new ValidationError(`${field}: ${problem}`, field);
  return name;
}

/** A checkpoint's time to live: a positive whole number of seconds, or undefined (never expires). */
export function checkTtl(ttlSeconds: number | undefined): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new ValidationError(
      `ttlSeconds must be a positive whole number of seconds, got ${ttlSeconds}`,
      "ttlSeconds",
    );
  }
  return ttlSeconds;
}

/** Datum instances from what the user passed; an error in a wire datum names its index. */
export function toDatums(data: readonly DatumLike[], call: string): Datum[] {
  if (!Array.isArray(data) || data.length === 0) {
    throw new ValidationError(`${call} needs a non-empty array of Datum`, "data");
  }
  return data.map((d, i) => {
    if (d instanceof Datum) return d;
    try {
      return Datum.fromWire(d);
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new ValidationError(`data[${i}]: ${error.message}`, `data[${i}].${error.field ?? ""}`);
      }
      throw error;
    }
  });
}

/**
 * A forward/forward_backward batch in wire form, checked: the loss inputs the loss needs, tokens
 * inside the base model's vocabulary when it is known, at least one input token per datum.
 */
export function checkTrainingBatch(
  data: readonly DatumLike[],
  lossFn: LossFnType,
  config: LossFnConfig | undefined,
  call: string,
  baseModel: string | undefined,
): WireDatum[] {
  const wires = toDatums(data, call).map((d) => d.toWire());
  checkForwardBackwardInput(
    { data: wires, loss_fn: lossFn, ...(config !== undefined ? { loss_fn_config: config } : {}) },
    call,
    failValidation,
  );
  const vocab = baseModel ? knownVocabSize(baseModel) : undefined;
  if (vocab !== undefined) {
    wires.forEach((d, i) => {
      d.model_input.chunks.forEach((chunk, c) => {
        if (chunk.type !== "encoded_text") return;
        const t = indexOfAtLeast(chunk.tokens, vocab);
        if (t >= 0) {
          throw new ValidationError(
            `data[${i}].model_input.chunks[${c}].tokens[${t}]: token ${chunk.tokens[t]} is outside the vocabulary of ${baseModel} [0, ${vocab})`,
            `data[${i}].model_input`,
          );
        }
      });
      const targets = d.loss_fn_inputs.target_tokens;
      const t = targets ? indexOfAtLeast(targets.data, vocab) : -1;
      if (targets && t >= 0) {
        throw new ValidationError(
          `data[${i}].loss_fn_inputs.target_tokens[${t}]: token ${targets.data[t]} is outside the vocabulary of ${baseModel} [0, ${vocab})`,
          `data[${i}].loss_fn_inputs.target_tokens`,
        );
      }
    });
  }
  if (wires.some((d) => modelInputLength(d.model_input) === 0)) {
    throw new ValidationError(`${call}: every datum needs at least one input token`, "data");
  }
  return wires;
}
