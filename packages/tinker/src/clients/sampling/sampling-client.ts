// SamplingClient: sample() and computeLogprobs() on one sampling session (contract 2.9, 3.2, 4.7,
// 4.8). Each call checks its input (params.ts) and returns a TinkerFuture at once; the future's
// work (submit, backpressure, poll, resubmit) is sample-pipeline.ts.

import { getSampler } from "../../api/rest.js";
import { createSamplingSession } from "../../api/sampling.js";
import { ResponseValidationError, ValidationError } from "../../client/errors.js";
import type { ClientOptions } from "../../client/options.js";
import { callScope, checkCallOptions, type FutureCallOptions } from "../../futures/call-options.js";
import { TinkerFuture } from "../../futures/future.js";
import type { WireFormat } from "../../futures/poll.js";
import { parseTinkerPath } from "../../paths/tinker-path.js";
import { captureFailures } from "../../telemetry/capture.js";
import type { Telemetry } from "../../telemetry/telemetry.js";
import { type ResolveTokenizerOptions, resolveTokenizer } from "../../tokenizer/resolve.js";
import type { Tokenizer } from "../../tokenizer/types.js";
import { type ClientContext, checkWireFormat } from "../context.js";
import {
  checkDescriptor,
  openDescriptorContext,
  SAMPLING_DESCRIPTOR_KIND,
  type SamplingClientDescriptor,
} from "./descriptor.js";
import { buildSampleRequest } from "./params.js";
import { type ResolvedRetryConfig, resolveRetryConfig } from "./retry-config.js";
import { SamplePipeline, toSampleResult } from "./sample-pipeline.js";
import type {
  CreateSamplingClientOptions,
  PromptInput,
  SampleOptions,
  SampleResult,
  SamplingClientOptions,
} from "./types.js";

/**
 * Samples from a base model or saved weights. Get one from `ServiceClient.createSamplingClient`
 * or `TrainingClient.saveWeightsAndGetSamplingClient`. Calls lost by the server (410) or by the
 * transport are resubmitted (see `maxResubmits`); bad parameters throw `ValidationError` before sending.
 */
export class SamplingClient {
  /** The server's id of this sampling session. */
  readonly samplingSessionId: string;
  readonly #ctx: ClientContext;
  readonly #wireFormat: WireFormat;
  readonly #maxResubmits: number;
  readonly #retry: ResolvedRetryConfig;
  readonly #pipeline: SamplePipeline;
  #baseModel: string | undefined;
  #close: (() => void) | undefined;

  /** @internal Use ServiceClient.createSamplingClient or TrainingClient.saveWeightsAndGetSamplingClient. */
  constructor(
    ctx: ClientContext,
    samplingSessionId: string,
    options: SamplingClientOptions & { baseModel?: string } = {},
  ) {
    this.#ctx = ctx;
    this.samplingSessionId = samplingSessionId;
    this.#wireFormat = checkWireFormat(options.wireFormat);
    this.#maxResubmits = options.maxResubmits ?? Number.POSITIVE_INFINITY;
    if (!(this.#maxResubmits >= 0)) throw new ValidationError("maxResubmits must be >= 0", "maxResubmits");
    if (options.stuckTimeoutMs !== undefined && !(options.stuckTimeoutMs > 0))
      throw new ValidationError("stuckTimeoutMs must be > 0", "stuckTimeoutMs");
    this.#retry = resolveRetryConfig(options.retryConfig, options.stuckTimeoutMs);
    this.#baseModel = options.baseModel;
    this.#pipeline = new SamplePipeline(ctx, {
      samplingSessionId,
      wireFormat: this.#wireFormat,
      maxResubmits: this.#maxResubmits,
      retry: this.#retry,
    });
  }

