// How one HTTP attempt is stopped: by the caller's signal or by the attempt's deadline, whichever
// comes first. A real AbortController per attempt cost about 4 KiB of allocation per request in the
// 1,000-sample burst (createAbortSignal, the listener, the signal getter) and, in Node, an
// AbortSignal with a hidden class of its own that lives as long as the request (2.6 of them per
// sample in flight, by heap snapshot). The Node transport only needs to be told when, so an attempt
// carries an AttemptAbort, and the AbortSignal is made only when a transport reads
// `request.signal` (fetch, or a user's own transport).

import type { TransportRequest } from "./transport.js";

/** Where a transport learns that its request is stopped. */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Calls `onAbort` once when the request is stopped; returns the function that stops watching. */
  watch(onAbort: () => void): () => void;
}

const ATTEMPT_ABORT = Symbol("tinker-ts.attemptAbort");

/** One attempt's abort: one watcher (the transport), a real AbortSignal only on demand. */
export class AttemptAbort implements AbortSource {
  aborted = false;
  reason: unknown = undefined;
  #onAbort: (() => void) | undefined = undefined;
  #controller: AbortController | undefined = undefined;

  /** An AbortSignal that follows this abort, made on first use. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  /** Stops the attempt (once); `reason` undefined gives an AbortError, as AbortController does. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason =
      reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
    const onAbort = this.#onAbort;
    this.#onAbort = undefined;
    onAbort?.();
    this.#controller?.abort(this.reason);
  }

  watch(onAbort: () => void): () => void {
    if (this.aborted) return () => {};
    this.#onAbort = onAbort;
    return () => {
      if (this.#onAbort === onAbort) this.#onAbort = undefined;
    };
  }

  /** The transport request of this attempt; its `signal` is made when read. */
  request(fields: Omit<TransportRequest, "signal">): TransportRequest {
    return new AttemptRequest(fields, this);
  }
}

/**
 * A class, not an object literal with a getter and a symbol key: V8 builds such literals on a slow
 * path, about 0.6 KiB each (sampling heap profile of the 1,000-sample burst).
 */
class AttemptRequest implements TransportRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string | undefined;
  readonly redirect: "follow" | "manual";
  readonly [ATTEMPT_ABORT]: AttemptAbort;

  constructor(fields: Omit<TransportRequest, "signal">, abort: AttemptAbort) {
    this.url = fields.url;
    this.method = fields.method;
    this.headers = fields.headers;
    this.body = fields.body;
    this.redirect = fields.redirect;
    this[ATTEMPT_ABORT] = abort;
  }

  get signal(): AbortSignal {
    return this[ATTEMPT_ABORT].signal;
  }
}

/** A plain signal as an AbortSource, for requests that did not come from http.ts. */
function signalSource(signal: AbortSignal): AbortSource {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason;
    },
    watch(onAbort) {
      signal.addEventListener("abort", onAbort, { once: true });
      return () => signal.removeEventListener("abort", onAbort);
    },
  };
}

/** How `request` is stopped: its AttemptAbort when http.ts made it, else its signal. */
export function abortSourceOf(request: TransportRequest): AbortSource {
  const attempt = (request as { [ATTEMPT_ABORT]?: AttemptAbort })[ATTEMPT_ABORT];
  return attempt ?? signalSource(request.signal);
}
