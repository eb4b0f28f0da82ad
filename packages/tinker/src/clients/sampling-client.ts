// SamplingClient: sample() and computeLogprobs() on one sampling session (contract 2.9, 3.2, 4.7,
// 4.8). Each call is one TinkerFuture whose work is: submit the JSON SampleRequest (a 429 is
// backpressure: wait 1 s, or 5 s for a large prompt, and resubmit the same request with the same
// seq_id), poll for the result, and, when the server loses the request (410) or the transport fails,
// resubmit with a new seq_id (the official client's L3 retry, bounded here by `maxResubmits` and by
// the stuck-detection timeout).

import { getSampler } from "../api/rest.js";
import { asample, createSamplingSession } from "../api/sampling.js";
import {
  APIConnectionError,
  APIError,
  FutureExpiredError,
  RateLimitError,
  ResponseValidationError,
  ValidationError,
} from "../client/errors.js";
import type { ClientOptions } from "../client/options.js";
import { abortableSleep, type Backoff, backoffMs } from "../client/wait.js";
import { type FutureHandle, TinkerFuture } from "../futures/future.js";
import { pollFuture, type ResultDecoder, type WireFormat } from "../futures/poll.js";
import { submitWithRetries } from "../futures/submit.js";
import { parseTinkerPath } from "../paths/tinker-path.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { knownVocabSize, type ResolveTokenizerOptions, resolveTokenizer } from "../tokenizer/resolve.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { decodeSampleResponseJson } from "../wire/json-codec.js";
import { ModelInput, type TokenInput } from "../wire/model-input.js";
import { decodeSampleResponseProto } from "../wire/proto-codec.js";
import type {
  SampleRequest,
  SampleResponse,
  StopReason,
  TopkRow,
  WireModelInput,
  WireSamplingParams,
} from "../wire/types.js";
import { chunkLength } from "../wire/validate.js";
import { type ClientContext, checkWireFormat, type WireFormatOption } from "./context.js";
import {
  checkDescriptor,
  openDescriptorContext,
  SAMPLING_DESCRIPTOR_KIND,
  type SamplingClientDescriptor,
} from "./sampling-descriptor.js";

/**
 * How sample() samples, in camelCase: `import { SamplingParams } from "tinker-ts"`. Checked before
 * anything is sent and sent as the wire's `WireSamplingParams` (temperature, top_k and top_p always).
 */
export interface SamplingParams {
  /** Unset: up to the model's context. */
  maxTokens?: number;
  /** Default 1. 0 is greedy on servers that support it. */
  temperature?: number;
  /** -1 (default) means no limit. */
  topK?: number;
  /** Default 1. */
  topP?: number;
  /** Same seed, same prompt, same samples. */
  seed?: number;
  /** Stop strings, or stop token ids. */
  stop?: string | string[] | number[];
}

/** Options of `SamplingClient.sample`. */
export interface SampleOptions {
  /** Default 1. */
  numSamples?: number;
  /** How to sample; the contract's defaults (temperature 1, no top-k or top-p limit) when absent. */
  samplingParams?: SamplingParams;
  /** Also return the log-probability of every prompt token (the first is null). */
  includePromptLogprobs?: boolean;
  /** Also return the top-k tokens at every prompt position. Default 0 (none). */
  topkPromptLogprobs?: number;
}

/** One generated sequence. */
export interface SampledSequenceResult {
  /** The generated token ids (not the prompt); decode them with the model's tokenizer. */
  tokens: number[];
  /** Log-probability of each generated token, when the server sent them. */
  logprobs?: number[];
  /**
   * `stop` (a stop string, stop token or end of sequence) or `length` (`maxTokens` or the context
   * ran out).
   */
  stopReason: StopReason;
}

/** What `SamplingClient.sample` returns. */
export interface SampleResult {
  /** `numSamples` sequences. */
  sequences: SampledSequenceResult[];
  /** With `includePromptLogprobs`: one per prompt token, null for the first. */
  promptLogprobs?: (number | null)[];
  /** With `topkPromptLogprobs` > 0: per prompt position, the k most likely `[tokenId, logprob]` pairs. */
  topkPromptLogprobs?: TopkRow[];
  /** Prompt tokens the server found in its prefix cache (0 when none or not reported). */
  promptCacheHitTokens: number;
}

