// TrainingClient: one LoRA model on the server (contract 2.8, 3.1, 4.4-4.6, 5.4). Every method that
// submits work checks its input, takes its seq ids at once (so call order is execution order),
// and returns a TinkerFuture right away. The future's work waits for its turn (every earlier call
// acknowledged), submits, then polls outside the turn gate. So
//
//   const fb = training.forwardBackward(batch, "cross_entropy");
//   const step = training.optimStep({ learningRate: 1e-3 });
//   await Promise.all([fb, step]);
//
// submits forward_backward then optim_step, in that order, without waiting for the first result.

import type { FutureRequestType } from "../api/futures.js";
import {
  createModel,
  createModelResult,
  forwardBackwardJson,
  forwardBackwardProto,
  getInfo,
  loadWeights,
  loadWeightsResult,
  optimStep,
  optimStepResult,
  type SubmitAck,
  saveWeights,
  saveWeightsForSampler,
  saveWeightsForSamplerResult,
  saveWeightsResult,
  type WeightsInfoResponse,
  weightsInfo,
} from "../api/training.js";
import { ConflictError, ResponseValidationError, ValidationError } from "../client/errors.js";
import { registerSecret } from "../client/redact.js";
import { type FutureHandle, TinkerFuture } from "../futures/future.js";
import { pollFuture, type ResultDecoder, type WireFormat } from "../futures/poll.js";
import { submitWithRetries } from "../futures/submit.js";
import { type Turn, TurnGate } from "../futures/turn-gate.js";
import { checkpointNameProblem } from "../paths/checkpoint-name.js";
import { parseTinkerPath } from "../paths/tinker-path.js";
import { knownVocabSize, type ResolveTokenizerOptions, resolveTokenizer } from "../tokenizer/resolve.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { chunkForwardBackwardData, estimateDatumBytes } from "../wire/chunking.js";
import { Datum } from "../wire/datum.js";
import { decodeForwardBackwardOutputJson, encodeForwardBackwardRequestJson } from "../wire/json-codec.js";
import { mergeForwardBackwardOutputs } from "../wire/metrics.js";
import { decodeForwardBackwardOutputProto, encodeForwardBackwardRequestProto } from "../wire/proto-codec.js";
import { TensorData } from "../wire/tensor-data.js";
import {
  ADAM_PARAMS_DEFAULTS,
  DEFAULT_LORA_RANK,
  type ForwardBackwardOutput,
  type LoraConfig,
  type LossFnConfig,
  type LossFnType,
  type AdamParams as WireAdamParams,
  type WireDatum,
} from "../wire/types.js";
import { checkForwardBackwardInput, failValidation, modelInputLength } from "../wire/validate.js";
import { zstdCompress } from "../wire/zstd.js";
import { type ClientContext, checkWireFormat, type WireFormatOption } from "./context.js";
import { SamplingClient, type SamplingClientOptions } from "./sampling-client.js";

export type DatumLike = Datum | WireDatum;

export interface ForwardBackwardResult {
  /** e.g. "ArrayRecord" (a `module:Class` prefix is cut). */
  lossFnOutputType: string;
  /** One record per datum, in the order given (chunks merged). */
  lossFnOutputs: Record<string, TensorData>[];
  /** `name:reduction` keys, reduced across chunks (e.g. `loss:sum`). */
  metrics: Record<string, number>;
}

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

