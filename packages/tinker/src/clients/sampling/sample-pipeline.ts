// The work of one sample() call (contract 3.2, 4.8): take a permit of the client's semaphore,
// submit the SampleRequest (a 429 is backpressure: wait 1 s, or 5 s for a large prompt, and
// resubmit the same request with the same seq_id), poll for the result, and, when the server loses
// the request (410) or the transport fails, resubmit with a new seq_id (the official client's L3
// retry, bounded by `maxResubmits` and by the stuck-detection timeout).

import { asample } from "../../api/sampling.js";
import { APIConnectionError, APIError, FutureExpiredError, RateLimitError } from "../../client/errors.js";
import { abortableSleep, type Backoff, backoffMs } from "../../client/wait.js";
import type { FutureHandle } from "../../futures/future.js";
import { pollFuture, type ResultDecoder, type WireFormat } from "../../futures/poll.js";
import { submitWithRetries } from "../../futures/submit.js";
import { decodeSampleResponseJson } from "../../wire/json-codec.js";
import { decodeSampleResponseProto } from "../../wire/proto-codec.js";
import type { SampleRequest, SampleResponse, WireModelInput } from "../../wire/types.js";
import type { ClientContext } from "../context.js";
import { Semaphore } from "./semaphore.js";
import type { SampleResult } from "./types.js";

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

/** The wire's SampleResponse as the public SampleResult. */
export function toSampleResult(res: SampleResponse): SampleResult {
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

/** What a pipeline needs to know of its client. */
export interface SamplePipelineOptions {
  /** The sampler, for messages. */
  samplingSessionId: string;
  /** The wire format of results. */
  wireFormat: WireFormat;
  /** Resubmits allowed per call after a lost request or a transport failure. */
  maxResubmits: number;
  /** Fail a resubmit when no call has finished for this long. */
  stuckTimeoutMs: number;
}

/**
 * The sample() calls of one SamplingClient: its semaphore, its seq ids (one per attempt) and the
 * time the last call finished (for stuck detection).
 */
export class SamplePipeline {
  readonly #ctx: ClientContext;
  readonly #options: SamplePipelineOptions;
  readonly #semaphore: Semaphore;
  #seq = 0;
  #lastProgressAt: number;

  /** A pipeline on `ctx` with the client's (already checked) options. */
  constructor(ctx: ClientContext, options: SamplePipelineOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#semaphore = new Semaphore(ctx.config.sampleMaxConcurrentRequests);
    this.#lastProgressAt = ctx.now();
  }

  /** Runs one call to its SampleResponse: submit, poll, resubmit when lost. */
  async run(request: Omit<SampleRequest, "seq_id">, handle: FutureHandle): Promise<SampleResponse> {
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
            wireFormat: this.#options.wireFormat,
            onQueueState: handle.emitQueueState,
          });
          this.#lastProgressAt = ctx.now();
          return result;
        } catch (error) {
          if (ctx.signal.aborted || ctx.config.sampleNoRetries || !isResubmittable(error)) throw error;
          if (attempt >= this.#options.maxResubmits) throw error;
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
    const { stuckTimeoutMs, samplingSessionId } = this.#options;
    if (idle > stuckTimeoutMs) {
      throw new APIConnectionError(
        `No progress made: no sample() on sampler ${samplingSessionId} has finished for ${Math.round(idle / 1000)} s ` +
          `(stuckTimeoutMs ${stuckTimeoutMs}); last error: ${(cause as Error).message}`,
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