  /**
   * This client as plain data (no credential in it), to hand to a worker_thread with postMessage
   * or to another process as JSON; rebuild it there with {@link SamplingClient.fromDescriptor}.
   */
  toDescriptor(): SamplingClientDescriptor {
    return {
      kind: SAMPLING_DESCRIPTOR_KIND,
      version: 1,
      baseUrl: this.#ctx.http.baseUrl,
      sessionId: this.#ctx.sessionId,
      samplingSessionId: this.samplingSessionId,
      ...(this.#baseModel !== undefined ? { baseModel: this.#baseModel } : {}),
      wireFormat: this.#wireFormat,
      maxResubmits: Number.isFinite(this.#maxResubmits) ? this.#maxResubmits : null,
      stuckTimeoutMs: this.#retry.progressTimeout,
      retryConfig: {
        retryDelayBase: this.#retry.retryDelayBase,
        retryDelayMax: this.#retry.retryDelayMax,
        jitterFactor: this.#retry.jitterFactor,
        enableRetryLogic: this.#retry.enableRetryLogic,
        enableStuckDetection: this.#retry.enableStuckDetection,
      },
    };
  }

  /**
   * A SamplingClient on the same session and sampler as the one `descriptor` was made from, as the
   * Python SDK's unpickling gives: for worker threads and other processes. It opens its own
   * connection (credential from `options` or TINKER_API_KEY, as a ServiceClient would; the server
   * is the descriptor's unless `options.baseUrl` says otherwise) and creates no session. Call
   * {@link SamplingClient.close} when done.
   */
  static async fromDescriptor(
    descriptor: SamplingClientDescriptor,
    options: ClientOptions = {},
  ): Promise<SamplingClient> {
    const d = checkDescriptor(descriptor);
    const { ctx, close } = await openDescriptorContext(d, options);
    const client = new SamplingClient(ctx, d.samplingSessionId, {
      wireFormat: d.wireFormat,
      maxResubmits: d.maxResubmits ?? Number.POSITIVE_INFINITY,
      stuckTimeoutMs: d.stuckTimeoutMs,
      ...(d.retryConfig !== undefined ? { retryConfig: d.retryConfig } : {}),
      ...(d.baseModel !== undefined ? { baseModel: d.baseModel } : {}),
    });
    client.#close = close;
    return client;
  }

  /**
   * Closes the connection of a client made by {@link SamplingClient.fromDescriptor} (pending calls
   * then fail with an abort). For other clients it does nothing: their ServiceClient owns the
   * connection and closes it.
   */
  close(): void {
    this.#close?.();
    this.#close = undefined;
  }

  /**
   * @internal Checks a client's options (wire format, resubmits, retryConfig) with a
   * ValidationError, for callers that send something before they construct the client.
   */
  static checkOptions(options: SamplingClientOptions): void {
    checkWireFormat(options.wireFormat);
    if (options.maxResubmits !== undefined && !(options.maxResubmits >= 0))
      throw new ValidationError("maxResubmits must be >= 0", "maxResubmits");
    if (options.stuckTimeoutMs !== undefined && !(options.stuckTimeoutMs > 0))
      throw new ValidationError("stuckTimeoutMs must be > 0", "stuckTimeoutMs");
    resolveRetryConfig(options.retryConfig, options.stuckTimeoutMs);
  }

  /** @internal create_sampling_session, then the client. */
  static async create(ctx: ClientContext, options: CreateSamplingClientOptions): Promise<SamplingClient> {
    const { modelPath, baseModel } = options;
    if (modelPath === undefined && baseModel === undefined) {
      throw new ValidationError(
        "createSamplingClient needs modelPath (a tinker:// path of saved weights) or baseModel",
        "modelPath",
      );
    }
    if (modelPath !== undefined) parseTinkerPath(modelPath, "modelPath");
    if (baseModel !== undefined && (typeof baseModel !== "string" || baseModel === "")) {
      throw new ValidationError("baseModel must be a non-empty string", "baseModel");
    }
    SamplingClient.checkOptions(options);
    const id = await createSamplingSession(
      ctx.http,
      {
        session_id: ctx.sessionId,
        sampling_session_seq_id: ctx.counters.nextSamplingSessionSeqId(),
        ...(baseModel !== undefined ? { base_model: baseModel } : {}),
        ...(modelPath !== undefined ? { model_path: modelPath } : {}),
        type: "create_sampling_session",
      },
      { signal: ctx.signal },
    );
    return new SamplingClient(ctx, id, { ...options, ...(baseModel !== undefined ? { baseModel } : {}) });
  }

  /**
   * Samples `numSamples` continuations of `prompt`. The returned future resolves with the sequences;
   * logprobs of sampled tokens are included when the server sends them. `signal`, `timeout` and
   * `headers` stop or decorate this call only ({@link FutureCallOptions}): a sample stopped after
   * the server accepted it may still run there, but its result is not fetched.
   */
  sample(prompt: PromptInput, options: SampleOptions = {}): TinkerFuture<SampleResult> {
    const { signal, timeout, headers, ...sampleOptions } = options;
    const checked = checkCallOptions(
      {
        ...(signal !== undefined ? { signal } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        ...(headers !== undefined ? { headers } : {}),
      },
      "sample",
    );
    const request = buildSampleRequest(prompt, sampleOptions, this.samplingSessionId, this.#baseModel);
    return new TinkerFuture(
      (handle) => this.#pipeline.run(request, handle, checked.headers).then(toSampleResult),
      "sample",
      callScope(this.#ctx.signal, this.#ctx.clock, checked),
    );
  }

  /**
   * The log-probability of every prompt token under the model; the first entry is null. `options`
   * as for {@link SamplingClient.sample}.
   */
  computeLogprobs(prompt: PromptInput, options?: FutureCallOptions): TinkerFuture<(number | null)[]> {
    const checked = checkCallOptions(options, "computeLogprobs");
    const request = buildSampleRequest(
      prompt,
      { numSamples: 1, samplingParams: { maxTokens: 1 }, includePromptLogprobs: true },
      this.samplingSessionId,
      this.#baseModel,
    );
    return new TinkerFuture(
      async (handle) => {
        const res = await this.#pipeline.run(request, handle, checked.headers);
        if (!res.prompt_logprobs) {
          throw new ResponseValidationError(
            "The server's sample result has no prompt_logprobs although they were asked for",
          );
        }
        return res.prompt_logprobs;
      },
      "computeLogprobs",
      callScope(this.#ctx.signal, this.#ctx.clock, checked),
    );
  }

  /** The session's telemetry (Python's `get_telemetry()`); undefined when off or for a client from a descriptor. */
  getTelemetry(): Telemetry | undefined {
    return this.#ctx.telemetry;
  }

  /** The base model of this sampler (`GET samplers/{id}`, cached). */
  async getBaseModel(): Promise<string> {
    if (this.#baseModel === undefined) {
      const info = await getSampler(this.#ctx.http, this.samplingSessionId, { signal: this.#ctx.signal });
      this.#baseModel = info.baseModel;
    }
    return this.#baseModel;
  }

  /**
   * The tokenizer of the base model; see docs/training-and-sampling.md for models tinker-ts does
   * not know.
   */
  async getTokenizer(options: ResolveTokenizerOptions = {}): Promise<Tokenizer> {
    return resolveTokenizer(await this.getBaseModel(), options);
  }
}

// Failures of these calls go to the session's telemetry, as Python's @capture_exceptions(fatal=True).
captureFailures(SamplingClient, ["sample", "computeLogprobs", "getBaseModel"]);
