// Reporting failed public calls to telemetry, as the Python SDK's `@capture_exceptions(fatal=True)`
// does on every public method of its clients: the failure becomes a `user_error` event (a 4xx
// other than 408, or a failure the server put in the "user" category) or UNHANDLED_EXCEPTION
// (server, unknown), followed by SESSION_END. Only the error is reported (its class, message, the
// server's error body, redacted); never the call's arguments.
//
// `captureFailures(Class, [...methods])` wraps the listed methods once, on the prototype, the way
// the decorator wraps Python's methods, so the clients' bodies carry no telemetry code. A wrapped
// call costs one extra promise handler (a returned future: one observer entry on the future, no
// promise); the report is queued and sent in the background, so the caller gets the error without
// waiting for telemetry (Python waits for the send).

import {
  APIUserAbortError,
  ClientClosedError,
  FutureCancelledError,
  ValidationError,
} from "../client/errors.js";
import { observeFailure, TinkerFuture } from "../futures/future.js";
import type { Telemetry } from "./telemetry.js";

/** A client that can say where its failures go (Python's `TelemetryProvider`). */
export interface TelemetryProvider {
  /** The telemetry failures are reported to; undefined when off. */
  getTelemetry(): Telemetry | undefined;
}

/** Errors already reported, so a failure passed up through several wrapped calls is sent once. */
const reported = new WeakSet<object>();

/**
 * Whether a failure is one to report: the caller stopping the call (an abort, `future.cancel()`,
 * closing the client) is not a failure of the call, as cancellation is not in Python; nor is input the SDK refused
 * before sending anything (a ValidationError), so that "nothing is sent" stays true for bad input.
 */
export function isReportable(error: unknown): boolean {
  if (error instanceof APIUserAbortError || error instanceof ClientClosedError) return false;
  if (error instanceof FutureCancelledError) return false;
  if (error instanceof ValidationError) return false;
  return !(error instanceof Error && error.name === "AbortError");
}

/**
 * Queues `error` as a fatal failure (exception event, then SESSION_END once) and starts sending.
 * Resolves when sent, or at once when there is nothing to send (off, not reportable, already sent).
 */
export function reportFatal(telemetry: Telemetry | undefined, error: unknown): Promise<void> {
  if (telemetry === undefined || !isReportable(error)) return Promise.resolve();
  if (typeof error === "object" && error !== null) {
    if (reported.has(error)) return Promise.resolve();
    reported.add(error);
  }
  return telemetry.logFatalException(error).then(
    () => undefined,
    () => undefined,
  );
}

/** Reports a wrapped call's failure to its client's telemetry (one function for every call). */
function reportTo(provider: TelemetryProvider, error: unknown): void {
  void reportFatal(provider.getTelemetry(), error);
}

/**
 * Wraps `methods` of `target`'s prototype so that a failure of what they return (a rejected
 * promise or TinkerFuture) is reported to `this.getTelemetry()`. A TinkerFuture is returned as it
 * is (it is more than a promise); a plain promise is returned chained, so an unawaited failure is
 * still an unhandled rejection. Anything else (a lazy PagePromise, a value) is returned untouched:
 * list calls report their failures themselves. Errors thrown synchronously (input checks, before
 * anything is sent) are not reported.
 */
export function captureFailures<C extends TelemetryProvider, K extends keyof C & string>(
  target: { prototype: C },
  methods: readonly K[],
): void {
  const proto = target.prototype;
  for (const name of methods) {
    const original = proto[name];
    if (typeof original !== "function") throw new TypeError(`captureFailures: ${name} is not a method`);
    const wrapped = function (this: C, ...args: unknown[]): unknown {
      const result: unknown = original.apply(this, args);
      if (result instanceof Promise) {
        return result.then(undefined, (error: unknown) => {
          void reportFatal(this.getTelemetry(), error);
          throw error;
        });
      }
      if (result instanceof TinkerFuture) {
        // The future tells this client of its failure itself: no promise or closure chained per call
        // (the future already keeps an unawaited failure from being unhandled).
        observeFailure(result, reportTo, this);
      }
      return result;
    };
    Object.defineProperty(wrapped, "name", { value: name });
    Object.defineProperty(proto, name, {
      value: wrapped,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}

/**
 * `fetch` with its failures reported to `provider.getTelemetry()`, for the page fetcher of a list
 * call (a PagePromise fetches lazily, so the call itself cannot be wrapped).
 */
export function reportingFailures<A extends unknown[], R>(
  provider: TelemetryProvider,
  fetch: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return (...args) =>
    fetch(...args).then(undefined, (error: unknown) => {
      void reportFatal(provider.getTelemetry(), error);
      throw error;
    });
}
