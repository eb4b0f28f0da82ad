// The HTTP-layer retry policy (contract 1.6, L1), as one object whose every input is explicit:
// what happened on this attempt, how many retries were already made, and the random draw. The
// table it implements is in docs/sdk-core.md; each row has a test.
//
// Deliberate difference from the official client: 409 is not retried (contract decision 3).

import { backoffMs } from "./wait.js";

/** What one attempt ended with, as the policy sees it. */
export type AttemptOutcome =
  | { kind: "response"; status: number; headers: Headers }
  | { kind: "timeout" }
  | { kind: "connection" }
  | { kind: "aborted" };

export interface RetryDecision {
  retry: boolean;
  /** Delay before the next attempt (0 when not retrying). */
  delayMs: number;
  /** Short text for logs: why this attempt is or is not retried. */
  reason: string;
}

export interface RetryPolicyOptions {
  /** Base of the exponential backoff, ms. Default 500. */
  baseDelayMs?: number;
  /** Cap of the exponential backoff, ms. Default 10 000. */
  maxDelayMs?: number;
  /** Largest server-suggested delay that is honoured, ms. Default 60 000. */
  maxRetryAfterMs?: number;
}

/**
 * A "bare 400" (no body: Content-Length 0 or absent) is what an edge proxy sends when it drops a
 * request; it is treated as a connection error, so it is retried like one.
 */
export function isBare400(status: number, headers: Headers): boolean {
  if (status !== 400) return false;
  const length = headers.get("content-length");
  return length === null || length.trim() === "" || Number(length) === 0;
}

/** Statuses retried when the server does not say otherwise. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The server's suggested delay, in ms: `retry-after-ms` first, then `retry-after` as seconds or as an
 * HTTP-date (relative to `now`). Undefined when absent, unparseable, or in the past.
 */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null) {
    const v = Number.parseFloat(ms);
    if (Number.isFinite(v)) return v;
  }
  const ra = headers.get("retry-after");
  if (ra === null || ra.trim() === "") return undefined;
  const trimmed = ra.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number.parseFloat(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return at - now;
}

export class RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterMs: number;

  constructor(options: RetryPolicyOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  }

  /**
   * @param outcome what the attempt ended with
   * @param retriesSoFar retries already made for this call (0 after the first attempt)
   * @param maxRetries retry budget of this call
   * @param random a draw in [0, 1) for the jitter
   * @param now the current time in ms, for HTTP-date Retry-After values
   */
  decide(
    outcome: AttemptOutcome,
    retriesSoFar: number,
    maxRetries: number,
    random: number,
    now: number,
  ): RetryDecision {
    const { retryable, reason } = this.classify(outcome);
    if (!retryable) return { retry: false, delayMs: 0, reason };
    if (retriesSoFar >= maxRetries) {
      return { retry: false, delayMs: 0, reason: `${reason}; no retries left (${maxRetries} allowed)` };
    }
    const suggested = outcome.kind === "response" ? parseRetryAfter(outcome.headers, now) : undefined;
    if (suggested !== undefined && suggested > 0 && suggested <= this.maxRetryAfterMs) {
      return { retry: true, delayMs: suggested, reason: `${reason}; server asked to wait` };
    }
    return { retry: true, delayMs: this.backoffMs(retriesSoFar, random), reason };
  }

  /** min(base·2ⁿ, cap) scaled by a factor in (0.75, 1]: jitter only ever shortens the wait. */
  backoffMs(retryIndex: number, random: number): number {
    return backoffMs({ baseMs: this.baseDelayMs, maxMs: this.maxDelayMs, jitter: 0.25 }, retryIndex, random);
  }

  private classify(outcome: AttemptOutcome): { retryable: boolean; reason: string } {
    switch (outcome.kind) {
      case "aborted":
        return { retryable: false, reason: "aborted by the caller" };
      case "timeout":
        return { retryable: true, reason: "timed out" };
      case "connection":
        return { retryable: true, reason: "connection error" };
      case "response": {
        const { status, headers } = outcome;
        if (isBare400(status, headers)) return { retryable: true, reason: "bare 400 (dropped by a proxy)" };
        const override = headers.get("x-should-retry")?.trim().toLowerCase();
        if (override === "true") return { retryable: true, reason: `status ${status}, server says retry` };
        if (override === "false")
          return { retryable: false, reason: `status ${status}, server says do not retry` };
        return { retryable: isRetryableStatus(status), reason: `status ${status}` };
      }
    }
  }
}

export const defaultRetryPolicy = new RetryPolicy();

/** A failed attempt about to be retried: what failed, and what happens next. */
export interface RetryEvent {
  /** GET, POST, … */
  method: string;
  /** The full URL that failed (no credentials: those travel in headers). */
  url: string;
  /** The retry about to happen, from 1. */
  retry: number;
  /** Attempts still allowed for this call, counting the one about to happen. */
  attemptsLeft: number;
  /** The backoff before the next attempt. */
  delayMs: number;
  /** The policy's reason, e.g. "connection error" or "status 503". */
  reason: string;
  /** The error the failed attempt ended with. */
  error: Error;
}
