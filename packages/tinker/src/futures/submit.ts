// The retry layer around one submission (contract 1.6, L2): what the HTTP layer gave up on is tried
// again, each time as a new call (a new idempotency key) with the same body and the same seq id.
// Retryable: connection errors, timeouts, 408, 429 and 5xx, with min(2^attempt, 30) s between tries,
// for up to 300 s from the first. 402 pauses (5 s sleeps) while the billing window lasts, outside
// that budget. 409 is not retried (decision 3): the caller decides what a conflict means.

import { APIConnectionError, APIError, APIUserAbortError, PaymentRequiredError } from "../client/errors.js";
import type { Logger } from "../client/logger.js";
import { isRetryableStatus } from "../client/retry.js";
import { abortableSleep, type Backoff, backoffMs, type SleepFn, throwIfAborted } from "../client/wait.js";
import { BILLING_PAUSE, BillingPause } from "./billing-pause.js";

export interface SubmitRetryOptions {
  sleep: SleepFn;
  now: () => number;
  logger: Logger;
  /** What is being submitted, for logs. */
  what: string;
  /** Total time for retries, from the first attempt. Default 300 000 ms. */
  budgetMs?: number;
  billingMaxPauseMs?: number;
  signal?: AbortSignal;
}

/** min(2ⁿ, 30) s: the contract's backoff for submits, and for polls that got no answer. */
export const SECONDS_BACKOFF: Backoff = { baseMs: 1000, maxMs: 30_000 };

export const SUBMIT_TIMINGS = {
  backoffMs: (attempt: number) => backoffMs(SECONDS_BACKOFF, attempt),
  budgetMs: 300_000,
  billingSleepMs: BILLING_PAUSE.sleepMs,
  billingWindowResetMs: BILLING_PAUSE.windowResetMs,
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
  const billing = new BillingPause(options.billingMaxPauseMs);
  const start = now();
  let retries = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      throwIfAborted(signal);
      let delay: number;
      if (error instanceof PaymentRequiredError) {
        if (!billing.allows(now())) throw error;
        logger.warn(`${what} is paused for billing: ${APIError.detailOf(error.body)}`);
        delay = SUBMIT_TIMINGS.billingSleepMs;
      } else {
        if (!isRetryableSubmitError(error)) throw error;
        delay = SUBMIT_TIMINGS.backoffMs(retries);
        if (now() + delay - start > budgetMs) throw error;
        retries++;
        logger.info(`Retrying ${what} in ${delay / 1000} s: ${(error as Error).message}`);
      }
      await abortableSleep(sleep, delay, signal);
    }
  }
}