/** How a sampling client retries lost or failed calls, and its wire format. */
export interface SamplingClientOptions extends WireFormatOption {
  /**
   * How many times one call may be resubmitted after the server lost it (410) or the transport
   * failed. Default Infinity, as the official client; the stuck timeout still applies.
   */
  maxResubmits?: number;
  /**
   * Fail a call that has to resubmit when no sample() of this client has finished for this long.
   * Default 7 200 000 ms (2 h); the server can turn it off (`sample_enable_stuck_detection`).
   */
  stuckTimeoutMs?: number;
}

/** A prompt: a ModelInput, its wire form, or plain token ids. */
export type PromptInput = ModelInput | WireModelInput | TokenInput;

/** Options of `ServiceClient.createSamplingClient`: what to sample from (one of `modelPath`, `baseModel`). */
export interface CreateSamplingClientOptions extends SamplingClientOptions {
  /** A `tinker://…` path of saved weights. */
  modelPath?: string;
  /** A base model name, to sample from the base model. */
  baseModel?: string;
}

const SAMPLE_DECODER: ResultDecoder<SampleResponse> = {
  name: "SampleResponse",
  proto: decodeSampleResponseProto,
  json: decodeSampleResponseJson,
};

/** Between resubmits of a lost sample (the L3 retry): 0.5 s doubling to 10 s, less up to 25 % jitter. */
const RESUBMIT_BACKOFF: Backoff = { baseMs: 500, maxMs: 10_000, jitter: 0.25 };

/** Contract 3.2: the backoff after a 429 depends on the prompt's estimated size. */
export const SAMPLING_BACKPRESSURE = {
  smallPromptBytes: 128 * 1024,
  smallWaitMs: 1000,
  largeWaitMs: 5000,
} as const;

/** Contract 1.7: 10 bytes per token; images count their bytes. */
export function estimatePromptBytes(prompt: WireModelInput): number {
  let total = 0;
  for (const chunk of prompt.chunks) {
    if (chunk.type === "image") total += Math.ceil((chunk.data.length * 3) / 4);
    else if (chunk.type === "dmel") total += Math.ceil((chunk.dmel.length * 3) / 4);
    else if (chunk.type === "image_asset_pointer") total += chunk.location.length;
    else total += chunk.tokens.length * 10;
  }
  return total;
}

/** A counting semaphore for `sample_max_concurrent_requests`. */
class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = Math.max(1, size);
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

function toPrompt(prompt: PromptInput): ModelInput {
  if (prompt instanceof ModelInput) return prompt;
  if (typeof prompt === "object" && prompt !== null && "chunks" in prompt) return ModelInput.fromWire(prompt);
  return ModelInput.fromInts(prompt as TokenInput);
}

function checkInt(value: number, field: string, min: number, what = `an integer >= ${min}`): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(`${field} must be ${what}, got ${value}`, field);
  }
  return value;
}

/** SamplingParams in their wire form, checked (contract 4.7: the three with defaults always sent). */
export function toWireSamplingParams(params: SamplingParams = {}): WireSamplingParams {
  const known = new Set(["maxTokens", "temperature", "topK", "topP", "seed", "stop"]);
  for (const key of Object.keys(params)) {
    if (!known.has(key)) {
      throw new ValidationError(
        `samplingParams.${key} is not a sampling parameter; known: ${[...known].join(", ")}`,
        `samplingParams.${key}`,
      );
    }
  }
  const out: WireSamplingParams = {
    temperature: params.temperature ?? 1,
    top_k: params.topK ?? -1,
    top_p: params.topP ?? 1,
  };
  if (!Number.isFinite(out.temperature) || out.temperature < 0) {
    throw new ValidationError(
      `samplingParams.temperature must be a number >= 0, got ${out.temperature}`,
      "samplingParams.temperature",
    );
  }
  checkInt(out.top_k, "samplingParams.topK", -1, "-1 (no limit) or an integer >= 0");
  if (!Number.isFinite(out.top_p) || out.top_p <= 0 || out.top_p > 1) {
    throw new ValidationError(
      `samplingParams.topP must be in (0, 1], got ${out.top_p}`,
      "samplingParams.topP",
    );
  }
  if (params.maxTokens !== undefined)
    out.max_tokens = checkInt(params.maxTokens, "samplingParams.maxTokens", 0);
  if (params.seed !== undefined) out.seed = checkInt(params.seed, "samplingParams.seed", 0);
  if (params.stop !== undefined) {
    const stop = params.stop;
    const ok =
      typeof stop === "string" ||
      (Array.isArray(stop) &&
        ((stop as unknown[]).every((s) => typeof s === "string") ||
          (stop as unknown[]).every((s) => typeof s === "number" && Number.isSafeInteger(s) && s >= 0)));
    if (!ok) {
      throw new ValidationError(
        "samplingParams.stop must be a string, a list of strings, or a list of token ids (integers >= 0)",
        "samplingParams.stop",
      );
    }
    out.stop = Array.isArray(stop) ? ([...stop] as string[] | number[]) : stop;
  }
  return out;
}

