// What the training, sampling and retrieve_future routes share for one server: the request
// registry, the work queue, the per-model seq ordering and the models in memory. Created once per
// server and closed before the store is.

import type { Clock } from "../clock.js";
import { badRequest } from "../errors.js";
import type { LocalLogger } from "../log.js";
import { ModelInputError } from "../model/errors.js";
import type { ResolvedLoraConfig } from "../model/lora.js";
import { CheckpointDamagedError, CheckpointFileMissingError } from "../store/checkpoint-files.js";
import { CheckpointIdError } from "../store/checkpoint-ids.js";
import { CheckpointExistsError } from "../store/checkpoints.js";
import {
  type FutureFailure,
  type FutureKind,
  type FutureRecord,
  FutureRegistry,
  type FutureResult,
  RequestFailure,
} from "./futures.js";
import { type ModelControls, ModelRegistry, type TrainingModelEntry } from "./model-registry.js";
import type { RemoteModel } from "./remote-model.js";
import { LaneQueue, SeqStream } from "./scheduler.js";
import { capacityScope, defaultWorkerCount, PoolClosedError, WorkerPool } from "./worker-pool.js";

/** How long a finished request's result can be fetched, seconds; later polls answer 410. */
export const DEFAULT_FUTURE_RETENTION_SECONDS = 3600;
/** Most finished results kept in memory; the oldest are dropped first. */
export const DEFAULT_MAX_RETAINED_FUTURES = 10_000;
/** How long requests wait behind a missing `seq_id` before they fail, ms (10 minutes). */
export const DEFAULT_SEQ_GAP_TIMEOUT_MS = 600_000;
/** Lifetime of the checkpoint an unnamed `save_weights_for_sampler` writes, seconds. */
export const DEFAULT_EPHEMERAL_TTL_SECONDS = 3600;
/** A request may run ahead of the next expected seq id by at most this many. */
export const MAX_SEQ_AHEAD = 100_000;
const KEEP_SEQ_BEHIND = 10_000;
/**
 * Requests held behind a missing seq_id, per model. The official client sends the chunks of one
 * forward_backward together, the first one last (contract 5.4), and keeps at most 50 MB of them in
 * flight (`fwdbwd_dispatch_bytes_semaphore_size`), so it stays well inside both bounds.
 */
export const DEFAULT_MAX_HELD_REQUESTS_PER_MODEL = 1024;
export const DEFAULT_MAX_HELD_BYTES_PER_MODEL = 128 * 1024 * 1024;

/** Server options of the training side: result retention, request ordering, workers, backpressure. */
export interface TrainingServerOptions {
  /** How long a finished request's result can be fetched; afterwards polls answer 410. Default 3600. */
  futureRetentionSeconds?: number;
  /** Finished results kept at most (the oldest are dropped first). Default 10000. */
  maxRetainedFutures?: number;
  /**
   * Requests held behind a missing `seq_id` fail after this long without the model's queue moving.
   * Default 600000 (10 min: longer than a client's 5-minute submit retries).
   */
  seqGapTimeoutMs?: number;
  /**
   * Lifetime of the checkpoint an unnamed `save_weights_for_sampler` writes when the request sets
   * no `ttl_seconds`; the checkpoint sweep then deletes it. The sampler it made keeps sampling from
   * memory. A positive integer; default 3600.
   */
  ephemeralTtlSeconds?: number;
  /**
   * Worker threads that run model work (forward, backward, optimizer, sampling, weight
   * (de)serialisation). Default: one per core (`os.availableParallelism()`).
   */
  workers?: number;
  /**
   * `asample` with `X-Tinker-Sampling-Backpressure: 1` answers 429 while at least this many model
   * operations wait for a busy worker. Default 4 per worker.
   */
  maxQueuedWork?: number;
  /**
   * Requests of one model that may wait for a missing lower `seq_id`; one more is answered 429
   * (with Retry-After) until the gap fills. Default 1024.
   */
  maxHeldRequestsPerModel?: number;
  /**
   * Request body bytes (after zstd decompression) of one model that may wait for a missing lower
   * `seq_id`; a request past this is answered 429 until the gap fills. Default 128 MiB.
   */
  maxHeldBytesPerModel?: number;
}

