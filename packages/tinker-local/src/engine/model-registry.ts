// The models a running server holds in memory: training models (one per `create_model` or
// create-via-load) with their seq streams, and samplers (one per `create_sampling_session` or
// unnamed `save_weights_for_sampler`, each with its own frozen copy of the weights). Nothing here
// survives a restart: the metadata does (store/), the weights only through checkpoints. A sampler
// whose row exists but which is not in memory is rebuilt from its `model_path` on first use.
// Everything of a session is dropped once the session expires (TrainingRuntime.sweepSessions).
import { notFound } from "../errors.js";
import type { ResolvedLoraConfig } from "../model/lora.js";
import { RemoteModel } from "./remote-model.js";
import type { SeqStream } from "./scheduler.js";
import type { WorkerPool } from "./worker-pool.js";

export interface TrainingModelEntry {
  /** `<session_id>:train:<model_seq_id>`, also the run id. */
  readonly id: string;
  readonly owner: string;
  readonly sessionId: string;
  readonly baseModel: string;
  readonly lora: ResolvedLoraConfig;
  /** The request id of the creation (create_model or create-via-load), seq 0. */
  readonly creationRequestId: string;
  readonly seqs: SeqStream;
  /** Null until the creation has run (or when it failed). It lives in one worker of the pool. */
  model: RemoteModel | null;
  /** Why the creation failed, if it did; later requests of the model fail with it. */
  creationError: string | null;
  /**
   * Checkpoint id -> request id of saves accepted but not yet run, so a second save of the same
   * name gets 409 at once. An entry counts only while its request is still pending.
   */
  readonly pendingCheckpoints: Map<string, string>;
}

export interface SamplerEntry {
  /** `<session_id>:sample:<n>`. */
  readonly id: string;
  readonly owner: string;
  readonly sessionId: string;
  readonly baseModel: string;
  readonly modelPath: string | null;
  readonly model: RemoteModel;
}

/** Test hooks on `LocalServer.models`. */
export interface ModelControls {
  /** Seq ids of the model whose work ran, in the order it ran (newest 10000). */
  appliedSeqIds(modelId: string): number[];
  /** Seq ids of the model waiting for a lower one to arrive. */
  heldSeqIds(modelId: string): number[];
  /** Ids of the training models in memory. */
  trainingModels(): string[];
  /** Ids of the samplers in memory. */
  samplers(): string[];
  /** Resolves once no submitted work is queued or running. */
  idle(): Promise<void>;
  /**
   * Test hook: the next model operation handed to a worker blocks inside it until `release()`,
   * as a long step would; `reached` resolves once it is in the worker.
   */
  holdNextWork(): {
    /** Resolves once the held operation is inside its worker. */
    reached: Promise<void>;
    /** Lets the held operation run. */
    release(): void;
  };
  /** Model operations waiting for a busy worker now. */
  waitingForWorkers(): number;
  /**
   * Runs the expired-session sweep now (it also runs on the checkpoint sweep's interval): drops the
   * training models and samplers of every expired session. Returns those session ids.
   */
  sweepExpiredSessions(): string[];
}

/** Bare base models used for sampling are shared (they are never trained); at most this many other copies. */
const MAX_CACHED_CHECKPOINT_MODELS = 16;

export class ModelRegistry {
  private readonly training = new Map<string, TrainingModelEntry>();
  private readonly samplerEntries = new Map<string, SamplerEntry>();
  private readonly baseModels = new Map<string, Promise<RemoteModel>>();
  /** Models built from a checkpoint for `asample` by `model_path`, keyed by path and save time. */
  private readonly checkpointModels = new Map<string, Promise<RemoteModel>>();
  /** Sampler id -> request id of an accepted save_weights_for_sampler that will create it. */
  readonly pendingSamplers = new Map<string, string>();

  constructor(private readonly pool: WorkerPool) {}

  addTraining(entry: TrainingModelEntry): void {
    this.training.set(entry.id, entry);
  }

  /** The entry whatever its owner; undefined when not in memory. */
  findTraining(modelId: string): TrainingModelEntry | undefined {
    return this.training.get(modelId);
  }