/** Token ids of a prompt (and stop ids) must be inside the vocabulary when the model's is known. */
export function checkTokensInVocab(
  prompt: WireModelInput,
  vocabSize: number | undefined,
  field: string,
): void {
  if (vocabSize === undefined) return;
  prompt.chunks.forEach((chunk, c) => {
    if (chunk.type !== "encoded_text") return;
    const i = chunk.tokens.findIndex((t) => t >= vocabSize);
    if (i >= 0) {
      throw new ValidationError(
        `${field}.chunks[${c}].tokens[${i}]: token ${chunk.tokens[i]} is outside the model's vocabulary [0, ${vocabSize})`,
        `${field}.chunks[${c}].tokens[${i}]`,
      );
    }
  });
}

function toResult(res: SampleResponse): SampleResult {
  const out: SampleResult = {
    sequences: res.sequences.map((s) => ({
      tokens: s.tokens,
      ...(s.logprobs ? { logprobs: s.logprobs } : {}),
      stopReason: s.stop_reason,
    })),
    promptCacheHitTokens: res.prompt_cache_hit_tokens ?? 0,
  };
  if (res.prompt_logprobs) out.promptLogprobs = res.prompt_logprobs;
  if (res.topk_prompt_logprobs) out.topkPromptLogprobs = res.topk_prompt_logprobs;
  return out;
}