export interface ResolvedTrainingOptions {
  readonly futureRetentionMs: number;
  readonly maxRetainedFutures: number;
  readonly seqGapTimeoutMs: number;
  readonly ephemeralTtlSeconds: number;
  readonly workers: number;
  readonly maxQueuedWork: number;
  readonly maxHeldRequestsPerModel: number;
  readonly maxHeldBytesPerModel: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

export function resolveTrainingOptions(options: TrainingServerOptions): ResolvedTrainingOptions {
  const maxRetainedFutures = positive(
    "maxRetainedFutures",
    options.maxRetainedFutures,
    DEFAULT_MAX_RETAINED_FUTURES,
  );
  if (!Number.isSafeInteger(maxRetainedFutures)) {
    throw new RangeError(`maxRetainedFutures must be an integer, got ${maxRetainedFutures}`);
  }
  const ephemeralTtlSeconds = positive(
    "ephemeralTtlSeconds",
    options.ephemeralTtlSeconds,
    DEFAULT_EPHEMERAL_TTL_SECONDS,
  );
  if (!Number.isSafeInteger(ephemeralTtlSeconds)) {
    throw new RangeError(`ephemeralTtlSeconds must be an integer, got ${ephemeralTtlSeconds}`);
  }
  const workers = positive("workers", options.workers, defaultWorkerCount());
  const maxQueuedWork = positive("maxQueuedWork", options.maxQueuedWork, 4 * workers);
  if (!Number.isSafeInteger(workers) || !Number.isSafeInteger(maxQueuedWork)) {
    throw new RangeError(`workers and maxQueuedWork must be integers, got ${workers} and ${maxQueuedWork}`);
  }
  const maxHeldRequestsPerModel = positive(
    "maxHeldRequestsPerModel",
    options.maxHeldRequestsPerModel,
    DEFAULT_MAX_HELD_REQUESTS_PER_MODEL,
  );
  const maxHeldBytesPerModel = positive(
    "maxHeldBytesPerModel",
    options.maxHeldBytesPerModel,
    DEFAULT_MAX_HELD_BYTES_PER_MODEL,
  );
  if (!Number.isSafeInteger(maxHeldRequestsPerModel) || !Number.isSafeInteger(maxHeldBytesPerModel)) {
    throw new RangeError(
      `maxHeldRequestsPerModel and maxHeldBytesPerModel must be integers, got ${maxHeldRequestsPerModel} and ${maxHeldBytesPerModel}`,
    );
  }
  return {
    workers,
    maxQueuedWork,
    maxHeldRequestsPerModel,
    maxHeldBytesPerModel,
    futureRetentionMs:
      positive("futureRetentionSeconds", options.futureRetentionSeconds, DEFAULT_FUTURE_RETENTION_SECONDS) *
      1000,
    maxRetainedFutures,
    seqGapTimeoutMs: positive("seqGapTimeoutMs", options.seqGapTimeoutMs, DEFAULT_SEQ_GAP_TIMEOUT_MS),
    ephemeralTtlSeconds,
  };
}

/** The work of one request: returns its result or throws (ModelInputError etc. = user failure). */
export type Work = () => FutureResult | Promise<FutureResult>;

export interface NewTrainingModel {
  id: string;
  owner: string;
  sessionId: string;
  baseModel: string;
  lora: ResolvedLoraConfig;
  kind: FutureKind;
}

/** Whether a session is still alive (not expired); asked by the expired-session sweep. */
export type SessionLiveness = (sessionId: string, owner: string) => boolean;

export interface TrainingRuntimeDeps {
  clock: Clock;
  logger: LocalLogger;
  options: ResolvedTrainingOptions;
}

/** Errors whose message is for the user: the request was wrong, not the server. */
function isUserError(error: unknown): boolean {
  return (
    error instanceof ModelInputError ||
    error instanceof CheckpointIdError ||
    error instanceof CheckpointExistsError ||
    error instanceof CheckpointFileMissingError
  );
}

/** A training model's lane in the work queue: its requests run one after another, in seq order. */
function laneOf(modelId: string): string {
  return `model:${modelId}`;
}

export class TrainingRuntime {
  readonly futures: FutureRegistry;
  readonly pool: WorkerPool;
  readonly models: ModelRegistry;
  readonly queue: LaneQueue;
  private readonly logger: LocalLogger;
  private readonly options: ResolvedTrainingOptions;
  private sessionLiveness: SessionLiveness | undefined;
  private sessionSweeper: NodeJS.Timeout | undefined;

