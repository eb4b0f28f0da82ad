// TinkerFuture<T>: the one future type of the SDK. Work starts when the future is made (the request
// is submitted in order and its result polled in the background, like the official client), so a
// result arrives whether or not anyone waits. Waiting is separate: `await future` or
// `future.result({ timeout, signal })`. A wait that times out or is aborted ends only that wait;
// the background work goes on, and a later `result()` picks up the same (cached) outcome.
//
// Stopping the work itself is different: the call's own `{ signal, timeout }` options and
// `future.cancel()` abort the work's signal (FutureHandle.signal), so its submits, retries and
// polls stop, and the future rejects at once with a typed error. The work may still have something
// to finish after that (a training call fills its seq id when its turn comes, so the model's later
// calls are not held); it does so in the background, and its outcome no longer changes the future.
//
// Never return a TinkerFuture from an async function or resolve a promise with it: it is a
// thenable, so the promise would adopt its result instead of the future.

import { watchAbort } from "../client/abort-watch.js";
import { type Clock, systemClock } from "../client/clock.js";
import {
  APIUserAbortError,
  CallTimeoutError,
  FutureCancelledError,
  FutureTimeoutError,
  TinkerError,
  ValidationError,
} from "../client/errors.js";
import { abortError } from "../client/wait.js";
import type { QueueStateEvent } from "./poll.js";

/** Options of `TinkerFuture.result`: stop waiting without stopping the work. */
export interface ResultOptions {
  /** Give up waiting after this many milliseconds (FutureTimeoutError). The future stays usable. */
  timeout?: number;
  /** Give up waiting when this fires (APIUserAbortError). The future stays usable. */
  signal?: AbortSignal;
}

/** The events a TinkerFuture emits (`future.on(name, listener)`). */
export interface FutureEvents {
  /** The server reported where the request waits (running, or paused for capacity or rate limits). */
  queueState: QueueStateEvent;
}

/** What the work behind a future reports while it runs, and the signal that stops it. */
export interface FutureHandle {
  /** A request was acknowledged (called once per submitted request, in order). */
  setRequestId(requestId: string): void;
  emitQueueState(event: QueueStateEvent): void;
  /**
   * Aborts when the work must stop: the client closed (`parent`), the call's signal fired, its
   * timeout passed, or `cancel()` was called. Its reason is the typed error the future rejects with.
   */
  readonly signal: AbortSignal;
  /**
   * Stops the work as `cancel()` does, but with `reason` (a typed error) as the future's error; for
   * a stop the work decides itself, e.g. the sampling watchdog. Does nothing once it settled or stopped.
   */
  stop(reason: unknown): void;
}

/** @internal How a client ties a future's work to the client's lifetime and to the call's options. */
export interface FutureScope {
  /** The client's lifetime (ServiceClient.close aborts it). */
  parent?: AbortSignal;
  /** The caller's signal: aborting it stops the work (APIUserAbortError). */
  signal?: AbortSignal;
  /** Stop the work this many ms after the call (CallTimeoutError). Checked by the caller. */
  timeout?: number;
  /** Where the timeout's timer runs. Default: the system clock. */
  clock?: Clock;
}

/** What WorkHandle and observeFailure reach inside a future (set by TinkerFuture's static block). */
let futureInternals: {
  setRequestId(future: TinkerFuture<unknown>, id: string): void;
  emitQueueState(future: TinkerFuture<unknown>, event: QueueStateEvent): void;
  signal(future: TinkerFuture<unknown>): AbortSignal;
  stop(future: TinkerFuture<unknown>, reason: unknown): void;
  observeFailure(
    future: TinkerFuture<unknown>,
    report: (context: object, error: unknown) => void,
    context: object,
  ): void;
};

/**
 * The handle a future's work reports through: its methods are on the prototype, so a future in
 * flight holds one small object, not a closure (and a context) per method.
 */
