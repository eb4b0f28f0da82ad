// TrainingClient: one LoRA model on the server (contract 2.8, 3.1, 4.4-4.6, 5.4). Every method that
// submits work checks its input (params.ts), takes its seq ids at once (so call order is execution
// order; sequencer.ts), and returns a TinkerFuture right away. The future's work waits for its turn
// (every earlier call acknowledged), submits, then polls outside the turn gate. So
//
//   const fb = training.forwardBackward(batch, "cross_entropy");
//   const step = training.optimStep({ learningRate: 1e-3 });
//   await Promise.all([fb, step]);
//
// submits forward_backward then optim_step, in that order, without waiting for the first result.
// forward/forwardBackward go on to forward-backward.ts, forwardBackwardCustom to custom-loss.ts;
// the client is made by model-creation.ts.

import {
  loadWeights,
  loadWeightsResult,
  optimStep,
  optimStepResult,
  saveWeights,
  saveWeightsForSampler,
  saveWeightsForSamplerResult,
  saveWeightsResult,
} from "../../api/training.js";
import { ResponseValidationError } from "../../client/errors.js";
import type { LossTensor } from "../../custom-loss/tensor.js";
import {
  type CheckedCallOptions,
  callScope,
  checkCallOptions,
  type FutureCallOptions,
} from "../../futures/call-options.js";
import { TinkerFuture } from "../../futures/future.js";
import type { WireFormat } from "../../futures/poll.js";
import { parseTinkerPath } from "../../paths/tinker-path.js";
import { captureFailures } from "../../telemetry/capture.js";
import type { Telemetry } from "../../telemetry/telemetry.js";
import { type ResolveTokenizerOptions, resolveTokenizer } from "../../tokenizer/resolve.js";
import type { Tokenizer } from "../../tokenizer/types.js";
import type { LossFnConfig, LossFnType, AdamParams as WireAdamParams } from "../../wire/types.js";
import { type ClientContext, checkWireFormat } from "../context.js";
import { SamplingClient } from "../sampling/sampling-client.js";
import type { SamplingClientOptions } from "../sampling/types.js";
import { forwardBackwardCustom } from "./custom-loss.js";
import { prepareBatch, runForwardBackward, toResult } from "./forward-backward.js";
import { fetchTrainingInfo } from "./info.js";
import { checkName, checkTtl, checkWeightsAccessToken, toWireAdamParams } from "./params.js";
import { requestOptions, Sequencer } from "./sequencer.js";
import type {
  AdamStepParams,
  CheckpointResult,
  CustomLossFn,
  CustomLossResult,
  DatumLike,
  ForwardBackwardResult,
  LoadStateOptions,
  LoadStateResult,
  OptimStepResult,
  SaveOptions,
  TrainingInfo,
} from "./types.js";

/** Python 0.25 warns (DeprecationWarning) that the name has no effect. */
function warnNameIgnored(ctx: ClientContext): void {
  ctx.logger.warn(
    "saveWeightsAndGetSamplingClient(name): the name is deprecated and has no effect; the weights are " +
      "always saved ephemerally. For a kept checkpoint use saveWeightsForSampler(name) and then " +
      "createSamplingClient(path).",
  );
}

/**
 * One LoRA model being trained on the server. Made by ServiceClient.createLoraTrainingClient or
 * createTrainingClientFromState. Every method that submits work checks its input at once, takes its
 * place in this model's order at once, and returns a {@link TinkerFuture}: calls run on the server
 * in the order they were made, without awaiting each other.
 */
export class TrainingClient {
  /** The training run's model id (`<session>:train:<n>`), as the server names it. */
  readonly modelId: string;
  readonly #ctx: ClientContext;
  readonly #seq: Sequencer;
  #baseModel: string | undefined;
  #warnedNameIgnored = false;

  /** @internal Use ServiceClient.createLoraTrainingClient / createTrainingClientFromState. */
  constructor(
    ctx: ClientContext,
    modelId: string,
    options: { baseModel?: string; wireFormat?: WireFormat; firstSeqId?: number } = {},
  ) {
    this.#ctx = ctx;
    this.modelId = modelId;
    this.#baseModel = options.baseModel;
    this.#seq = new Sequencer(ctx, modelId, checkWireFormat(options.wireFormat), options.firstSeqId ?? 1);
  }