  constructor(deps: TrainingRuntimeDeps) {
    this.logger = deps.logger;
    this.options = deps.options;
    this.futures = new FutureRegistry({
      clock: deps.clock,
      retentionMs: deps.options.futureRetentionMs,
      maxFinished: deps.options.maxRetainedFutures,
    });
    this.pool = new WorkerPool(deps.options.workers, deps.logger);
    this.models = new ModelRegistry(this.pool);
    this.queue = new LaneQueue((error) => this.logger.error(`queued work failed: ${String(error)}`));
  }

  /**
   * Registers a training model and queues its creation (seq 0). `create` builds the model; its
   * result is the future's. Requests with seq ids >= 1 may be submitted at once: they queue behind.
   */
  createTrainingModel(
    spec: NewTrainingModel,
    create: (entry: TrainingModelEntry) => Promise<FutureResult>,
  ): TrainingModelEntry {
    const record = this.futures.create(spec.owner, spec.kind, spec.id);
    const seqs = new SeqStream(spec.id, {
      gapTimeoutMs: this.options.seqGapTimeoutMs,
      maxAhead: MAX_SEQ_AHEAD,
      keepBehind: KEEP_SEQ_BEHIND,
      maxHeld: this.options.maxHeldRequestsPerModel,
      maxHeldBytes: this.options.maxHeldBytesPerModel,
      release: (_seqId, run) => this.queue.push(laneOf(spec.id), run),
      abandon: (held, missing) => {
        for (const { seqId, entry } of held) {
          this.failById(entry.requestId, {
            error: `seq_id ${seqId} of model ${spec.id} was not run: seq_id ${missing} never arrived within ${Math.round(this.options.seqGapTimeoutMs / 1000)} s, and requests run strictly in seq_id order`,
            category: "user",
          });
        }
      },
    });
    const entry: TrainingModelEntry = {
      id: spec.id,
      owner: spec.owner,
      sessionId: spec.sessionId,
      baseModel: spec.baseModel,
      lora: spec.lora,
      creationRequestId: record.requestId,
      seqs,
      model: null,
      creationError: null,
      pendingCheckpoints: new Map(),
    };
    this.models.addTraining(entry);
    this.queue.push(laneOf(spec.id), async () => {
      const ok = await this.run(record, () => create(entry));
      if (!ok && entry.model === null) {
        entry.creationError = record.failure?.error ?? "the model could not be created";
      }
    });
    return entry;
  }