/** The L3 layer's retryable failures: lost futures and transport trouble (409 is not, decision 3). */
function isResubmittable(error: unknown): boolean {
  if (error instanceof FutureExpiredError || error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError)) return false;
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

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
  readonly #stuckTimeoutMs: number;
  readonly #semaphore: Semaphore;
  #baseModel: string | undefined;
  #close: (() => void) | undefined;
  #seq = 0;
  #lastProgressAt: number;

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
    this.#stuckTimeoutMs = options.stuckTimeoutMs ?? 7_200_000;
    if (!(this.#maxResubmits >= 0)) throw new ValidationError("maxResubmits must be >= 0", "maxResubmits");
    if (!(this.#stuckTimeoutMs > 0))
      throw new ValidationError("stuckTimeoutMs must be > 0", "stuckTimeoutMs");
    this.#baseModel = options.baseModel;
    this.#semaphore = new Semaphore(ctx.config.sampleMaxConcurrentRequests);
    this.#lastProgressAt = ctx.now();
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
      stuckTimeoutMs: this.#stuckTimeoutMs,
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
    checkWireFormat(options.wireFormat);
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
   * logprobs of sampled tokens are included when the server sends them.
   */
  sample(prompt: PromptInput, options: SampleOptions = {}): TinkerFuture<SampleResult> {
    const request = this.#buildRequest(prompt, options);
    return new TinkerFuture(async (handle) => toResult(await this.#run(request, handle)), "sample");
  }

  /** The log-probability of every prompt token under the model; the first entry is null. */
  computeLogprobs(prompt: PromptInput): TinkerFuture<(number | null)[]> {
    const request = this.#buildRequest(prompt, {
      numSamples: 1,
      samplingParams: { maxTokens: 1 },
      includePromptLogprobs: true,
    });
    return new TinkerFuture(async (handle) => {
      const res = await this.#run(request, handle);
      if (!res.prompt_logprobs) {
        throw new ResponseValidationError(
          "The server's sample result has no prompt_logprobs although they were asked for",
        );
      }
      return res.prompt_logprobs;
    }, "computeLogprobs");
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

  #buildRequest(prompt: PromptInput, options: SampleOptions): Omit<SampleRequest, "seq_id"> {
    const known = new Set(["numSamples", "samplingParams", "includePromptLogprobs", "topkPromptLogprobs"]);
    for (const key of Object.keys(options)) {
      if (!known.has(key)) throw new ValidationError(`${key} is not a sample() option`, key);
    }
    const input = toPrompt(prompt).toWire();
    if (input.chunks.length === 0 || input.chunks.every((c) => chunkLength(c) === 0)) {
      throw new ValidationError("prompt is empty; give at least one token", "prompt");
    }
    checkTokensInVocab(input, this.#baseModel ? knownVocabSize(this.#baseModel) : undefined, "prompt");
    const samplingParams = toWireSamplingParams(options.samplingParams);
    const vocab = this.#baseModel ? knownVocabSize(this.#baseModel) : undefined;
    if (vocab !== undefined && Array.isArray(samplingParams.stop)) {
      const bad = (samplingParams.stop as unknown[]).find((s) => typeof s === "number" && s >= vocab);
      if (bad !== undefined) {
        throw new ValidationError(
          `samplingParams.stop: token ${bad} is outside the model's vocabulary [0, ${vocab})`,
          "samplingParams.stop",
        );
      }
    }
    return {
      type: "sample",
      num_samples: checkInt(options.numSamples ?? 1, "numSamples", 1),
      prompt: input,
      sampling_params: samplingParams,
      sampling_session_id: this.samplingSessionId,
      prompt_logprobs: options.includePromptLogprobs ?? false,
      topk_prompt_logprobs: checkInt(options.topkPromptLogprobs ?? 0, "topkPromptLogprobs", 0),
    };
  }

  async #run(request: Omit<SampleRequest, "seq_id">, handle: FutureHandle) {
    const ctx = this.#ctx;
    const release = await this.#semaphore.acquire();
    try {
      const started = ctx.now();
      const promptBytes = estimatePromptBytes(request.prompt);
      for (let attempt = 0; ; attempt++) {
        const body: SampleRequest = { ...request, seq_id: this.#seq++ };
        try {
          const ack = await this.#submit(body, promptBytes);
          handle.setRequestId(ack.request_id);
          const result = await pollFuture({
            ...ctx.pollOptions(started),
            requestId: ack.request_id,
            requestType: "Sample",
            decoder: SAMPLE_DECODER,
            wireFormat: this.#wireFormat,
            onQueueState: handle.emitQueueState,
          });
          this.#lastProgressAt = ctx.now();
          return result;
        } catch (error) {
          if (ctx.signal.aborted || ctx.config.sampleNoRetries || !isResubmittable(error)) throw error;
          if (attempt >= this.#maxResubmits) throw error;
          this.#checkStuck(error);
          const delay = backoffMs(RESUBMIT_BACKOFF, attempt, Math.random());
          ctx.logger.info(
            `Resubmitting sample (attempt ${attempt + 2}) in ${(delay / 1000).toFixed(2)} s: ${(error as Error).message}`,
          );
          await abortableSleep(ctx.sleep, delay, ctx.signal);
        }
      }
    } finally {
      release();
    }
  }

  #checkStuck(cause: unknown): void {
    if (!this.#ctx.config.sampleEnableStuckDetection) return;
    const idle = this.#ctx.now() - this.#lastProgressAt;
    if (idle > this.#stuckTimeoutMs) {
      throw new APIConnectionError(
        `No progress made: no sample() on sampler ${this.samplingSessionId} has finished for ${Math.round(idle / 1000)} s ` +
          `(stuckTimeoutMs ${this.#stuckTimeoutMs}); last error: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  /** One submission: 429 is backpressure (same body, same seq_id); the rest goes through L2. */
  #submit(body: SampleRequest, promptBytes: number) {
    const ctx = this.#ctx;
    const wait =
      promptBytes <= SAMPLING_BACKPRESSURE.smallPromptBytes
        ? SAMPLING_BACKPRESSURE.smallWaitMs
        : SAMPLING_BACKPRESSURE.largeWaitMs;
    return submitWithRetries(async () => {
      for (;;) {
        const release = await ctx.throttles.acquireSample(promptBytes, ctx.sleep, ctx.signal);
        try {
          return await asample(ctx.http, body, { signal: ctx.signal });
        } catch (error) {
          if (!(error instanceof RateLimitError)) throw error;
          ctx.throttles.sampleRateLimited(wait);
          this.#checkStuck(error);
          ctx.logger.debug(`Sampling backpressure (429): resubmitting seq ${body.seq_id} in ${wait} ms`);
        } finally {
          // Held until the server answers the POST, not until the sample is done.
          release();
        }
      }
    }, ctx.submitOptions("sample"));
  }
}