  /** The base model, when known (it is after creation from a name or a checkpoint). */
  get baseModel(): string | undefined {
    return this.#baseModel;
  }

  /**
   * A forward pass (no gradients): per-datum outputs such as `logprobs`, and metrics. `options`
   * stop ({ signal, timeout }) or decorate ({ headers }) this call only; see {@link FutureCallOptions}.
   */
  forward(
    data: readonly DatumLike[],
    lossFn: LossFnType,
    lossFnConfig?: LossFnConfig,
    options?: FutureCallOptions,
  ): TinkerFuture<ForwardBackwardResult> {
    return this.#forwardBackward(data, lossFn, lossFnConfig, true, "forward", options);
  }

  /**
   * Forward and backward: gradients accumulate on the server until the next optimStep. `options`
   * as for {@link TrainingClient.forward}; a call stopped after the server accepted it is still
   * applied (in its place in this model's order).
   */
  forwardBackward(
    data: readonly DatumLike[],
    lossFn: LossFnType,
    lossFnConfig?: LossFnConfig,
    options?: FutureCallOptions,
  ): TinkerFuture<ForwardBackwardResult> {
    return this.#forwardBackward(data, lossFn, lossFnConfig, false, "forwardBackward", options);
  }

  /**
   * Forward and backward with a loss computed here (contract 4.4): a forward pass gives the
   * logprobs of `target_tokens`, `lossFn` turns them into a loss and its gradient, and a
   * cross-entropy pass with weights −gradient puts exactly that gradient into the model. Datums may
   * carry only `target_tokens` (and `weights`, which is ignored). Write the loss once with
   * {@link LossTensor} operations and pass `differentiableLoss(fn)` to have the gradient derived.
   * `options` as for {@link TrainingClient.forward}: a call stopped between its two passes still
   * sends the second one's seq ids (as no-ops), so later calls are not held.
   */
  forwardBackwardCustom(
    data: readonly DatumLike[],
    lossFn: CustomLossFn,
    options?: FutureCallOptions,
  ): TinkerFuture<CustomLossResult> {
    const checked = checkCallOptions(options, "forwardBackwardCustom");
    return forwardBackwardCustom(this.#seq, this.#baseModel, data, lossFn, checked);
  }

  /**
   * Applies the accumulated gradients with Adam (contract 4.6 defaults) and clears them. `options`
   * as for {@link TrainingClient.forward}.
   */
  optimStep(
    adamParams: AdamStepParams | WireAdamParams = {},
    options?: FutureCallOptions,
  ): TinkerFuture<OptimStepResult> {
    const params = toWireAdamParams(adamParams);
    const checked = checkCallOptions(options, "optimStep");
    return this.#seq.single(
      "optimStep",
      "OptimStep",
      { name: "OptimStepResponse", json: optimStepResult },
      (seqId) => ({
        submit: (scope) =>
          optimStep(
            this.#ctx.http,
            { adam_params: params, model_id: this.modelId, seq_id: seqId, type: "optim_step" },
            requestOptions(scope),
          ),
        map: (r) => ({ metrics: r.metrics ?? {} }),
      }),
      checked,
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
    return this.#seq.single(
      "saveState",
      "SaveWeights",
      { name: "SaveWeightsResponse", json: saveWeightsResult },
      (seqId) => ({
        submit: (scope) =>
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
            requestOptions(scope),
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
    return this.#seq.single(
      "saveWeightsForSampler",
      "SaveWeightsForSampler",
      { name: "SaveWeightsForSamplerResponse", json: saveWeightsForSamplerResult },
      (seqId) => ({
        submit: (scope) =>
          saveWeightsForSampler(
            this.#ctx.http,
            {
              model_id: this.modelId,
              path: name,
              seq_id: seqId,
              ...(ttl !== undefined ? { ttl_seconds: ttl } : {}),
              type: "save_weights_for_sampler",
            },
            requestOptions(scope),
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
   * Saves the current weights for sampling, ephemerally (no checkpoint is listed or kept, contract
   * 4.10), and returns a SamplingClient on them. As in the Python SDK 0.25, `name` is deprecated and
   * ignored (a warning is logged, once per TrainingClient): for a kept checkpoint, call
   * `saveWeightsForSampler(name)` and then `createSamplingClient(path)`.
   */
  async saveWeightsAndGetSamplingClient(
    name?: string,
    options: SamplingClientOptions = {},
  ): Promise<SamplingClient> {
    const ctx = this.#ctx;
    SamplingClient.checkOptions(options);
    if (name !== undefined && !this.#warnedNameIgnored) {
      this.#warnedNameIgnored = true;
      warnNameIgnored(ctx);
    }
    const samplingOptions = { ...options, ...(this.#baseModel ? { baseModel: this.#baseModel } : {}) };
    const samplingSeqId = ctx.counters.nextSamplingSessionSeqId();
    const future = this.#seq.single(
      "saveWeightsAndGetSamplingClient",
      "SaveWeightsForSampler",
      { name: "SaveWeightsForSamplerResponse", json: saveWeightsForSamplerResult },
      (seqId) => ({
        submit: (scope) =>
          saveWeightsForSampler(
            ctx.http,
            {
              model_id: this.modelId,
              seq_id: seqId,
              sampling_session_seq_id: samplingSeqId,
              type: "save_weights_for_sampler",
            },
            requestOptions(scope),
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

  /**
   * A SamplingClient on saved sampler weights (`tinker://…/sampler_weights/<name>`) in this
   * client's session, as Python's `TrainingClient.create_sampling_client(model_path)`; the same as
   * `serviceClient.createSamplingClient({modelPath})`.
   */
  createSamplingClient(modelPath: string, options: SamplingClientOptions = {}): Promise<SamplingClient> {
    return SamplingClient.create(this.#ctx, {
      ...options,
      modelPath,
      ...(this.#baseModel ? { baseModel: this.#baseModel } : {}),
    });
  }

  /** The session's telemetry (Python's `get_telemetry()`); undefined when telemetry is off. */
  getTelemetry(): Telemetry | undefined {
    return this.#ctx.telemetry;
  }

  /** Model facts from the server (`get_info`). */
  async getInfo(): Promise<TrainingInfo> {
    return fetchTrainingInfo(this.#ctx, this.modelId, this.#ctx.signal);
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

  #forwardBackward(
    data: readonly DatumLike[],
    lossFn: LossFnType,
    lossFnConfig: LossFnConfig | undefined,
    forwardOnly: boolean,
    call: "forward" | "forwardBackward",
    options: FutureCallOptions | undefined,
  ): TinkerFuture<ForwardBackwardResult> {
    // Everything is checked before a seq id is taken: a refused call leaves no hole in the order.
    const checked: CheckedCallOptions = checkCallOptions(options, call);
    const input = prepareBatch(this.#ctx, data, lossFn, lossFnConfig, call, this.#baseModel);
    const turns = this.#seq.reserveChunks(input.chunks.length);
    return new TinkerFuture(
      async (handle) => {
        const out = await runForwardBackward(
          this.#seq,
          input,
          { lossFn, lossFnConfig, forwardOnly, headers: checked.headers },
          turns,
          handle,
        );
        return toResult(out);
      },
      call,
      callScope(this.#ctx.signal, this.#ctx.clock, checked),
    );
  }

  #load(path: string, optimizer: boolean, options: LoadStateOptions): TinkerFuture<LoadStateResult> {
    parseTinkerPath(path, "path");
    const token = checkWeightsAccessToken(options.weightsAccessToken);
    return this.#seq.single(
      optimizer ? "loadStateWithOptimizer" : "loadState",
      "LoadWeights",
      { name: "LoadWeightsResponse", json: loadWeightsResult },
      (seqId) => ({
        submit: (scope) =>
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
            requestOptions(scope),
          ),
        map: (r) => ({ path: r.path ?? undefined }),
      }),
    );
  }
}

// Failures of these calls go to the session's telemetry, as Python's @capture_exceptions(fatal=True).
captureFailures(TrainingClient, [
  "forward",
  "forwardBackward",
  "forwardBackwardCustom",
  "optimStep",
  "saveState",
  "saveWeightsForSampler",
  "loadState",
  "loadStateWithOptimizer",
  "saveWeightsAndGetSamplingClient",
  "createSamplingClient",
  "getInfo",
]);
