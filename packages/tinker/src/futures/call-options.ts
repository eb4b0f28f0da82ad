// The per-call options of the methods that return a TinkerFuture (forward, forwardBackward,
// forwardBackwardCustom, optimStep, sample, computeLogprobs), checked before the call takes a seq
// id or sends anything, so a bad option never leaves a hole in a training model's order.

import type { Clock } from "../client/clock.js";
import { ValidationError } from "../client/errors.js";
import { checkCallHeaders } from "../client/http.js";
import type { FutureScope } from "./future.js";

/**
 * Options of one training or sampling call. They stop or decorate this call only; the client's
 * settings stay as they are.
 */
export interface FutureCallOptions {
  /**
   * Aborting it stops the call: no more submits, retries or polls, and the future rejects with
   * APIUserAbortError. If the server had accepted the request it still runs it (a training step
   * is still applied, in its place); a training call aborted before it was sent gives up its seq id
   * (filled with a no-op), so the model's later calls go through.
   */
  signal?: AbortSignal;
  /**
   * Stop the call this many ms after it was made, with CallTimeoutError; what the server may still
   * do is as for `signal`. It covers the whole call (waiting for its turn, submit, retries, polls),
   * unlike the client's `timeout`, which bounds each HTTP attempt. Default: none.
   */
  timeout?: number;
  /**
   * Extra HTTP headers for every request of this call (its submits, their retries and its polls),
   * merged over the client's `defaultHeaders`. Headers the SDK sets itself (X-API-Key,
   * X-Idempotency-Key, Content-Type, Accept, …; see RESERVED_CALL_HEADERS) are refused with a
   * ValidationError before anything is sent, never silently replaced.
   */
  headers?: Record<string, string>;
}

/** Checked options, ready for a FutureScope (with the client's lifetime) and the HTTP calls. */
export interface CheckedCallOptions {
  signal: AbortSignal | undefined;
  timeout: number | undefined;
  headers: Record<string, string> | undefined;
}

const KNOWN = new Set(["signal", "timeout", "headers"]);

/** Throws ValidationError for anything unusable; `call` names the method in messages. */
export function checkCallOptions(options: FutureCallOptions | undefined, call: string): CheckedCallOptions {
  if (options === undefined) return { signal: undefined, timeout: undefined, headers: undefined };
  if (typeof options !== "object" || options === null) {
    throw new ValidationError(
      `${call}: call options must be an object { signal, timeout, headers }`,
      "options",
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new ValidationError(
        `${call}: ${key} is not a call option; known: signal, timeout, headers`,
        `options.${key}`,
      );
    }
  }
  const { signal, timeout } = options;
  checkStopOptions(signal, timeout, call, "options.");
  return { signal, timeout, headers: checkCallHeaders(options.headers, "options.headers") };
}

/**
 * Throws ValidationError unless `signal` is an AbortSignal and `timeout` a positive number of ms
 * (each may be undefined). `prefix` is how the caller's option bag names them ("options." here,
 * nothing for model creation).
 */
export function checkStopOptions(signal: unknown, timeout: unknown, call: string, prefix: string): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError(`${call}: ${prefix}signal must be an AbortSignal`, `${prefix}signal`);
  }
  if (timeout !== undefined && (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0)) {
    throw new ValidationError(
      `${call}: ${prefix}timeout must be a positive number of milliseconds, got ${String(timeout)}`,
      `${prefix}timeout`,
    );
  }
}

/** The FutureScope of a call: the client's lifetime plus the call's signal and timeout. */
export function callScope(parent: AbortSignal, clock: Clock, options: CheckedCallOptions): FutureScope {
  return {
    parent,
    clock,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
  };
}