class WorkHandle implements FutureHandle {
  readonly #future: TinkerFuture<unknown>;
  readonly signal: AbortSignal;
  constructor(future: TinkerFuture<unknown>) {
    this.#future = future;
    this.signal = futureInternals.signal(future);
  }
  setRequestId(requestId: string): void {
    futureInternals.setRequestId(this.#future, requestId);
  }
  #emit: ((event: QueueStateEvent) => void) | undefined;
  /** Bound on first use (it may be passed on detached); queue states are rare, most calls never bind it. */
  get emitQueueState(): (event: QueueStateEvent) => void {
    const future = this.#future;
    this.#emit ??= (event) => futureInternals.emitQueueState(future, event);
    return this.#emit;
  }
  stop(reason: unknown): void {
    futureInternals.stop(this.#future, reason);
  }
}

/**
 * @internal Calls `report(context, error)` once if `future` fails (at once if it already failed),
 * before anyone awaiting it hears of the failure. For telemetry's capture
 * wrapper, which would otherwise chain a promise and a closure onto every call.
 */
export function observeFailure<C extends object>(
  future: TinkerFuture<unknown>,
  report: (context: C, error: unknown) => void,
  context: C,
): void {
  futureInternals.observeFailure(future, report as (context: object, error: unknown) => void, context);
}

type State<T> =
  | { status: "pending" }
  | { status: "fulfilled"; value: T }
  | { status: "rejected"; error: unknown };

/**
 * The result of a submitted request (forward/backward, optimizer step, save...): await it like a
 * promise, or call `result({ timeout, signal })` to wait with a limit. The work runs whether or
 * not anyone waits; its request ids are known once submitted.
 */
export class TinkerFuture<T> implements Promise<T> {
  readonly #promise: Promise<T>;
  #state: State<T> = { status: "pending" };
  readonly #requestIds: string[] = [];
  // Made on first use: most futures never get a listener or a submitted() waiter, and a thousand
  // futures in flight should not each hold an empty Set and array.
  #listeners: Set<(event: QueueStateEvent) => void> | undefined;
  #submittedWaiters: { resolve: (id: string) => void; reject: (e: unknown) => void }[] | undefined;
  readonly #label: string;

  readonly #controller = new AbortController();
  /** Rejects the future at once with a stop's reason (the work may still be finishing). */
  #rejectNow!: (reason: unknown) => void;
  /** Undoes the scope's watchers and timer when the future settles; undefined when there are none. */
  #disposers: (() => void)[] | undefined;

  /**
   * @internal Clients make futures; `work` starts at once and reports through the handle.
   * @param label names the call in messages, e.g. "forwardBackward".
   * @param scope the client's lifetime and the call's `{ signal, timeout }`.
   */
  constructor(work: (handle: FutureHandle) => Promise<T>, label = "request", scope: FutureScope = {}) {
    this.#label = label;
    // A stop settles the outer promise directly (see #stop): no listener on the work's signal, no
    // stop promise and no Promise.race per future, which a thousand calls in flight each paid for.
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const outcome = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#rejectNow = reject;
    this.#promise = outcome.then(
      (value) => {
        this.#dispose();
        this.#state = { status: "fulfilled", value };
        for (const w of this.#takeWaiters())
          w.reject(new TinkerError(`${label} finished without a request id`));
        return value;
      },
      (error: unknown) => {
        this.#dispose();
        this.#state = { status: "rejected", error };
        for (const w of this.#takeWaiters()) w.reject(error);
        const observers = this.#failureObservers;
        this.#failureObservers = undefined;
        for (const observer of observers ?? []) {
          try {
            observer.report(observer.context, error);
          } catch {
            // An observer must not change the future's outcome.
          }
        }
        throw error;
      },
    );
    // The outcome is delivered to whoever waits; nobody waiting is not an unhandled rejection.
    this.#promise.catch(() => {});
    this.#watchScope(scope);
    // After a stop the work finishes in the background; its own outcome is not the future's (the
    // outer promise is already settled, so resolving or rejecting it again does nothing).
    Promise.resolve()
      .then(() => work(new WorkHandle(this)))
      .then(resolve, reject);
  }

  /** A request of the work was acknowledged. */
  #setRequestId(id: string): void {
    this.#requestIds.push(id);
    if (this.#requestIds.length === 1) for (const w of this.#takeWaiters()) w.resolve(id);
  }

  /** The work reports a queue state: every listener hears it. */
  #emitQueueState(event: QueueStateEvent): void {
    if (this.#listeners === undefined) return;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener must not break the poll loop.
      }
    }
  }

  /** Told of the future's failure (see observeFailure); usually none or one. */
  #failureObservers: { report: (context: object, error: unknown) => void; context: object }[] | undefined;

  static {
    futureInternals = {
      setRequestId: (future, id) => future.#setRequestId(id),
      emitQueueState: (future, event) => future.#emitQueueState(event),
      signal: (future) => future.#controller.signal,
      stop: (future, reason) => future.#stop(() => reason),
      observeFailure: (future, report, context) => {
        if (future.#state.status === "rejected") report(context, future.#state.error);
        else if (future.#state.status === "pending") {
          future.#failureObservers ??= [];
          future.#failureObservers.push({ report, context });
        }
      },
    };
  }

  /**
   * Stops the work with `reason()` (made only when it applies): aborts its signal and rejects the
   * future at once, unless it already settled or was stopped. Returns whether it stopped it.
   */
  #stop(reason: () => unknown): boolean {
    if (this.#controller.signal.aborted || this.#state.status !== "pending") return false;
    const error = reason();
    this.#controller.abort(error);
    this.#rejectNow(error);
    return true;
  }

  #dispose(): void {
    const disposers = this.#disposers;
    if (disposers === undefined) return;
    this.#disposers = undefined;
    for (const dispose of disposers) dispose();
  }

  /** Aborts the work's signal when the client closes, the call's signal fires or its timeout passes. */
  #watchScope(scope: FutureScope): void {
    const { parent, signal, timeout } = scope;
    if (parent !== undefined) {
      const fromParent = () => abortError(parent, { message: `${this.#label} was stopped.` });
      if (parent.aborted) this.#stop(fromParent);
      else this.#addDisposer(watchAbort(parent, () => this.#stop(fromParent)));
    }
    if (signal !== undefined) {
      const fromCaller = () =>
        new APIUserAbortError(`${this.#label} was aborted ${this.#afterwards()}`, { cause: signal.reason });
      if (signal.aborted) this.#stop(fromCaller);
      else this.#addDisposer(watchAbort(signal, () => this.#stop(fromCaller)));
    }
    if (timeout !== undefined) {
      const clock = scope.clock ?? systemClock;
      const timer = clock.setTimeout(
        () =>
          this.#stop(
            () =>
              new CallTimeoutError(
                `${this.#label} had no result within its timeout of ${timeout} ms; it was stopped ${this.#afterwards()}`,
                timeout,
                this.requestId,
              ),
          ),
        timeout,
      );
      this.#addDisposer(() => clock.clearTimeout(timer));
    }
  }

  #addDisposer(dispose: () => void): void {
    if (this.#disposers === undefined) this.#disposers = [dispose];
    else this.#disposers.push(dispose);
  }

  /** What stopping now means on the server, for the stop errors' messages. */
  #afterwards(): string {
    const id = this.requestId;
    if (id !== undefined) {
      return `after the server accepted it (request ${id}): polling stopped, but the server still runs it.`;
    }
    return (
      "before the server acknowledged it: nothing was applied, unless its request was already on the wire " +
      "(then the server applies it once). Later calls of the same client are not affected."
    );
  }

  /**
   * Stops this future: no more submits or polls, and it rejects with FutureCancelledError (the
   * error is returned too). Work the server already accepted is not undone: a training step that
   * was submitted is still applied, in its place in the model's order. A training call cancelled
   * before it was sent gives up its place (its seq id is filled with a no-op), so later calls go
   * through. Returns true when this call stopped the future, false when it had already settled or
   * been stopped (then nothing changes).
   */
  cancel(): boolean {
    return this.#stop(
      () => new FutureCancelledError(`${this.#label} was cancelled ${this.#afterwards()}`, this.requestId),
    );
  }

  /** The submitted() waiters, removed (each is settled once). */
  #takeWaiters(): { resolve: (id: string) => void; reject: (e: unknown) => void }[] {
    const waiters = this.#submittedWaiters ?? [];
    this.#submittedWaiters = undefined;
    return waiters;
  }

  /** A future that is already resolved (e.g. a save found to be done already). */
  static resolved<T>(value: T, label?: string): TinkerFuture<T> {
    return new TinkerFuture(async () => value, label);
  }

  /** The id of the latest acknowledged request; undefined until the first is acknowledged. */
  get requestId(): string | undefined {
    return this.#requestIds[this.#requestIds.length - 1];
  }

  /** Every acknowledged request id, in order (several for chunked or resubmitted calls). */
  get requestIds(): readonly string[] {
    return [...this.#requestIds];
  }

  /** True once the result (or the error) is in. */
  get done(): boolean {
    return this.#state.status !== "pending";
  }

  /**
   * Resolves with the first request id once the server has acknowledged the submission; rejects if
   * the call failed before that.
   */
  submitted(): Promise<string> {
    const first = this.#requestIds[0];
    if (first !== undefined) return Promise.resolve(first);
    if (this.#state.status === "rejected") return Promise.reject(this.#state.error);
    if (this.#state.status === "fulfilled")
      return Promise.reject(new TinkerError(`${this.#label} had no request id`));
    return new Promise((resolve, reject) => {
      this.#submittedWaiters ??= [];
      this.#submittedWaiters.push({ resolve, reject });
    });
  }

  /** Queue-state changes reported while polling. Returns a function that removes the listener. */
  on<E extends keyof FutureEvents>(event: E, listener: (payload: FutureEvents[E]) => void): () => void {
    if (event !== "queueState") {
      throw new ValidationError(`Unknown event: ${String(event)}; a future emits "queueState"`, "event");
    }
    this.#listeners ??= new Set();
    this.#listeners.add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with `on`. */
  off<E extends keyof FutureEvents>(_event: E, listener: (payload: FutureEvents[E]) => void): void {
    this.#listeners?.delete(listener);
  }

  /**
   * Waits for the result. `timeout` (ms) raises FutureTimeoutError and `signal` APIUserAbortError;
   * neither stops the work, and a later call waits again for the same result.
   */
  result(options: ResultOptions = {}): Promise<T> {
    const { timeout, signal } = options;
    if (this.#state.status === "fulfilled") return Promise.resolve(this.#state.value);
    if (this.#state.status === "rejected") return Promise.reject(this.#state.error);
    if (timeout === undefined && signal === undefined) return this.#promise;
    if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
      return Promise.reject(
        new ValidationError(`timeout must be a number of milliseconds >= 0, got ${timeout}`, "timeout"),
      );
    }
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let unwatch = () => {};
      const cleanup = () => {
        if (timer !== undefined) clearTimeout(timer);
        unwatch();
      };
      const onAbort = () => {
        cleanup();
        reject(
          new APIUserAbortError(
            `Stopped waiting for ${this.#label}${this.requestId ? ` (request ${this.requestId})` : ""}; it keeps running and result() can be called again.`,
            { cause: signal?.reason },
          ),
        );
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      unwatch = watchAbort(signal, onAbort);
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(
            new FutureTimeoutError(
              `No result for ${this.#label}${this.requestId ? ` (request ${this.requestId})` : ""} after ${timeout} ms; ` +
                "it keeps running and result() can be called again.",
              this.requestId ?? "",
            ),
          );
        }, timeout);
      }
      this.#promise.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }

  // biome-ignore lint/suspicious/noThenProperty: a future is awaitable on purpose (PromiseLike)
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#promise.catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#promise.finally(onfinally);
  }

  /** `"TinkerFuture"`, what `Object.prototype.toString` shows. */
  get [Symbol.toStringTag](): string {
    return "TinkerFuture";
  }
}