  /**
   * Submits a request at `seqId` of a model. A repeated seq id answers the original request id
   * (never applied twice); otherwise `prepare` validates the request (throwing HttpErrors) and
   * returns its work, which runs when every lower seq id has run. `bytes` is the request's body
   * size, counted against the model's bound on held requests while it waits for a lower seq id.
   */
  submitOrdered(
    entry: TrainingModelEntry,
    seqId: number,
    kind: FutureKind,
    prepare: () => (model: RemoteModel) => FutureResult | Promise<FutureResult>,
    bytes = 0,
  ): string {
    if (!Number.isSafeInteger(seqId) || seqId < 1) {
      throw badRequest(
        `Field 'seq_id' must be an integer >= 1 (seq 0 is the model's creation), got ${seqId}`,
      );
    }
    const known = entry.seqs.lookup(seqId);
    if (known !== undefined) {
      if (known.kind !== kind) {
        throw badRequest(
          `seq_id ${seqId} of model ${entry.id} was already used by a ${known.kind} request, not ${kind}`,
        );
      }
      return known.requestId;
    }
    entry.seqs.check(seqId);
    entry.seqs.checkRoom(seqId, bytes);
    const work = prepare();
    const record = this.futures.create(entry.owner, kind, entry.id);
    entry.seqs.accept(
      seqId,
      { requestId: record.requestId, kind },
      async () => {
        const ran = await this.run(record, () => {
          const model = entry.model;
          if (model === null) {
            throw new RequestFailure(
              entry.creationError === null
                ? `model ${entry.id} is not available`
                : `model ${entry.id} could not be created: ${entry.creationError}`,
            );
          }
          return work(model);
        });
        if (ran) entry.seqs.markApplied(seqId);
      },
      bytes,
    );
    return record.requestId;
  }

  /**
   * Submits work that is not ordered by seq id (sampling): it runs at once in a lane of its own;
   * its model's worker takes it in turn with that model's other work.
   */
  submitUnordered(owner: string, kind: FutureKind, modelId: string | null, work: Work): string {
    const record = this.futures.create(owner, kind, modelId);
    this.queue.push(`request:${record.requestId}`, () => this.run(record, work));
    return record.requestId;
  }

  /** Unloads a model after every request already released for it; held ones fail. */
  unload(entry: TrainingModelEntry): string {
    const record = this.futures.create(entry.owner, "unload_model", entry.id);
    this.queue.push(laneOf(entry.id), async () => {
      await this.run(record, () => {
        for (const { seqId, entry: held } of entry.seqs.close()) {
          this.failById(held.requestId, {
            error: `seq_id ${seqId} of model ${entry.id} was not run: the model was unloaded first`,
            category: "user",
          });
        }
        this.models.removeTraining(entry.id);
        return { type: "json", value: { model_id: entry.id } };
      });
    });
    return record.requestId;
  }

  /**
   * Drops the models of expired sessions every `intervalMs` (0: only when `sweepSessions` is
   * called), on an unref'd timer stopped by `close()`.
   */
  watchSessions(isAlive: SessionLiveness, intervalMs: number): void {
    this.sessionLiveness = isAlive;
    if (this.sessionSweeper !== undefined) clearInterval(this.sessionSweeper);
    this.sessionSweeper = undefined;
    if (intervalMs <= 0) return;
    this.sessionSweeper = setInterval(() => {
      try {
        this.sweepSessions();
      } catch (error) {
        this.logger.error(`expired-session sweep failed: ${String(error)}`);
      }
    }, intervalMs);
    this.sessionSweeper.unref();
  }

  /**
   * Frees the training models and samplers of every session that has expired; returns those
   * session ids. They are forgotten at once (new requests get 404); the training models are
   * retired behind the work already queued, whose held requests fail.
   */
  sweepSessions(): string[] {
    const isAlive = this.sessionLiveness;
    if (isAlive === undefined) return [];
    const expired: string[] = [];
    for (const [sessionId, owner] of this.models.sessionOwners()) {
      if (!isAlive(sessionId, owner)) expired.push(sessionId);
    }
    for (const sessionId of expired) this.dropSession(sessionId);
    return expired;
  }

  private dropSession(sessionId: string): void {
    const why = `its session ${sessionId} expired`;
    const detached = this.models.detachSession(sessionId);
    // Each model is retired behind the work already queued in its lane.
    for (const entry of detached) {
      this.queue.push(laneOf(entry.id), () => {
        // Queued saves may have added samplers of the session since; forget those too.
        this.models.detachSession(sessionId);
        for (const { seqId, entry: held } of entry.seqs.close()) {
          this.failById(held.requestId, {
            error: `seq_id ${seqId} of model ${entry.id} was not run: ${why}`,
            category: "user",
          });
        }
        entry.model?.dispose();
        entry.model = null;
      });
    }
    this.logger.info(`session ${sessionId} expired: dropped its models from memory`);
  }

