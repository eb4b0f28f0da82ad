// The request registry behind `retrieve_future` (contract 4.13, 4.14, 5). Every submitted request
// gets a `req-<uuid>` id and a state; its result is kept as a logical object and encoded only when
// it is fetched, in the format the poll's Accept header asks for. Finished results are kept for a
// bounded time and number; after that the id answers 410 (expired) for a while, then 404.
import { randomUUID } from "node:crypto";
import type { ForwardBackwardOutput, RequestFailureCategory, SampleResponse } from "tinker-ts/wire";
import type { Clock } from "../clock.js";
import { HttpError, notFound } from "../errors.js";

/** What a request was; shown in errors and used by `failNext({kind})`. */
export type FutureKind =
  | "create_model"
  | "forward_backward"
  | "forward"
  | "optim_step"
  | "save_weights"
  | "save_weights_for_sampler"
  | "load_weights"
  | "unload_model"
  | "sample";

/**
 * A finished request's payload. forward_backward and sample results go out as protobuf when the
 * poll accepts it (decision 5); everything else is JSON.
 */
export type FutureResult =
  | { type: "forward_backward"; value: ForwardBackwardOutput }
  | { type: "sample"; value: SampleResponse; topkK: number }
  | { type: "json"; value: Record<string, unknown> };

/** `RequestFailedResponse` (contract 4.14): the body of a failed future. */
export interface FutureFailure {
  error: string;
  category: RequestFailureCategory;
}

/** Where a submitted request is: waiting its turn, running, finished with a result, or failed. */
export type FutureState = "queued" | "running" | "done" | "failed";

export interface FutureRecord {
  readonly requestId: string;
  readonly owner: string;
  readonly kind: FutureKind;
  readonly modelId: string | null;
  readonly createdAt: number;
  state: FutureState;
  result?: FutureResult;
  failure?: FutureFailure;
  finishedAt?: number;
  /** Set by `failNext`: when its turn comes the work is skipped and the future fails with this. */
  injectedFailure?: FutureFailure;
  /** True while the request's model operation waits for a busy worker (worker-pool.ts). */
  waitingForCapacity: boolean;
}

/**
 * A failure the user can act on, raised inside a request's work (besides the model layer's
 * ModelInputError). It becomes a failed future, never an HTTP error: the request was accepted.
 */
export class RequestFailure extends Error {
  override readonly name = "RequestFailure";
  constructor(
    message: string,
    readonly category: RequestFailureCategory = "user",
  ) {
    super(message);
  }
}

export interface FutureRegistryOptions {
  clock: Clock;
  /** How long a finished result stays retrievable. */
  retentionMs: number;
  /** Finished results kept at most; the oldest are dropped first. */
  maxFinished: number;
  /** Ids of dropped results remembered (to answer 410 instead of 404). */
  maxTombstones?: number;
}

/** The failure `futures.failNext` makes the next submitted request (of `kind`) end with. */
export interface FailNextSpec {
  /** Default "Injected failure". */
  error?: string;
  /** Default "server". */
  category?: RequestFailureCategory;
  /** Only a future of this kind takes the failure; default: the next future of any kind. */
  kind?: FutureKind;
}

/** Test hooks on `LocalServer.futures`. */
export interface FutureControls {
  /** Drops the request's result now; polls then answer 410. False for an unknown id. */
  expire(requestId: string): boolean;
  /** The next submitted request (of `kind`, if given) fails with this instead of running. */
  failNext(spec?: FailNextSpec): void;
  /** The request's state; "expired" once dropped; undefined for an id never seen (or long gone). */
  state(requestId: string): FutureState | "expired" | undefined;
  /** How many `retrieve_future` polls of the request are being held right now (long-poll). */
  heldPolls(requestId: string): number;
}

const DEFAULT_MAX_TOMBSTONES = 100_000;

export class FutureRegistry {
  private readonly records = new Map<string, FutureRecord>();
  /** Finished request ids in the order they finished, for retention. */
  private readonly finished = new Map<string, number>();
  /** Dropped request id -> owner. */
  private readonly tombstones = new Map<string, string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly injected: Required<FailNextSpec>[] = [];
  private readonly injectedAny: Omit<Required<FailNextSpec>, "kind">[] = [];
  private readonly maxTombstones: number;
  private closed = false;

  constructor(private readonly options: FutureRegistryOptions) {
    this.maxTombstones = options.maxTombstones ?? DEFAULT_MAX_TOMBSTONES;
  }

  create(owner: string, kind: FutureKind, modelId: string | null): FutureRecord {
    this.sweep();
    const record: FutureRecord = {
      requestId: `req-${randomUUID()}`,
      owner,
      kind,
      modelId,
      createdAt: this.options.clock.now(),
      state: "queued",
      waitingForCapacity: false,
    };
    const injected = this.takeInjected(kind);
    if (injected !== undefined) record.injectedFailure = injected;
    this.records.set(record.requestId, record);
    return record;
  }

