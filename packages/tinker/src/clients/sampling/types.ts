// Option and result types of SamplingClient (types only; public through src/index.ts).

import type { FutureCallOptions } from "../../futures/call-options.js";
import type { ModelInput, TokenInput } from "../../wire/model-input.js";
import type { StopReason, TopkRow, WireModelInput } from "../../wire/types.js";
import type { WireFormatOption } from "../context.js";
import type { RetryConfig } from "./retry-config.js";

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
export interface SampleOptions extends FutureCallOptions {
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
   * The older name of `retryConfig.progressTimeout` (which wins when both are given): stop calls
   * when no sample() of this client has finished for this long. Default 7 200 000 ms (2 h).
   */
  stuckTimeoutMs?: number;
  /**
   * Python's RetryConfig in milliseconds: the progress watchdog (`progressTimeout`,
   * `enableStuckDetection`), the resubmit backoff (`retryDelayBase`, `retryDelayMax`,
   * `jitterFactor`), `enableRetryLogic` and the `isRetryable` rule. Checked when the client is made.
   */
  retryConfig?: RetryConfig;
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
