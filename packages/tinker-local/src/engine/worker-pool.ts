// A pool of model worker threads (model-worker.ts). Each model lives in one worker, chosen when it
// is created (the worker holding the fewest models), and every op on it goes to that worker, so the
// ops of one model run in the order they were sent. A worker runs one op at a time; ops sent to a
// busy worker wait here, on the main thread, where the wait is visible: a future whose op is
// waiting for a worker reports `paused_capacity` (contract 4.14), and `waiting()` drives `asample`'s
// 429 backpressure. Workers start on first use, so a server that never computes never spawns one.
import { AsyncLocalStorage } from "node:async_hooks";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { LocalLogger } from "../log.js";
import { ModelInputError } from "../model/errors.js";
import type { ModelOp, ModelOpResults, WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** The default pool size: one worker per core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Whoever submitted the work (a future's record) sees here whether its op waits for a worker. Set
 * through `capacityScope.run(tracker, work)`; the pool reads it when an op is queued.
 */
export interface CapacityTracker {
  waitingForCapacity: boolean;
}

export const capacityScope = new AsyncLocalStorage<CapacityTracker>();

/** The pool is closing: an op not yet started will never run. */
export class PoolClosedError extends Error {
  override readonly name = "PoolClosedError";
}

interface Job {
  readonly request: Omit<WorkerRequest, "id">;
  readonly tracker: CapacityTracker | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly onStart: (() => void) | undefined;
}

interface Slot {
  readonly index: number;
  worker: Worker | null;
  running: (Job & { id: number }) | null;
  readonly queue: Job[];
  models: number;
}

/** Held by a test: the next op sent blocks inside its worker until `release()`. */
export interface WorkGate {
  /** Resolves when the held op has been handed to its worker (it is "running"). */
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * A new model worker. From dist, the worker is dist/engine/model-worker.js. From source (under
 * tsx), this module is a .ts file and so is the worker's; Node 20 does not carry the main thread's
 * `--import tsx` loader hooks into workers, so a two-line bootstrap registers tsx's ESM hooks in
 * the worker first (tsx is there: it is what is running this file). `--conditions` and other
 * flags are inherited through execArgv as usual.
 */
function startWorker(name: string): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./model-worker.js", here), { name });
  const entry = new URL("./model-worker.ts", here);
  let tsxApi: string;
  try {
    tsxApi = import.meta.resolve("tsx/esm/api");
  } catch {
    // Another TypeScript runtime (one that loads .ts natively) runs the worker as it is.
    return new Worker(entry, { name });
  }
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, name });
}