  readonly modelControls: ModelControls = {
    appliedSeqIds: (modelId) => this.models.findTraining(modelId)?.seqs.applied() ?? [],
    heldSeqIds: (modelId) => this.models.findTraining(modelId)?.seqs.heldSeqIds() ?? [],
    trainingModels: () => this.models.trainingIds(),
    samplers: () => this.models.samplerIds(),
    idle: () => this.queue.idle(),
    holdNextWork: () => this.pool.holdNext(),
    waitingForWorkers: () => this.pool.waiting(),
    sweepExpiredSessions: () => this.sweepSessions(),
  };

  /**
   * Stops taking work and answers held polls now; queued requests are abandoned (never run). The
   * returned promise resolves once the work already running has finished (a save in progress
   * completes: checkpoint files are renamed into place whole or not at all) and the workers exited.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sessionSweeper !== undefined) clearInterval(this.sessionSweeper);
      this.sessionSweeper = undefined;
      this.sessionLiveness = undefined;
      const running = this.queue.close();
      this.futures.close();
      // Ops waiting for a worker fail (their requests were never applied); running ones finish.
      await this.pool.close();
      await running;
      this.models.clear();
    })();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  /**
   * The queue state a pending request reports (contract 4.14): `paused_capacity` while its model
   * operation waits for a busy worker, else `active`.
   */
  queueState(record: FutureRecord): {
    queue_state: "active" | "paused_capacity";
    queue_state_reason?: string;
  } {
    if (!record.waitingForCapacity) return { queue_state: "active" };
    return {
      queue_state: "paused_capacity",
      queue_state_reason: `all ${this.pool.size} model worker(s) are busy; ${this.pool.waiting()} operation(s) are waiting for one`,
    };
  }

  /** True when `asample` should push back (429): the pool has at least `maxQueuedWork` waiting. */
  saturated(): boolean {
    return this.pool.waiting() >= this.options.maxQueuedWork;
  }

  /** Runs one request's work and records its outcome. True when the work itself ran. */
  private async run(record: FutureRecord, work: Work): Promise<boolean> {
    if (record.injectedFailure !== undefined) {
      this.futures.fail(record, record.injectedFailure);
      return false;
    }
    this.futures.start(record);
    try {
      this.futures.complete(record, await capacityScope.run(record, work));
    } catch (error) {
      this.futures.fail(record, this.classify(record, error));
    } finally {
      record.waitingForCapacity = false;
    }
    return true;
  }

  private failById(requestId: string, failure: FutureFailure): void {
    const state = this.futures.state(requestId);
    if (state !== "queued") return;
    const record = this.futures.lookupAny(requestId);
    if (record !== undefined) this.futures.fail(record, failure);
  }

  private classify(record: FutureRecord, error: unknown): FutureFailure {
    if (error instanceof RequestFailure) return { error: error.message, category: error.category };
    if (error instanceof PoolClosedError) return { error: error.message, category: "server" };
    if (isUserError(error)) return { error: (error as Error).message, category: "user" };
    if (error instanceof CheckpointDamagedError) {
      // The server's fault, and one the client can quote: the message names the checkpoint only.
      this.logger.error(`${record.kind} ${record.requestId} failed: ${error.message}`);
      return { error: `${error.message} (request ${record.requestId})`, category: "server" };
    }
    this.logger.error(
      `${record.kind} ${record.requestId} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    // The message of an unexpected error may hold server file paths or internals: it goes to the
    // server log only; the client gets the request id to quote.
    return {
      error: `Internal error in ${record.kind} (request ${record.requestId}); the server log has the details`,
      category: "server",
    };
  }
}