export interface CustomLossResult extends ForwardBackwardResult {
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

export interface OptimStepResult {
  metrics: Record<string, number>;
}

export interface CheckpointResult {
  /** `tinker://<run>/weights/<name>` or `tinker://<run>/sampler_weights/<name>`. */
  path: string;
}

export interface LoadStateResult {
  path: string | undefined;
}

export interface TrainingInfo {
  modelId: string;
  modelName: string | undefined;
  isLora: boolean | undefined;
  loraRank: number | undefined;
  arch: string | undefined;
  /** As the server reports it, cut at the first ":" (contract 3.1). */
  tokenizerId: string | undefined;
}

export interface LoraTrainingOptions extends WireFormatOption {
  /** Default 32. */
  rank?: number;
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

export interface TrainingFromStateOptions extends WireFormatOption {
  /** Also restore the optimizer state (Adam moments). Default false: weights only. */
  withOptimizer?: boolean;
  /** Override the checkpoint's base model (default path only). */
  baseModel?: string;
  userMetadata?: Record<string, string>;
  /**
   * Another user's API key (or JWT) that grants read access to their checkpoint (contract 2.8):
   * weights_info is then asked by a separate session-less client authenticated with it, and
   * load_weights carries it. A secret: it is kept out of logs and errors.
   */
  weightsAccessToken?: string;
}

export interface LoadStateOptions {
  /** See TrainingFromStateOptions.weightsAccessToken. */
  weightsAccessToken?: string;
}

/** Looks up a checkpoint's LoRA config (weights_info); the token variant uses its own client. */
export type WeightsInfoLookup = (path: string) => Promise<WeightsInfoResponse>;

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

export interface SaveOptions {
  /** The checkpoint expires this many seconds after it is saved. Default: never. */
  ttlSeconds?: number;
}

const FBO_DECODER: ResultDecoder<ForwardBackwardOutput> = {
  name: "ForwardBackwardOutput",
  proto: decodeForwardBackwardOutputProto,
  json: decodeForwardBackwardOutputJson,
};

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

function checkName(name: unknown, field: string): string {
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

function checkTtl(ttlSeconds: number | undefined): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new ValidationError(
      `ttlSeconds must be a positive whole number of seconds, got ${ttlSeconds}`,
      "ttlSeconds",
    );
  }
  return ttlSeconds;
}

function toResult(out: ForwardBackwardOutput): ForwardBackwardResult {
  return {
    lossFnOutputType: out.loss_fn_output_type,
    lossFnOutputs: out.loss_fn_outputs.map((record, i) => {
      const converted: Record<string, TensorData> = {};
      for (const [key, td] of Object.entries(record)) {
        Object.defineProperty(converted, key, {
          value: TensorData.fromWire(td, { field: `loss_fn_outputs[${i}].${key}` }),
          enumerable: true,
        });
      }
      return converted;
    }),
    metrics: out.metrics,
  };
}

/** Weights for the second pass of a custom loss: cross-entropy is −Σ w·logp, so w = −∂loss/∂logp. */
export function customLossWeights(grads: ArrayLike<number>, length: number, index: number): number[] {
  if (grads === null || typeof grads !== "object" || typeof grads.length !== "number") {
    throw new ValidationError(`grads[${index}] must be an array of numbers`, `grads[${index}]`);
  }
  if (grads.length !== length) {
    throw new ValidationError(
      `grads[${index}] has ${grads.length} entries but datum ${index} has ${length} positions; give ∂loss/∂logprob for every position`,
      `grads[${index}]`,
    );
  }
  const out = new Array<number>(length);
  for (let t = 0; t < length; t++) {
    const g = grads[t];
    if (typeof g !== "number" || !Number.isFinite(g)) {
      throw new ValidationError(
        `grads[${index}][${t}] is not a finite number: ${g}`,
        `grads[${index}][${t}]`,
      );
    }
    // 0 - g, not -g: a zero gradient must give weight +0 (JSON cannot carry -0).
    out[t] = 0 - g;
  }
  return out;
}

interface Chunked {
  chunks: WireDatum[][];
  counts: number[];
}

export class TrainingClient {
  readonly modelId: string;
  readonly #ctx: ClientContext;
  readonly #gate: TurnGate;
  readonly #wireFormat: WireFormat;
  #baseModel: string | undefined;

  /** @internal Use ServiceClient.createLoraTrainingClient / createTrainingClientFromState. */
  constructor(
    ctx: ClientContext,
    modelId: string,
    options: { baseModel?: string; wireFormat?: WireFormat; firstSeqId?: number } = {},
  ) {
    this.#ctx = ctx;
    this.modelId = modelId;
    this.#baseModel = options.baseModel;
    this.#wireFormat = checkWireFormat(options.wireFormat);
    this.#gate = new TurnGate(options.firstSeqId ?? 1);
  }

  /** The base model, when known (it is after creation from a name or a checkpoint). */
  get baseModel(): string | undefined {
    return this.#baseModel;
  }

