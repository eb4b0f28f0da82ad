// The SDK's one waiting toolbox: an abortable sleep on a Clock, exponential backoff with jitter,
// and the error an aborted wait ends with. The HTTP retries, the submit retries, the poll loop, the
// sampling resubmits, the byte budgets and the REST waits all wait through these, so a wait cut
// short by close() or by a caller's signal ends the same way everywhere.

import { watchAbort } from "./abort-watch.js";
import type { Clock, TimerOptions } from "./clock.js";
import { APIUserAbortError, TinkerError } from "./errors.js";

/** A sleep that rejects when `signal` aborts; ClientContext and the HTTP core take one as a test seam. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason as soon as `signal` aborts.
 * The wait keeps the process alive unless `options.background` says it is background work.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, options?: TimerOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let unwatch = () => {};
    const handle = clock.setTimeout(
      () => {
        unwatch();
        resolve();
      },
      Math.max(0, ms),
      options,
    );
    unwatch = watchAbort(signal, () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    });
  });
}

/**
 * The error a wait ends with when `signal` aborts: the SDK's own reason (a TinkerError such as
 * ClientClosedError from close()) as it is, anything else (a caller's `controller.abort()`) as an
 * APIUserAbortError whose cause is that reason.
 */
export function abortError(
  signal: AbortSignal | undefined,
  options: { message?: string; cause?: unknown } = {},
): TinkerError {
  const reason = signal?.reason;
  if (reason instanceof TinkerError) return reason;
  return new APIUserAbortError(options.message, { cause: options.cause ?? reason });
}

/** Throws {@link abortError} when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, message?: string): void {
  if (signal?.aborted) throw abortError(signal, message === undefined ? {} : { message });
}

/** `sleepFn(ms, signal)`, ending with {@link abortError} instead of the raw reason when aborted. */
export async function abortableSleep(
  sleepFn: SleepFn,
  ms: number,
  signal: AbortSignal | undefined,
  message?: string,
): Promise<void> {
  try {
    await sleepFn(ms, signal);
  } catch (cause) {
    throw abortError(signal, { cause, ...(message === undefined ? {} : { message }) });
  }
}

/** The shape of one exponential backoff: `min(baseMs · 2ⁿ, maxMs)`, optionally shortened by jitter. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /**
   * How much of the wait jitter may take away, in [0, 1]: the wait is scaled by a factor in
   * (1 − jitter, 1], so jitter spreads clients out and never makes a wait longer. Default 0.
   */
  jitter?: number;
}

/** The n-th wait (n = 0, 1, …) of `backoff`; `random` is a draw in [0, 1) (ignored without jitter). */
export function backoffMs(backoff: Backoff, n: number, random = 0): number {
  const raw = Math.min(backoff.baseMs * 2 ** n, backoff.maxMs);
  const jitter = backoff.jitter ?? 0;
  if (jitter === 0) return raw;
  return raw * (1 - jitter * Math.min(Math.max(random, 0), 1));
}
