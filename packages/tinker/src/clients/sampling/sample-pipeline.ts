// The work of one sample() call (contract 3.2, 4.8): take a permit of the client's semaphore,
// submit the SampleRequest (a 429 is backpressure: wait 1 s, or 5 s for a large prompt, and
// resubmit the same request with the same seq_id), poll for the result, and, when the server loses
// the request (410) or the transport fails, resubmit with a new seq_id (the official client's L3
// retry, shaped by `retryConfig` and bounded by `maxResubmits`), while a watchdog stops a call when the
// client has made no progress for `retryConfig.progressTimeout` (Python's stuck detection).

import { asample } from "../../api/sampling.js";
import { RateLimitError } from "../../client/errors.js";
import { abortableSleep, abortError, type Backoff, backoffMs } from "../../client/wait.js";
import type { FutureHandle } from "../../futures/future.js";
import { pollFuture, type ResultDecoder, type WireFormat } from "../../futures/poll.js";
import { QueueStateLog, queueStateListeners } from "../../futures/queue-state-log.js";
import { submitWithRetries } from "../../futures/submit.js";
import { decodeSampleResponseJson } from "../../wire/json-codec.js";
import { decodeSampleResponseProto } from "../../wire/proto-codec.js";
import type { SampleRequest, SampleResponse, WireModelInput } from "../../wire/types.js";
import type { ClientContext } from "../context.js";
import { type ResolvedRetryConfig, resubmitBackoff, SamplingStuckError } from "./retry-config.js";
import { Semaphore } from "./semaphore.js";
import type { SampleResult } from "./types.js";

const SAMPLE_DECODER: ResultDecoder<SampleResponse> = {
  name: "SampleResponse",
  proto: decodeSampleResponseProto,
  json: decodeSampleResponseJson,
};

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

/** One call in flight, as the watchdog sees it. */
interface InFlightCall {
  /** The call's future: `handle.stop(reason)` stops the call with that error. */
  handle: FutureHandle;
  /** The call's latest acknowledged request. */
  requestId: string | undefined;
}

/** What a pipeline needs to know of its client. */
export interface SamplePipelineOptions {
  /** The sampler, for messages. */
  samplingSessionId: string;
  /** The wire format of results. */
  wireFormat: WireFormat;
  /** Resubmits allowed per call after a lost request or a transport failure. */
  maxResubmits: number;
  /** The client's retryConfig, checked and with its defaults. */
  retry: ResolvedRetryConfig;
}

/**
 * The sample() calls of one SamplingClient: its semaphore, its seq ids (one per attempt), its
 * paused-queue warning, and the progress watchdog (Python's RetryHandler): the time the last call
 * finished, reset when a call starts with none in flight.
 */
export class SamplePipeline {
  readonly #ctx: ClientContext;
  readonly #options: SamplePipelineOptions;
  readonly #semaphore: Semaphore;
  readonly #backoff: Backoff;
  readonly #queueLog: QueueStateLog;
  #seq = 0;
  #inFlight = 0;
  #lastProgressAt: number;
  /** The calls in flight, for the watchdog: each one's stop and its latest request id. */
  readonly #calls = new Set<InFlightCall>();
  /** Ends the running watchdog; undefined while none runs (no call in flight). */
  #stopWatch: (() => void) | undefined;

