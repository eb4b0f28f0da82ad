// A model that lives in a worker of the pool, seen from the main thread: the same operations as
// model/LoraModel, each an op sent to the worker that holds it (worker-pool.ts), so each returns a
// promise. Errors the model layer throws for bad input arrive as ModelInputError, as before.
import type { AdamParams } from "../model/adam.js";
import type { Datum } from "../model/inputs.js";
import type { ResolvedLoraConfig } from "../model/lora.js";
import type { SamplingParams } from "../model/sampling.js";
import type { WorkerPool } from "./worker-pool.js";
import type { ModelOpResults } from "./worker-protocol.js";

let nextHandle = 1;

export class RemoteModel {
  private disposed = false;

  private constructor(
    private readonly pool: WorkerPool,
    /** The worker this model lives in. */
    readonly slot: number,
    private readonly handle: string,
    readonly baseModel: string,
  ) {}

  /** A catalog model with a fresh adapter (or none, for a base-model sampler). */
  static async create(pool: WorkerPool, baseModel: string, lora: ResolvedLoraConfig | null) {
    return RemoteModel.place(pool, (slot, handle) =>
      pool.run(slot, handle, { op: "create", baseModel, lora }),
    );
  }

  /** A model built from a tinker-local weights file (and optimizer state, if given). */
  static async fromCheckpoint(pool: WorkerPool, weights: Uint8Array, optimizer: Uint8Array | null = null) {
    return RemoteModel.place(pool, (slot, handle) =>
      pool.run(slot, handle, { op: "createFromCheckpoint", weights, optimizer }),
    );
  }

  private static async place(
    pool: WorkerPool,
    create: (slot: number, handle: string) => Promise<{ baseModel: string }>,
  ): Promise<RemoteModel> {
    const slot = pool.assign();
    const handle = `m${nextHandle++}`;
    try {
      const { baseModel } = await create(slot, handle);
      return new RemoteModel(pool, slot, handle, baseModel);
    } catch (error) {
      pool.release(slot);
      throw error;
    }
  }

  forwardBackward(
    data: Datum[],
    lossFn: string,
    lossFnConfig: Record<string, number> | null,
    forwardOnly: boolean,
  ): Promise<ModelOpResults["forwardBackward"]> {
    return this.pool.run(this.slot, this.handle, {
      op: "forwardBackward",
      data,
      lossFn,
      lossFnConfig,
      forwardOnly,
    });
  }

  optimStep(adam: AdamParams | null): Promise<ModelOpResults["optimStep"]> {
    return this.pool.run(this.slot, this.handle, { op: "optimStep", adam });
  }

  /** Samples, plus the prompt's logprobs and top-k logprobs when asked (one op, one turn). */
  sample(
    tokens: number[],
    params: SamplingParams,
    numSamples: number,
    extras: { promptLogprobs: boolean; topk: number },
  ): Promise<ModelOpResults["sample"]> {
    return this.pool.run(this.slot, this.handle, {
      op: "sample",
      tokens,
      params,
      numSamples,
      promptLogprobs: extras.promptLogprobs,
      topk: extras.topk,
    });
  }

  /** The adapter weights, its PEFT config and (when asked) the optimizer state, as file bytes. */
  save(optimizer: boolean): Promise<ModelOpResults["save"]> {
    return this.pool.run(this.slot, this.handle, { op: "save", optimizer });
  }

  async load(weights: Uint8Array, optimizer: Uint8Array | null): Promise<void> {
    await this.pool.run(this.slot, this.handle, { op: "load", weights, optimizer });
  }

  /** Frees the model in its worker. Safe to call twice, and after the pool closed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.release(this.slot);
    this.pool.run(this.slot, this.handle, { op: "dispose" }).catch(() => {
      // A closed pool has freed its workers, and their models with them.
    });
  }
}