function rebuild(error: { name: string; message: string; stack?: string }): Error {
  if (error.name === "ModelInputError") return new ModelInputError(error.message);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;
  private pendingGate: { gate: Int32Array; reached: () => void } | undefined;
  /** Every gate handed out, so close() can open the ones a failed test left shut. */
  private readonly gates = new Set<Int32Array>();

  constructor(
    readonly size: number,
    private readonly logger: LocalLogger,
  ) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`workers must be a positive integer, got ${size}`);
    }
    this.slots = Array.from({ length: size }, (_, index) => ({
      index,
      worker: null,
      running: null,
      queue: [],
      models: 0,
    }));
  }

  /** Picks the worker a new model will live in: the one holding the fewest (lowest index on ties). */
  assign(): number {
    let best = this.slots[0] as Slot;
    for (const slot of this.slots) if (slot.models < best.models) best = slot;
    best.models += 1;
    return best.index;
  }

  /** Forgets a model's place (after its dispose op was sent). */
  release(slotIndex: number): void {
    const slot = this.slots[slotIndex];
    if (slot !== undefined && slot.models > 0) slot.models -= 1;
  }

  /** Ops waiting for a busy worker, over all workers. */
  waiting(): number {
    return this.slots.reduce((n, slot) => n + slot.queue.length, 0);
  }

  /** Ops running in a worker now. */
  running(): number {
    return this.slots.reduce((n, slot) => n + (slot.running === null ? 0 : 1), 0);
  }

  /** Sends an op to the model's worker; resolves with its answer, rejects with its error. */
  run<K extends ModelOp["op"]>(
    slotIndex: number,
    handle: string,
    body: Extract<ModelOp, { op: K }>,
    onStart?: () => void,
  ): Promise<ModelOpResults[K]> {
    const slot = this.slots[slotIndex];
    if (slot === undefined) return Promise.reject(new RangeError(`no worker ${slotIndex}`));
    if (this.closed) return Promise.reject(new PoolClosedError("the model workers are shutting down"));
    const tracker = capacityScope.getStore();
    return new Promise((resolve, reject) => {
      const request: Omit<WorkerRequest, "id"> = { handle, body };
      const job: Job = { request, tracker, resolve: resolve as (v: unknown) => void, reject, onStart };
      slot.queue.push(job);
      if (slot.running !== null && tracker !== undefined) tracker.waitingForCapacity = true;
      this.dispatch(slot);
    });
  }

  /** Test hook: the next op handed to a worker blocks there until released. */
  holdNext(): WorkGate {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    let reached: () => void = () => {};
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    this.pendingGate = { gate, reached };
    this.gates.add(gate);
    return {
      reached: reachedPromise,
      release: () => {
        if (this.pendingGate?.gate === gate) this.pendingGate = undefined;
        this.gates.delete(gate);
        Atomics.store(gate, 0, 1);
        Atomics.notify(gate, 0);
      },
    };
  }

  /**
   * Stops taking ops: those still waiting fail with PoolClosedError; those running finish (their
   * answers are delivered), then the workers exit.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const gate of this.gates) {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    }
    this.gates.clear();
    for (const slot of this.slots) {
      for (const job of slot.queue.splice(0)) {
        job.reject(new PoolClosedError("the server shut down before this request ran"));
      }
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        while (slot.running !== null) await this.nextReply(slot);
        const worker = slot.worker;
        slot.worker = null;
        if (worker !== null) await worker.terminate();
      }),
    );
  }

  private nextReply(slot: Slot): Promise<void> {
    return new Promise((resolve) => {
      const worker = slot.worker;
      if (worker === null || slot.running === null) return resolve();
      const done = (): void => {
        worker.off("message", done);
        worker.off("exit", done);
        // Let the slot's own listener run first.
        setImmediate(resolve);
      };
      worker.on("message", done);
      worker.on("exit", done);
    });
  }

  private spawn(slot: Slot): Worker {
    const worker = startWorker(`tinker-local model worker ${slot.index}`);
    worker.on("message", (reply: WorkerReply) => {
      const job = slot.running;
      if (job === null || job.id !== reply.id) {
        this.logger.error(`model worker ${slot.index}: answer ${reply.id} matches no request`);
        return;
      }
      slot.running = null;
      if (reply.ok) job.resolve(reply.value);
      else job.reject(rebuild(reply.error));
      this.dispatch(slot);
      // Idle workers must not keep a finished process alive; a running op keeps it referenced.
      if (slot.running === null) worker.unref();
    });
    worker.on("error", (error) => {
      // A worker that dies takes its models with it: fail what it was running and start afresh.
      this.logger.error(`model worker ${slot.index} failed: ${error.stack ?? error.message}`);
      const job = slot.running;
      slot.running = null;
      slot.worker = null;
      job?.reject(new Error(`the model worker failed: ${error.message}`));
      this.dispatch(slot);
    });
    worker.unref();
    return worker;
  }

  private dispatch(slot: Slot): void {
    if (slot.running !== null || this.closed) return;
    const job = slot.queue.shift();
    if (job === undefined) return;
    slot.worker ??= this.spawn(slot);
    const id = this.nextId++;
    const gate = this.pendingGate;
    this.pendingGate = undefined;
    const request: WorkerRequest =
      gate === undefined ? { ...job.request, id } : { ...job.request, id, gate: gate.gate };
    slot.running = { ...job, id };
    if (job.tracker !== undefined) job.tracker.waitingForCapacity = false;
    job.onStart?.();
    slot.worker.ref();
    slot.worker.postMessage(request);
    gate?.reached();
  }
}