  /** The caller's model; another user's model answers exactly like a missing one. */
  requireTraining(owner: string, modelId: string): TrainingModelEntry {
    const entry = this.training.get(modelId);
    if (entry === undefined || entry.owner !== owner) {
      throw notFound(
        `Model not found: ${modelId} (tinker-local keeps training models in memory, and drops them when their session expires; after a restart or an expired session, create the model again or load it from a checkpoint)`,
      );
    }
    return entry;
  }

  removeTraining(modelId: string): void {
    const entry = this.training.get(modelId);
    if (entry === undefined) return;
    this.training.delete(modelId);
    entry.model?.dispose();
    entry.model = null;
  }

  addSampler(entry: SamplerEntry): void {
    this.samplerEntries.set(entry.id, entry);
  }

  findSampler(samplerId: string): SamplerEntry | undefined {
    return this.samplerEntries.get(samplerId);
  }

  /** The catalog model without an adapter, shared by every base-model sampler. */
  baseModel(name: string): Promise<RemoteModel> {
    let model = this.baseModels.get(name);
    if (model === undefined) {
      model = RemoteModel.create(this.pool, name, null);
      this.baseModels.set(name, model);
      // A failed creation is not cached: the next request tries again.
      model.catch(() => this.baseModels.delete(name));
    }
    return model;
  }

  /** A model built from checkpoint files, cached by `key` (path plus save time: a rewrite changes it). */
  checkpointModel(key: string, build: () => Promise<RemoteModel>): Promise<RemoteModel> {
    const cached = this.checkpointModels.get(key);
    if (cached !== undefined) {
      // Refresh its place: the cache drops the least recently used.
      this.checkpointModels.delete(key);
      this.checkpointModels.set(key, cached);
      return cached;
    }
    const model = build();
    this.checkpointModels.set(key, model);
    model.catch(() => {
      if (this.checkpointModels.get(key) === model) this.checkpointModels.delete(key);
    });
    if (this.checkpointModels.size > MAX_CACHED_CHECKPOINT_MODELS) {
      const oldest = this.checkpointModels.keys().next();
      if (!oldest.done) {
        this.checkpointModels
          .get(oldest.value)
          ?.then((evicted) => evicted.dispose())
          .catch(() => {});
        this.checkpointModels.delete(oldest.value);
      }
    }
    return model;
  }

  /** Session id -> owner of every session with a training model or sampler in memory. */
  sessionOwners(): Map<string, string> {
    const owners = new Map<string, string>();
    for (const entry of this.training.values()) owners.set(entry.sessionId, entry.owner);
    for (const entry of this.samplerEntries.values()) owners.set(entry.sessionId, entry.owner);
    return owners;
  }

  /**
   * Forgets the session's training models and samplers and returns the training entries, so the
   * caller can retire them behind the work already queued (which still holds them). Sampler models
   * are not disposed: an `asample` already accepted may still be queued with one.
   */
  detachSession(sessionId: string): TrainingModelEntry[] {
    const detached: TrainingModelEntry[] = [];
    for (const entry of this.training.values()) {
      if (entry.sessionId === sessionId) detached.push(entry);
    }
    for (const entry of detached) this.training.delete(entry.id);
    for (const entry of [...this.samplerEntries.values()]) {
      if (entry.sessionId === sessionId) this.samplerEntries.delete(entry.id);
    }
    const prefix = `${sessionId}:`;
    for (const samplerId of [...this.pendingSamplers.keys()]) {
      if (samplerId.startsWith(prefix)) this.pendingSamplers.delete(samplerId);
    }
    return detached;
  }

  trainingIds(): string[] {
    return [...this.training.keys()];
  }

  samplerIds(): string[] {
    return [...this.samplerEntries.keys()];
  }

  /** Frees every model and closes every seq stream. */
  clear(): void {
    for (const entry of this.training.values()) {
      entry.seqs.close();
      entry.model?.dispose();
      entry.model = null;
    }
    this.training.clear();
    this.samplerEntries.clear();
    this.baseModels.clear();
    this.checkpointModels.clear();
  }
}
