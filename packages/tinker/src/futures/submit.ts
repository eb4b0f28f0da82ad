// The retry layer around one submission (contract 1.6, L2): what the HTTP layer gave up on is tried
// again, each time as a new call (a new idempotency key) with the same body and the same seq id.
// Retryable: connection errors, timeouts, 408, 429 and 5xx, with min(2^attempt, 30) s between tries,
// for up to 300 s from the first. 402 pauses (5 s sleeps) while the billing window lasts, outside
// that budget. 409 is not retried (decision 3): the caller decides what a conflict means.

import { APIConnectionError, APIError, APIUserAbortError, PaymentRequiredError } from "../client/errors.js";
import type { Logger } from "../client/logger.js";
import { isRetryableStatus } from "../client/retry.js";

export interface SubmitRetryOptions {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  logger: Logger;
  /** What is being submitted, for logs. */
  what: string;
  /** Total time for retries, from the first attempt. Default 300 000 ms. */
  budgetMs?: number;
  billingMaxPauseMs?: number;
  signal?: AbortSignal;
}

export const SUBMIT_TIMINGS = {
  backoffMs: (attempt: number) => Math.min(2 ** attempt, 30) * 1000,
  budgetMs: 300_000,
  billingSleepMs: 5000,
  billingWindowResetMs: 5 * 60_000,
} as const;

export function isRetryableSubmitError(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && isRetryableStatus(error.status);
}

/** Runs `attempt(n)` (n = 0, 1, …) until it succeeds or fails for good. */
export async function submitWithRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: SubmitRetryOptions,
): Promise<T> {
  const { sleep, now, logger, what, signal } = options;
  const budgetMs = options.budgetMs ?? SUBMIT_TIMINGS.budgetMs;
  const billingMaxPauseMs = options.billingMaxPauseMs ?? 3_600_000;
  const start = now();
  let retries = 0;
  let billingStart: number | undefined;
  let last402: number | undefined;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : error;
      let delay: number;
      if (error instanceof PaymentRequiredError) {
        const t = now();
        if (
          billingStart === undefined ||
          last402 === undefined ||
          t - last402 > SUBMIT_TIMINGS.billingWindowResetMs
        ) {
          billingStart = t;
        }
        last402 = t;
        if (t - billingStart >= billingMaxPauseMs) throw error;
        logger.warn(`${what} is paused for billing: ${APIError.detailOf(error.body)}`);
        delay = SUBMIT_TIMINGS.billingSleepMs;
      } else {
        if (!isRetryableSubmitError(error)) throw error;
        delay = SUBMIT_TIMINGS.backoffMs(retries);
        if (now() + delay - start > budgetMs) throw error;
        retries++;
        logger.info(`Retrying ${what} in ${delay / 1000} s: ${(error as Error).message}`);
      }
      try {
        await sleep(delay, signal);
      } catch (cause) {
        throw signal?.reason instanceof Error ? signal.reason : new APIUserAbortError(undefined, { cause });
      }
    }
  }
}