  /** The caller's request; 404 when unknown or someone else's, 410 once its result was dropped. */
  lookup(owner: string, requestId: string): FutureRecord {
    this.sweep();
    const record = this.records.get(requestId);
    if (record !== undefined && record.owner === owner) return record;
    if (record === undefined && this.tombstones.get(requestId) === owner) {
      throw new HttpError(
        410,
        `Request ${requestId} has expired: results are kept for ${Math.round(this.options.retentionMs / 1000)} s after they finish; submit the request again`,
      );
    }
    throw notFound(`Request not found: ${requestId}`);
  }

  /** The request whoever owns it (server-internal use). */
  lookupAny(requestId: string): FutureRecord | undefined {
    return this.records.get(requestId);
  }

  start(record: FutureRecord): void {
    if (record.state === "queued") record.state = "running";
  }

  complete(record: FutureRecord, result: FutureResult): void {
    this.finish(record, "done", { result });
  }

  fail(record: FutureRecord, failure: FutureFailure): void {
    this.finish(record, "failed", { failure });
  }

  /**
   * Resolves when the request finishes, is dropped, `holdMs` passes, the signal aborts, or the
   * registry closes, whichever comes first. The caller looks the request up again afterwards.
   */
  wait(record: FutureRecord, holdMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || this.isFinished(record) || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(record.requestId);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(record.requestId, set);
      }
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(record.requestId) === waiters) {
          this.waiters.delete(record.requestId);
        }
        resolve();
      };
      // Unref'd: a held poll must never keep a process alive on its own.
      const timer = setTimeout(done, holdMs);
      timer.unref();
      signal?.addEventListener("abort", done, { once: true });
      waiters.add(done);
    });
  }

  /** Drops a request's result (a pending request still runs; its result is then discarded). */
  expire(requestId: string): boolean {
    const record = this.records.get(requestId);
    if (record === undefined) return false;
    this.drop(record);
    return true;
  }

  failNext(spec: FailNextSpec = {}): void {
    const failure = { error: spec.error ?? "Injected failure", category: spec.category ?? "server" };
    if (spec.kind === undefined) this.injectedAny.push(failure);
    else this.injected.push({ ...failure, kind: spec.kind });
  }

  state(requestId: string): FutureState | "expired" | undefined {
    const record = this.records.get(requestId);
    if (record !== undefined) return record.state;
    return this.tombstones.has(requestId) ? "expired" : undefined;
  }

  readonly controls: FutureControls = {
    expire: (requestId) => this.expire(requestId),
    failNext: (spec) => this.failNext(spec),
    state: (requestId) => this.state(requestId),
    heldPolls: (requestId) => this.waiters.get(requestId)?.size ?? 0,
  };

  /** Answers every held poll now; later waits return at once. Called before the server closes. */
  close(): void {
    this.closed = true;
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake();
    this.waiters.clear();
  }

  private isFinished(record: FutureRecord): boolean {
    return record.state === "done" || record.state === "failed" || !this.records.has(record.requestId);
  }

  private finish(
    record: FutureRecord,
    state: "done" | "failed",
    outcome: { result?: FutureResult; failure?: FutureFailure },
  ): void {
    // A request dropped while it ran keeps nothing.
    if (this.records.get(record.requestId) !== record || this.isFinished(record)) return;
    record.state = state;
    if (outcome.result !== undefined) record.result = outcome.result;
    if (outcome.failure !== undefined) record.failure = outcome.failure;
    record.finishedAt = this.options.clock.now();
    this.finished.set(record.requestId, record.finishedAt);
    this.wake(record.requestId);
    this.sweep();
  }

  private wake(requestId: string): void {
    const set = this.waiters.get(requestId);
    if (set === undefined) return;
    for (const wake of [...set]) wake();
  }

  private drop(record: FutureRecord): void {
    this.records.delete(record.requestId);
    this.finished.delete(record.requestId);
    this.tombstones.set(record.requestId, record.owner);
    if (this.tombstones.size > this.maxTombstones) {
      const oldest = this.tombstones.keys().next();
      if (!oldest.done) this.tombstones.delete(oldest.value);
    }
    this.wake(record.requestId);
  }

  /** Drops finished results past their retention time or beyond the count limit, oldest first. */
  private sweep(): void {
    const cutoff = this.options.clock.now() - this.options.retentionMs;
    for (const [requestId, finishedAt] of this.finished) {
      if (finishedAt > cutoff && this.finished.size <= this.options.maxFinished) break;
      const record = this.records.get(requestId);
      if (record === undefined) this.finished.delete(requestId);
      else this.drop(record);
    }
  }

  private takeInjected(kind: FutureKind): FutureFailure | undefined {
    const index = this.injected.findIndex((spec) => spec.kind === kind);
    if (index !== -1) {
      const [spec] = this.injected.splice(index, 1);
      return spec === undefined ? undefined : { error: spec.error, category: spec.category };
    }
    return this.injectedAny.shift();
  }
}