  /** @internal create_model, then the client. */
  static async createLora(
    ctx: ClientContext,
    baseModel: string,
    options: LoraTrainingOptions = {},
  ): Promise<TrainingClient> {
    if (typeof baseModel !== "string" || baseModel === "") {
      throw new ValidationError("baseModel must be a non-empty model name", "baseModel");
    }
    const loraConfig = toLoraConfig(options);
    const wireFormat = checkWireFormat(options.wireFormat);
    const started = ctx.now();
    const ack = await createModel(
      ctx.http,
      {
        session_id: ctx.sessionId,
        model_seq_id: ctx.counters.nextModelSeqId(),
        base_model: baseModel,
        ...(options.userMetadata ? { user_metadata: options.userMetadata } : {}),
        lora_config: loraConfig,
        type: "create_model",
      },
      { signal: ctx.signal },
    );
    const result = await pollFuture({
      ...pollBase(ctx, started),
      requestId: ack.request_id,
      requestType: "CreateModel",
      decoder: { name: "CreateModelResponse", json: createModelResult },
      wireFormat,
    });
    return new TrainingClient(ctx, result.model_id, { baseModel, wireFormat });
  }

  /** @internal Contract 2.8, both paths (the server's create_model_via_load_weights flag chooses). */
  static async fromState(
    ctx: ClientContext,
    path: string,
    options: TrainingFromStateOptions = {},
    lookupWeightsInfo: WeightsInfoLookup = (p) => weightsInfo(ctx.http, p, { signal: ctx.signal }),
  ): Promise<TrainingClient> {
    parseTinkerPath(path, "path");
    const wireFormat = checkWireFormat(options.wireFormat);
    const optimizer = options.withOptimizer ?? false;
    const token = checkWeightsAccessToken(options.weightsAccessToken);
    const tokenField = token !== undefined ? { weights_access_token: token } : {};
    if (ctx.config.createModelViaLoadWeights) {
      const started = ctx.now();
      const modelSeqId = ctx.counters.nextModelSeqId();
      const ack = await loadWeights(
        ctx.http,
        {
          session_id: ctx.sessionId,
          model_seq_id: modelSeqId,
          ...(options.baseModel !== undefined ? { base_model: options.baseModel } : {}),
          ...(options.userMetadata ? { user_metadata: options.userMetadata } : {}),
          path,
          optimizer,
          ...tokenField,
          type: "load_weights",
        },
        { signal: ctx.signal },
      );
      await pollFuture({
        ...pollBase(ctx, started),
        requestId: ack.request_id,
        requestType: "LoadWeights",
        decoder: { name: "LoadWeightsResponse", json: loadWeightsResult },
        wireFormat,
      });
      // The model id is computed, not read from the answer (contract 2.8).
      const client = new TrainingClient(ctx, `${ctx.sessionId}:train:${modelSeqId}`, { wireFormat });
      client.#baseModel = options.baseModel ?? (await client.getInfo()).modelName;
      return client;
    }
    const info = await lookupWeightsInfo(path);
    if (!info.is_lora || info.lora_rank == null) {
      throw new ResponseValidationError(
        `${path} is not a LoRA checkpoint (weights_info: is_lora ${info.is_lora})`,
      );
    }
    const client = await TrainingClient.createLora(ctx, options.baseModel ?? info.base_model, {
      rank: info.lora_rank,
      trainMlp: info.train_mlp ?? true,
      trainAttn: info.train_attn ?? true,
      trainUnembed: info.train_unembed ?? true,
      ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
      wireFormat,
    });
    const loadOptions = token !== undefined ? { weightsAccessToken: token } : {};
    await (optimizer
      ? client.loadStateWithOptimizer(path, loadOptions)
      : client.loadState(path, loadOptions));
    return client;
  }

  /** A forward pass (no gradients): per-datum outputs such as `logprobs`, and metrics. */
  forward(
    data: readonly DatumLike[],
    lossFn: LossFnType,
    lossFnConfig?: LossFnConfig,
  ): TinkerFuture<ForwardBackwardResult> {
    const input = this.#checkBatch(data, lossFn, lossFnConfig, "forward");
    const turns = this.#reserveChunks(input.chunks.length);
    return new TinkerFuture(async (handle) => {
      const out = await this.#runForwardBackward(input, lossFn, lossFnConfig, true, turns, handle);
      return toResult(out);
    }, "forward");
  }

  /** Forward and backward: gradients accumulate on the server until the next optimStep. */
  forwardBackward(
    data: readonly DatumLike[],
    lossFn: LossFnType,
    lossFnConfig?: LossFnConfig,
  ): TinkerFuture<ForwardBackwardResult> {
    const input = this.#checkBatch(data, lossFn, lossFnConfig, "forwardBackward");
    const turns = this.#reserveChunks(input.chunks.length);
    return new TinkerFuture(async (handle) => {
      const out = await this.#runForwardBackward(input, lossFn, lossFnConfig, false, turns, handle);
      return toResult(out);
    }, "forwardBackward");
  }