  /** A pipeline on `ctx` with the client's (already checked) options. */
  constructor(ctx: ClientContext, options: SamplePipelineOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#semaphore = new Semaphore(ctx.config.sampleMaxConcurrentRequests);
    this.#backoff = resubmitBackoff(options.retry);
    this.#queueLog = new QueueStateLog(
      ctx.logger,
      ctx.now,
      () => `Sampling for sampler ${options.samplingSessionId}`,
    );
    this.#lastProgressAt = ctx.now();
  }

  /**
   * Runs one call to its SampleResponse: submit, poll, resubmit when lost. `handle.signal` stops
   * it (client closed, call aborted, timed out or cancelled); `headers` go on its submits and polls.
   */
  async run(
    request: SampleRequest,
    handle: FutureHandle,
    headers?: Record<string, string>,
  ): Promise<SampleResponse> {
    const ctx = this.#ctx;
    const { retry } = this.#options;
    const release = await this.#semaphore.acquire();
    // The handle's signal stops the call: client closed, call aborted, timed out, cancelled, or the
    // watchdog (through handle.stop; no controller of its own per call).
    const entry: InFlightCall = { handle, requestId: undefined };
    if (this.#inFlight === 0) {
      this.#lastProgressAt = ctx.now();
      this.#stopWatch = this.#watch();
    }
    this.#inFlight++;
    this.#calls.add(entry);
    const signal = handle.signal;
    try {
      const started = ctx.now();
      const promptBytes = estimatePromptBytes(request.prompt);
      for (let attempt = 0; ; attempt++) {
        // A copy with this attempt's seq_id set, not `{ ...request, seq_id }`: a spread with an added
        // field takes V8's slow path (564 bytes allocated against 177, by sampling heap profile).
        const body: SampleRequest = { ...request };
        body.seq_id = this.#seq++;
        try {
          const ack = await this.#submit(body, promptBytes, signal, headers);
          entry.requestId = ack.request_id;
          handle.setRequestId(ack.request_id);
          const result = await pollFuture(
            ctx.pollOptions(started, signal, {
              headers,
              requestId: ack.request_id,
              requestType: "Sample",
              decoder: SAMPLE_DECODER,
              wireFormat: this.#options.wireFormat,
              onQueueState: queueStateListeners(handle, this.#queueLog.observe),
            }),
          );
          this.#lastProgressAt = ctx.now();
          return result;
        } catch (error) {
          if (signal.aborted) throw abortError(signal, { cause: error });
          if (!retry.enableRetryLogic || ctx.config.sampleNoRetries || !retry.isRetryable(error)) throw error;
          if (attempt >= this.#options.maxResubmits) throw error;
          const delay = backoffMs(this.#backoff, attempt, Math.random());
          ctx.logger.info(
            `Resubmitting sample (attempt ${attempt + 2}) in ${(delay / 1000).toFixed(2)} s: ${(error as Error).message}`,
          );
          await abortableSleep(ctx.sleep, delay, signal);
        }
      }
    } finally {
      this.#calls.delete(entry);
      this.#inFlight--;
      if (this.#inFlight === 0) {
        this.#stopWatch?.();
        this.#stopWatch = undefined;
      }
      release();
    }
  }

  /**
   * The progress watchdog (one per client while calls are in flight, not one timer per call): wakes
   * at the progress deadline (last finished call + progressTimeout) and, once it has passed, stops
   * every call in flight with SamplingStuckError, even while every poll answers "try again"; calls
   * that start later get a fresh window. Returns the function that ends it.
   */
  #watch(): (() => void) | undefined {
    const ctx = this.#ctx;
    const { retry, samplingSessionId } = this.#options;
    if (!retry.enableStuckDetection || !ctx.config.sampleEnableStuckDetection) return undefined;
    const done = new AbortController();
    const loop = async () => {
      while (!done.signal.aborted) {
        const idle = ctx.now() - this.#lastProgressAt;
        if (idle >= retry.progressTimeout) {
          for (const call of [...this.#calls]) {
            call.handle.stop(
              new SamplingStuckError(
                `No progress made in ${retry.progressTimeout} ms: no sample() on sampler ${samplingSessionId} has finished ` +
                  "while calls were in flight; requests appear to be stuck (retryConfig.progressTimeout). " +
                  "A request the server accepted may still run there; its result is not read.",
                retry.progressTimeout,
                call.requestId,
              ),
            );
          }
          this.#lastProgressAt = ctx.now();
          continue;
        }
        await ctx.sleep(retry.progressTimeout - idle, done.signal);
      }
    };
    loop().catch(() => {
      // Ended by `done` (no call in flight) or by the client's close: nothing to report.
    });
    return () => done.abort();
  }

  /** One submission: 429 is backpressure (same body, same seq_id); the rest goes through L2. */
  #submit(
    body: SampleRequest,
    promptBytes: number,
    signal: AbortSignal,
    headers: Record<string, string> | undefined,
  ) {
    const ctx = this.#ctx;
    const wait =
      promptBytes <= SAMPLING_BACKPRESSURE.smallPromptBytes
        ? SAMPLING_BACKPRESSURE.smallWaitMs
        : SAMPLING_BACKPRESSURE.largeWaitMs;
    return submitWithRetries(
      async () => {
        for (;;) {
          const release = await ctx.throttles.acquireSample(promptBytes, ctx.sleep, signal);
          try {
            return await asample(ctx.http, body, headers ? { signal, headers } : { signal });
          } catch (error) {
            if (!(error instanceof RateLimitError)) throw error;
            ctx.throttles.sampleRateLimited(wait);
            ctx.logger.debug(`Sampling backpressure (429): resubmitting seq ${body.seq_id} in ${wait} ms`);
          } finally {
            // Held until the server answers the POST, not until the sample is done.
            release();
          }
        }
      },
      ctx.submitOptions("sample", signal),
    );
  }
}
