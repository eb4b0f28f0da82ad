// The sampling client's retryConfig: the Python SDK 0.25 RetryConfig fields, in this SDK's units
// (milliseconds), checked before anything is sent, and mapped onto the machinery that already
// exists: the resubmit backoff is a wait.ts Backoff, the retry switch is the resubmit budget, and
// the stuck detection is the pipeline's progress watchdog. Nothing here waits or retries itself.

import { APIConnectionError, APIError, FutureExpiredError, ValidationError } from "../../client/errors.js";
import type { Backoff } from "../../client/wait.js";

/**
 * How a SamplingClient retries and when it gives up on a call that makes no progress (Python's
 * `RetryConfig`, times in milliseconds). Every field is optional; the defaults are Python's.
 */
export interface RetryConfig {
  /**
   * Fail calls with {@link SamplingStuckError} when no sample() of this client has finished for
   * this long while calls are in flight, even if every poll answers "try again". Default
   * 7 200 000 (2 h, Python's `progress_timeout`).
   */
  progressTimeout?: number;
  /** First wait before resubmitting a lost call. Default 500 (Python's `retry_delay_base`, 0.5 s). */
  retryDelayBase?: number;
  /** Longest wait between resubmits. Default 10 000 (Python's `retry_delay_max`, 10 s). */
  retryDelayMax?: number;
  /**
   * Share of each wait that is random, in [0, 1]. Default 0.25 (Python's `jitter_factor`). Here it
   * only shortens a wait, so a wait never exceeds `retryDelayMax`, as in Python.
   */
  jitterFactor?: number;
  /** Resubmit lost or failed calls at all. Default true. False: the first failure is the call's. */
  enableRetryLogic?: boolean;
  /**
   * Run the progress watchdog. Default true; the server's `sample_enable_stuck_detection: false`
   * turns it off whatever this says, as in Python.
   */
  enableStuckDetection?: boolean;
  /**
   * Which failures a call is resubmitted after (Python's `retryable_exceptions`). Default
   * {@link isRetryableSampleError}: lost futures (410), connection errors and timeouts, and HTTP 408,
   * 429 and 5xx.
   */
  isRetryable?: (error: unknown) => boolean;
}

/** A RetryConfig with every field filled in and checked. */
export type ResolvedRetryConfig = Required<RetryConfig>;

/** The defaults of Python's RetryConfig, in milliseconds. */
export const DEFAULT_RETRY_CONFIG: Readonly<Omit<ResolvedRetryConfig, "isRetryable">> = {
  progressTimeout: 7_200_000,
  retryDelayBase: 500,
  retryDelayMax: 10_000,
  jitterFactor: 0.25,
  enableRetryLogic: true,
  enableStuckDetection: true,
};

/**
 * The default retry rule: the failures a resubmit can cure. A 409 is not (decision 3), nor a 4xx
 * other than 408 and 429, nor a request the server reports as failed.
 */
export function isRetryableSampleError(error: unknown): boolean {
  if (error instanceof SamplingStuckError) return false;
  if (error instanceof FutureExpiredError || error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError)) return false;
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

/**
 * No sample() of a SamplingClient finished within its `retryConfig.progressTimeout` while calls were
 * in flight (Python: "No progress made in … Requests appear to be stuck."). The call is stopped
 * (no more polls); a request the server had accepted may still run there, its result unread.
 */
export class SamplingStuckError extends APIConnectionError {
  override name = "SamplingStuckError";
  /** The progress timeout that passed, ms. */
  readonly progressTimeoutMs: number;
  /** The last request of the call the server acknowledged; undefined if none was. */
  readonly requestId: string | undefined;
  /** `message` names the sampler and the timeout. */
  constructor(message: string, progressTimeoutMs: number, requestId: string | undefined) {
    super(message);
    this.progressTimeoutMs = progressTimeoutMs;
    this.requestId = requestId;
  }
}

const KNOWN = new Set([
  "progressTimeout",
  "retryDelayBase",
  "retryDelayMax",
  "jitterFactor",
  "enableRetryLogic",
  "enableStuckDetection",
  "isRetryable",
]);

function positive(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(
      `retryConfig.${field} must be a positive number of milliseconds, got ${String(value)}`,
      `retryConfig.${field}`,
    );
  }
  return value;
}

function flag(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    throw new ValidationError(
      `retryConfig.${field} must be true or false, got ${String(value)}`,
      `retryConfig.${field}`,
    );
  }
  return value;
}

/**
 * Checks `config` and fills in the defaults. `legacyStuckTimeoutMs` is the older `stuckTimeoutMs`
 * option, used when `progressTimeout` is not given. Throws ValidationError for anything unusable.
 */
export function resolveRetryConfig(
  config: RetryConfig | undefined,
  legacyStuckTimeoutMs?: number,
): ResolvedRetryConfig {
  if (config !== undefined && (typeof config !== "object" || config === null || Array.isArray(config))) {
    throw new ValidationError("retryConfig must be an object", "retryConfig");
  }
  const c = config ?? {};
  for (const key of Object.keys(c)) {
    if (!KNOWN.has(key)) {
      throw new ValidationError(
        `retryConfig.${key} is not a retry setting; known: ${[...KNOWN].join(", ")}`,
        `retryConfig.${key}`,
      );
    }
  }
  const d = DEFAULT_RETRY_CONFIG;
  const out: ResolvedRetryConfig = {
    progressTimeout: positive(
      c.progressTimeout ?? legacyStuckTimeoutMs ?? d.progressTimeout,
      "progressTimeout",
    ),
    retryDelayBase: positive(c.retryDelayBase ?? d.retryDelayBase, "retryDelayBase"),
    retryDelayMax: positive(c.retryDelayMax ?? d.retryDelayMax, "retryDelayMax"),
    jitterFactor: c.jitterFactor ?? d.jitterFactor,
    enableRetryLogic: flag(c.enableRetryLogic ?? d.enableRetryLogic, "enableRetryLogic"),
    enableStuckDetection: flag(c.enableStuckDetection ?? d.enableStuckDetection, "enableStuckDetection"),
    isRetryable: c.isRetryable ?? isRetryableSampleError,
  };
  if (typeof out.jitterFactor !== "number" || !(out.jitterFactor >= 0 && out.jitterFactor <= 1)) {
    throw new ValidationError(
      `retryConfig.jitterFactor must be a number in [0, 1], got ${String(out.jitterFactor)}`,
      "retryConfig.jitterFactor",
    );
  }
  if (out.retryDelayMax < out.retryDelayBase) {
    throw new ValidationError(
      `retryConfig.retryDelayMax (${out.retryDelayMax}) must be >= retryDelayBase (${out.retryDelayBase})`,
      "retryConfig.retryDelayMax",
    );
  }
  if (typeof out.isRetryable !== "function") {
    throw new ValidationError(
      "retryConfig.isRetryable must be a function (error) => boolean",
      "retryConfig.isRetryable",
    );
  }
  return out;
}

/** The resubmit backoff of a resolved config, for wait.ts's backoffMs. */
export function resubmitBackoff(config: ResolvedRetryConfig): Backoff {
  return { baseMs: config.retryDelayBase, maxMs: config.retryDelayMax, jitter: config.jitterFactor };
}
