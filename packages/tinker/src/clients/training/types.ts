// The option and result types of TrainingClient's public methods: what a user passes in and gets
// back. Types only; the checks that enforce the documented rules live in params.ts.

import type { Datum } from "../../wire/datum.js";
import type { TensorData } from "../../wire/tensor-data.js";
import type { WireDatum } from "../../wire/types.js";
import type { WireFormatOption } from "../context.js";
import type { ModelCreationOptions } from "./creation-scope.js";

/** A datum as a {@link Datum} instance or in its wire (snake_case JSON) form; both are checked. */
export type DatumLike = Datum | WireDatum;

/** What forward and forwardBackward resolve to, chunks merged back into one answer. */
export interface ForwardBackwardResult {
  /** e.g. "ArrayRecord" (a `module:Class` prefix is cut). */
  lossFnOutputType: string;
  /** One record per datum, in the order given (chunks merged). */
  lossFnOutputs: Record<string, TensorData>[];
  /** `name:reduction` keys, reduced across chunks (e.g. `loss:sum`). */
  metrics: Record<string, number>;
}

/** What a {@link CustomLossFn} returns: the loss and its gradient with respect to each logprob. */
export interface CustomLossOutput {
  /** The loss value, reported as `loss:sum` in the result's metrics. */
  loss: number;
  /** ∂loss/∂logprobs: one array per datum, as long as that datum's input. */
  grads: ArrayLike<number>[];
  /** Extra metrics to report. */
  metrics?: Record<string, number>;
}

/**
 * A loss computed on the client. `logprobs[i][t]` is the model's log-probability of
 * `target_tokens[t]` of datum i. Return the loss and its gradient with respect to each logprob.
 */
export type CustomLossFn = (
  data: readonly Datum[],
  logprobs: Float32Array[],
) => CustomLossOutput | Promise<CustomLossOutput>;

/** What forwardBackwardCustom resolves to: the forward pass's outputs and the loss it computed. */
export interface CustomLossResult extends ForwardBackwardResult {
  /** The loss the {@link CustomLossFn} returned (also `metrics["loss:sum"]`). */
  loss: number;
}

/**
 * camelCase Adam parameters; the wire's snake_case names (`learning_rate`, …) are accepted too.
 * Checked before anything is sent (ValidationError naming the field): every value finite,
 * `learningRate` in [0, {@link MAX_LEARNING_RATE}], betas in [0, 1), `eps` > 0, `weightDecay` and
 * `gradClipNorm` >= 0.
 */
export interface AdamStepParams {
  /** Default 1e-4; at most {@link MAX_LEARNING_RATE}. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.95. */
  beta2?: number;
  /** Default 1e-12; must be > 0 (it keeps the update's denominator away from zero). */
  eps?: number;
  /** Decoupled (AdamW). Default 0. */
  weightDecay?: number;
  /** 0 (default) means no clipping. */
  gradClipNorm?: number;
}

/** What optimStep resolves to. */
export interface OptimStepResult {
  /** The server's metrics of the step (e.g. the gradient norm), `{}` when it reports none. */
  metrics: Record<string, number>;
}

/** What saveState and saveWeightsForSampler resolve to. */
export interface CheckpointResult {
  /** `tinker://<run>/weights/<name>` or `tinker://<run>/sampler_weights/<name>`. */
  path: string;
}

/** What loadState and loadStateWithOptimizer resolve to. */
export interface LoadStateResult {
  /** The checkpoint the server loaded, when it says (it may answer without one). */
  path: string | undefined;
}

/** Model facts from get_info, camelCased; a field the server leaves out is undefined. */
export interface TrainingInfo {
  /** The training run's model id (`<session>:train:<n>`). */
  modelId: string;
  /** The base model's name, e.g. `Qwen/Qwen3-8B`. */
  modelName: string | undefined;
  /** Whether the model is a LoRA adapter on its base model. */
  isLora: boolean | undefined;
  /** The LoRA rank, for a LoRA model. */
  loraRank: number | undefined;
  /** The model's architecture as the server names it. */
  arch: string | undefined;
  /** As the server reports it, cut at the first ":" (contract 3.1). */
  tokenizerId: string | undefined;
}

/** Options of ServiceClient.createLoraTrainingClient: the LoRA config (contract 4.9) and more. */
export interface LoraTrainingOptions extends WireFormatOption, ModelCreationOptions {
  /** Default 32. */
  rank?: number;
  /** Seed of the adapter's initial weights (a safe integer); the server picks one when absent. */
  seed?: number;
  /** Default true. */
  trainMlp?: boolean;
  /** Default true. */
  trainAttn?: boolean;
  /** Default true. */
  trainUnembed?: boolean;
  /** Stored with the training run. */
  userMetadata?: Record<string, string>;
}

/** Options of ServiceClient.createTrainingClientFromState (contract 2.8). */
export interface TrainingFromStateOptions extends WireFormatOption, ModelCreationOptions {
  /** Also restore the optimizer state (Adam moments). Default false: weights only. */
  withOptimizer?: boolean;
  /** Override the checkpoint's base model (default path only). */
  baseModel?: string;
  /** Stored with the new training run. */
  userMetadata?: Record<string, string>;
  /**
   * Another user's API key (or JWT) that grants read access to their checkpoint (contract 2.8):
   * weights_info is then asked by a separate session-less client authenticated with it, and
   * load_weights carries it. A secret: it is kept out of logs and errors.
   */
  weightsAccessToken?: string;
}

/** Options of loadState and loadStateWithOptimizer. */
export interface LoadStateOptions {
  /** See TrainingFromStateOptions.weightsAccessToken. */
  weightsAccessToken?: string;
}

/** Options of saveState and saveWeightsForSampler. */
export interface SaveOptions {
  /** The checkpoint expires this many seconds after it is saved. Default: never. */
  ttlSeconds?: number;
}