  /**
   * Forward and backward with a loss computed here (contract 4.4): a forward pass gives the
   * logprobs of `target_tokens`, `lossFn` turns them into a loss and its gradient, and a
   * cross-entropy pass with weights −gradient puts exactly that gradient into the model. Datums may
   * carry only `target_tokens` (and `weights`, which is ignored).
   */
  forwardBackwardCustom(data: readonly DatumLike[], lossFn: CustomLossFn): TinkerFuture<CustomLossResult> {
    if (typeof lossFn !== "function") throw new ValidationError("lossFn must be a function", "lossFn");
    const datums = this.#toDatums(data, "forwardBackwardCustom");
    datums.forEach((d, i) => {
      for (const key of Object.keys(d.lossFnInputs)) {
        if (key !== "target_tokens" && key !== "weights") {
          throw new ValidationError(
            `forwardBackwardCustom takes only target_tokens (and weights) as loss inputs; datum ${i} has "${key}"`,
            `data[${i}].loss_fn_inputs.${key}`,
          );
        }
      }
      if (!d.lossFnInputs.target_tokens) {
        throw new ValidationError(
          `datum ${i} needs target_tokens`,
          `data[${i}].loss_fn_inputs.target_tokens`,
        );
      }
    });
    const lengths = datums.map((d) => d.lossFnInputs.target_tokens!.shape[0] ?? 0);
    const withWeights = (i: number, weights: number[]): WireDatum => {
      const wire = datums[i]!.toWire();
      return {
        model_input: wire.model_input,
        loss_fn_inputs: {
          target_tokens: wire.loss_fn_inputs.target_tokens!,
          weights: { data: weights, dtype: "float32", shape: [weights.length] },
        },
      };
    };
    const forwardInput = this.#checkBatch(
      datums.map((_, i) => withWeights(i, new Array<number>(lengths[i]!).fill(0))),
      "cross_entropy",
      undefined,
      "forwardBackwardCustom",
    );
    // Both passes take their seq ids now, so a call made after this one runs after both.
    const forwardTurns = this.#reserveChunks(forwardInput.chunks.length);
    const backwardTurns = this.#reserveChunks(forwardInput.chunks.length);
    return new TinkerFuture(async (handle) => {
      let forward: ForwardBackwardOutput | undefined;
      let failure: unknown;
      let computed: CustomLossOutput | undefined;
      let weights: number[][] = lengths.map((n) => new Array<number>(n).fill(0));
      try {
        forward = await this.#runForwardBackward(
          forwardInput,
          "cross_entropy",
          undefined,
          true,
          forwardTurns,
          handle,
        );
        const logprobs = forward.loss_fn_outputs.map((o, i) => {
          const lp = o.logprobs;
          if (!lp) throw new ResponseValidationError(`forward result for datum ${i} has no logprobs`);
          return Float32Array.from(lp.data);
        });
        computed = await lossFn(datums, logprobs);
        if (!computed || typeof computed.loss !== "number" || !Array.isArray(computed.grads)) {
          throw new ValidationError("lossFn must return { loss: number, grads: number[][] }", "lossFn");
        }
        if (computed.grads.length !== datums.length) {
          throw new ValidationError(
            `lossFn returned ${computed.grads.length} gradients for ${datums.length} datums`,
            "grads",
          );
        }
        weights = computed.grads.map((g, i) => customLossWeights(g, lengths[i]!, i));
      } catch (error) {
        // The backward seq ids are taken: send them anyway with zero weights (no gradient), so the
        // server does not hold the calls queued behind this one waiting for the gap to fill.
        failure = error;
      }
      const backwardInput = this.#chunk(weights.map((w, i) => withWeights(i, w)));
      const backward = await this.#runForwardBackward(
        backwardInput,
        "cross_entropy",
        undefined,
        false,
        backwardTurns,
        handle,
      );
      if (failure !== undefined) throw failure;
      const result = toResult(forward as ForwardBackwardOutput);
      const out = computed as CustomLossOutput;
      return {
        ...result,
        metrics: { ...backward.metrics, ...out.metrics, "loss:sum": out.loss },
        loss: out.loss,
      };
    }, "forwardBackwardCustom");
  }

  /** Applies the accumulated gradients with Adam (contract 4.6 defaults) and clears them. */
  optimStep(adamParams: AdamStepParams | WireAdamParams = {}): TinkerFuture<OptimStepResult> {
    const params = toWireAdamParams(adamParams);
    return this.#single(
      "optimStep",
      "OptimStep",
      { name: "OptimStepResponse", json: optimStepResult },
      (seqId) => ({
        submit: () =>
          optimStep(
            this.#ctx.http,
            { adam_params: params, model_id: this.modelId, seq_id: seqId, type: "optim_step" },
            {
              signal: this.#ctx.signal,
            },
          ),
        map: (r) => ({ metrics: r.metrics ?? {} }),
      }),
    );
  }

  /**
   * Saves weights and optimizer state as `tinker://<run>/weights/<name>`. A name in use is a
   * ConflictError unless `overwrite`.
   */
  saveState(
    name: string,
    options: SaveOptions & { overwrite?: boolean } = {},
  ): TinkerFuture<CheckpointResult> {
    checkName(name, "name");
    const ttl = checkTtl(options.ttlSeconds);
    const overwrite = options.overwrite ?? false;
    return this.#single(
      "saveState",
      "SaveWeights",
      { name: "SaveWeightsResponse", json: saveWeightsResult },
      (seqId) => ({
        submit: () =>
          saveWeights(
            this.#ctx.http,
            {
              model_id: this.modelId,
              path: name,
              seq_id: seqId,
              ...(ttl !== undefined ? { ttl_seconds: ttl } : {}),
              overwrite,
              type: "save_weights",
            },
            { signal: this.#ctx.signal },
          ),
        map: (r) => ({ path: r.path }),
        savedPath: `tinker://${this.modelId}/weights/${name}`,
      }),
    );
  }

  /** Saves weights for sampling as `tinker://<run>/sampler_weights/<name>`. */
  saveWeightsForSampler(name: string, options: SaveOptions = {}): TinkerFuture<CheckpointResult> {
    checkName(name, "name");
    const ttl = checkTtl(options.ttlSeconds);
    return this.#single(
      "saveWeightsForSampler",
      "SaveWeightsForSampler",
      { name: "SaveWeightsForSamplerResponse", json: saveWeightsForSamplerResult },
      (seqId) => ({
        submit: () =>
          saveWeightsForSampler(
            this.#ctx.http,
            {
              model_id: this.modelId,
              path: name,
              seq_id: seqId,
              ...(ttl !== undefined ? { ttl_seconds: ttl } : {}),
              type: "save_weights_for_sampler",
            },
            { signal: this.#ctx.signal },
          ),
        map: (r) => {
          if (!r.path) throw new ResponseValidationError("save_weights_for_sampler result has no path");
          return { path: r.path };
        },
        savedPath: `tinker://${this.modelId}/sampler_weights/${name}`,
      }),
    );
  }

  /** Loads weights only (the optimizer state is reset). */
  loadState(path: string, options: LoadStateOptions = {}): TinkerFuture<LoadStateResult> {
    return this.#load(path, false, options);
  }

  /** Loads weights and the optimizer state, to resume training exactly. */
  loadStateWithOptimizer(path: string, options: LoadStateOptions = {}): TinkerFuture<LoadStateResult> {
    return this.#load(path, true, options);
  }

  /**
   * Saves the current weights for sampling and returns a SamplingClient on them. With a name they
   * are saved under `sampler_weights/<name>`; without one they are ephemeral (contract 4.10).
   */
  async saveWeightsAndGetSamplingClient(
    name?: string,
    options: SamplingClientOptions = {},
  ): Promise<SamplingClient> {
    const ctx = this.#ctx;
    const samplingOptions = { ...options, ...(this.#baseModel ? { baseModel: this.#baseModel } : {}) };
    if (name !== undefined) {
      const { path } = await this.saveWeightsForSampler(name);
      return SamplingClient.create(ctx, { ...samplingOptions, modelPath: path });
    }
    const samplingSeqId = ctx.counters.nextSamplingSessionSeqId();
    const future = this.#single(
      "saveWeightsAndGetSamplingClient",
      "SaveWeightsForSampler",
      { name: "SaveWeightsForSamplerResponse", json: saveWeightsForSamplerResult },
      (seqId) => ({
        submit: () =>
          saveWeightsForSampler(
            ctx.http,
            {
              model_id: this.modelId,
              seq_id: seqId,
              sampling_session_seq_id: samplingSeqId,
              type: "save_weights_for_sampler",
            },
            { signal: ctx.signal },
          ),
        map: (r) => {
          if (!r.sampling_session_id) {
            throw new ResponseValidationError(
              "unnamed save_weights_for_sampler result has no sampling_session_id",
            );
          }
          return r.sampling_session_id;
        },
      }),
    );
    return new SamplingClient(ctx, await future, samplingOptions);
  }

  /** Model facts from the server (`get_info`). */
  async getInfo(): Promise<TrainingInfo> {
    const info = await getInfo(this.#ctx.http, this.modelId, { signal: this.#ctx.signal });
    const tokenizerId = info.model_data?.tokenizer_id ?? undefined;
    return {
      modelId: info.model_id,
      modelName: info.model_name ?? info.model_data?.model_name ?? undefined,
      isLora: info.is_lora ?? undefined,
      loraRank: info.lora_rank ?? undefined,
      arch: info.model_data?.arch ?? undefined,
      tokenizerId: tokenizerId === undefined ? undefined : tokenizerId.split(":")[0],
    };
  }

  /** The model's tokenizer (by get_info's tokenizer id, else its model name). */
  async getTokenizer(options: ResolveTokenizerOptions = {}): Promise<Tokenizer> {
    const info = await this.getInfo();
    const name = info.tokenizerId ?? info.modelName ?? this.#baseModel;
    if (name === undefined)
      throw new ResponseValidationError("get_info names neither a tokenizer nor a model");
    try {
      return await resolveTokenizer(name, options);
    } catch (error) {
      if (info.modelName && info.modelName !== name) return resolveTokenizer(info.modelName, options);
      throw error;
    }
  }

  // ---- internals ----

  #toDatums(data: readonly DatumLike[], call: string): Datum[] {
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

  #checkBatch(
    data: readonly DatumLike[],
    lossFn: LossFnType,
    config: LossFnConfig | undefined,
    call: string,
  ): Chunked {
    const wires = this.#toDatums(data, call).map((d) => d.toWire());
    checkForwardBackwardInput(
      { data: wires, loss_fn: lossFn, ...(config !== undefined ? { loss_fn_config: config } : {}) },
      call,
      failValidation,
    );
    const vocab = this.#baseModel ? knownVocabSize(this.#baseModel) : undefined;
    if (vocab !== undefined) {
      wires.forEach((d, i) => {
        d.model_input.chunks.forEach((chunk, c) => {
          if (chunk.type !== "encoded_text") return;
          const t = chunk.tokens.findIndex((x) => x >= vocab);
          if (t >= 0) {
            throw new ValidationError(
              `data[${i}].model_input.chunks[${c}].tokens[${t}]: token ${chunk.tokens[t]} is outside the vocabulary of ${this.#baseModel} [0, ${vocab})`,
              `data[${i}].model_input`,
            );
          }
        });
        const targets = d.loss_fn_inputs.target_tokens;
        const t = targets ? targets.data.findIndex((x) => x >= vocab) : -1;
        if (targets && t >= 0) {
          throw new ValidationError(
            `data[${i}].loss_fn_inputs.target_tokens[${t}]: token ${targets.data[t]} is outside the vocabulary of ${this.#baseModel} [0, ${vocab})`,
            `data[${i}].loss_fn_inputs.target_tokens`,
          );
        }
      });
    }
    if (wires.some((d) => modelInputLength(d.model_input) === 0)) {
      throw new ValidationError(`${call}: every datum needs at least one input token`, "data");
    }
    return this.#chunk(wires);
  }

  #chunk(wires: WireDatum[]): Chunked {
    const { config } = this.#ctx;
    const chunks = chunkForwardBackwardData(wires, {
      maxChunkLen: config.fwdbwdMaxChunkLen,
      maxChunkBytes: config.fwdbwdMaxChunkBytesCount,
    });
    return { chunks, counts: chunks.map((c) => c.length) };
  }

  /** One turn holding every chunk (parallel chunks), or one turn per chunk. */
  #reserveChunks(count: number): Turn[] {
    if (this.#ctx.config.parallelFwdbwdChunks) return [this.#gate.reserve(count)];
    return Array.from({ length: count }, () => this.#gate.reserve(1));
  }

  async #runForwardBackward(
    input: Chunked,
    lossFn: LossFnType,
    lossFnConfig: LossFnConfig | undefined,
    forwardOnly: boolean,
    turns: Turn[],
    handle: FutureHandle,
  ): Promise<ForwardBackwardOutput> {
    const ctx = this.#ctx;
    const started = ctx.now();
    const { chunks } = input;
    const seqOf = (i: number) => (turns.length === 1 ? turns[0]!.seqIds[i]! : turns[i]!.seqIds[0]!);
    const submitChunk = async (i: number): Promise<SubmitAck> => {
      const request = {
        model_id: this.modelId,
        seq_id: seqOf(i),
        data: chunks[i]!,
        loss_fn: lossFn,
        ...(lossFnConfig !== undefined ? { loss_fn_config: lossFnConfig } : {}),
        ...(forwardOnly ? { forward_only: true } : {}),
      };
      let send: () => Promise<SubmitAck>;
      if (this.#wireFormat === "json") {
        const body = encodeForwardBackwardRequestJson(request);
        send = () => forwardBackwardJson(ctx.http, body, { signal: ctx.signal });
      } else {
        const compress = ctx.config.protoCompressFwdbwd;
        let bytes = encodeForwardBackwardRequestProto(request);
        if (compress) bytes = await zstdCompress(bytes);
        send = () => forwardBackwardProto(ctx.http, bytes, compress, { signal: ctx.signal });
      }
      // Held until this chunk's submit is acknowledged (contract 1.7), not while it runs.
      const bytes = chunks[i]!.reduce((n, d) => n + estimateDatumBytes(d), 0);
      return ctx.throttles.fwdbwdBytes.with(
        bytes,
        () => this.#withRetries(send, forwardOnly ? "forward" : "forward_backward"),
        ctx.signal,
      );
    };

    const acks: SubmitAck[] = new Array(chunks.length);
    try {
      if (turns.length === 1) {
        const turn = turns[0]!;
        await turn.wait();
        // The first chunk goes last, so the server holds the others until the batch is complete.
        const order = [...chunks.keys()].slice(1).concat(0);
        const settled = await Promise.allSettled(
          order.map(async (i) => {
            acks[i] = await submitChunk(i);
          }),
        );
        const failedSeqs = order.filter((_, k) => settled[k]!.status === "rejected").map(seqOf);
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
        if (failed) {
          await this.#fillSeqGap(
            failedSeqs.sort((a, b) => a - b),
            failed.reason,
          );
          throw failed.reason;
        }
      } else {
        for (let i = 0; i < chunks.length; i++) {
          await turns[i]!.wait();
          try {
            acks[i] = await submitChunk(i);
          } catch (error) {
            // This chunk's seq id and the later ones of this call will not be used otherwise.
            await this.#fillSeqGap(chunks.map((_, j) => seqOf(j)).slice(i), error);
            throw error;
          } finally {
            turns[i]!.release();
          }
        }
      }
    } finally {
      for (const turn of turns) turn.release();
    }
    for (const ack of acks) handle.setRequestId(ack.request_id);
    const roundtrip = (ctx.now() - started) / 1000;
    const outputs = await Promise.all(
      acks.map((ack) =>
        pollFuture({
          ...pollBase(ctx, started),
          createPromiseRoundtripSec: roundtrip,
          requestId: ack.request_id,
          requestType: forwardOnly ? "Forward" : "ForwardBackward",
          decoder: FBO_DECODER,
          wireFormat: this.#wireFormat,
          onQueueState: handle.emitQueueState,
        }),
      ),
    );
    outputs.forEach((out, i) => {
      if (out.loss_fn_outputs.length !== input.counts[i]) {
        throw new ResponseValidationError(
          `forward_backward chunk ${i} answered ${out.loss_fn_outputs.length} outputs for ${input.counts[i]} datums`,
        );
      }
    });
    return mergeForwardBackwardOutputs(outputs, input.counts);
  }

  /**
   * A submit the server refused (a 409 on a save name, a 400) did not take its seq id there, and
   * the server would hold every later request of this model waiting for it. Each such seq id is
   * filled, still inside the turn, with a no-op: a forward-only pass over one token with zero
   * weights, which changes nothing. If the server did take the seq id after all, it refuses the
   * filler, which is fine too.
   */
  async #fillSeqGap(seqIds: readonly number[], cause: unknown): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.signal.aborted) return;
    for (const seqId of seqIds) {
      const request = {
        model_id: this.modelId,
        seq_id: seqId,
        data: [
          {
            model_input: { chunks: [{ type: "encoded_text" as const, tokens: [0] }] },
            loss_fn_inputs: {
              target_tokens: { data: [0], dtype: "int64" as const, shape: [1] },
              weights: { data: [0], dtype: "float32" as const, shape: [1] },
            },
          },
        ],
        loss_fn: "cross_entropy" as const,
        forward_only: true,
      };
      try {
        if (this.#wireFormat === "json") {
          await forwardBackwardJson(ctx.http, encodeForwardBackwardRequestJson(request), {
            signal: ctx.signal,
          });
        } else {
          await forwardBackwardProto(ctx.http, encodeForwardBackwardRequestProto(request), false, {
            signal: ctx.signal,
          });
        }
        ctx.logger.debug(
          `seq_id ${seqId} of ${this.modelId} was refused (${(cause as Error).message}); filled with a no-op`,
        );
      } catch (error) {
        ctx.logger.debug(`Filling seq_id ${seqId} of ${this.modelId} failed: ${(error as Error).message}`);
      }
    }
  }

  #withRetries<T>(send: () => Promise<T>, what: string): Promise<T> {
    const ctx = this.#ctx;
    return submitWithRetries(() => send(), {
      sleep: ctx.sleep,
      now: ctx.now,
      logger: ctx.logger,
      what,
      billingMaxPauseMs: ctx.billingMaxPauseMs,
      signal: ctx.signal,
    });
  }

  /**
   * One request with one seq id: reserve now, submit in turn (with the L2 retry layer), poll.
   * `savedPath`: a save whose retried submit gets 409 was saved by an earlier attempt (decision 3).
   */
  #single<R, T>(
    label: string,
    requestType: FutureRequestType,
    decoder: ResultDecoder<R>,
    make: (seqId: number) => { submit: () => Promise<SubmitAck>; map: (r: R) => T; savedPath?: string },
  ): TinkerFuture<T> {
    const turn = this.#gate.reserve(1);
    const ctx = this.#ctx;
    const { submit, map, savedPath } = make(turn.seqIds[0]!);
    return new TinkerFuture(async (handle) => {
      const started = ctx.now();
      let ack: SubmitAck | undefined;
      try {
        await turn.wait();
        ack = await submitWithRetries(
          async (attempt) => {
            try {
              return await submit();
            } catch (error) {
              if (savedPath !== undefined && attempt > 0 && error instanceof ConflictError) {
                ctx.logger.debug(
                  `${label}: a retried save got 409; an earlier attempt reached the server, so ${savedPath} is saved`,
                );
                return undefined;
              }
              throw error;
            }
          },
          {
            sleep: ctx.sleep,
            now: ctx.now,
            logger: ctx.logger,
            what: label,
            billingMaxPauseMs: ctx.billingMaxPauseMs,
            signal: ctx.signal,
          },
        );
      } catch (error) {
        await this.#fillSeqGap(turn.seqIds, error);
        throw error;
      } finally {
        turn.release();
      }
      if (ack === undefined) return map({ path: savedPath } as R);
      handle.setRequestId(ack.request_id);
      const result = await pollFuture({
        ...pollBase(ctx, started),
        requestId: ack.request_id,
        requestType,
        decoder,
        wireFormat: this.#wireFormat,
        onQueueState: handle.emitQueueState,
      });
      return map(result);
    }, label);
  }

  #load(path: string, optimizer: boolean, options: LoadStateOptions): TinkerFuture<LoadStateResult> {
    parseTinkerPath(path, "path");
    const token = checkWeightsAccessToken(options.weightsAccessToken);
    return this.#single(
      optimizer ? "loadStateWithOptimizer" : "loadState",
      "LoadWeights",
      { name: "LoadWeightsResponse", json: loadWeightsResult },
      (seqId) => ({
        submit: () =>
          loadWeights(
            this.#ctx.http,
            {
              model_id: this.modelId,
              seq_id: seqId,
              path,
              optimizer,
              ...(token !== undefined ? { weights_access_token: token } : {}),
              type: "load_weights",
            },
            { signal: this.#ctx.signal },
          ),
        map: (r) => ({ path: r.path ?? undefined }),
      }),
    );
  }
}

function pollBase(ctx: ClientContext, started: number) {
  return {
    transport: ctx.transport,
    sleep: ctx.sleep,
    now: ctx.now,
    logger: ctx.logger,
    billingMaxPauseMs: ctx.billingMaxPauseMs,
    createPromiseRoundtripSec: (ctx.now() - started) / 1000,
    signal: ctx.signal,
  };
}
