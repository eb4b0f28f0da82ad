// The entry point of a model worker thread: holds models by handle and runs the ops of
// worker-protocol.ts on them, one message at a time, in the order they arrive. The computation is
// synchronous; the main thread keeps its event loop for HTTP. The one await: a twin's tokenizer is
// loaded into this thread (once) before the first sample of it, for stop strings on decoded text.
import { parentPort } from "node:worker_threads";
import { ModelInputError } from "../model/errors.js";
import { createModel, createModelFromCheckpoint, type LoraModel } from "../model/lora-model.js";
import { prepareModel } from "../model/twin-tokenizer.js";
import type { ModelOp, WorkerReply, WorkerRequest } from "./worker-protocol.js";

const models = new Map<string, LoraModel>();

function model(handle: string): LoraModel {
  const found = models.get(handle);
  // A handle is only used after its create op succeeded; a miss is a server bug, not user input.
  if (found === undefined) throw new Error(`model worker: no model under handle ${handle}`);
  return found;
}

function run(handle: string, body: ModelOp): unknown {
  switch (body.op) {
    case "create": {
      const created = createModel(body.baseModel, body.lora);
      models.set(handle, created);
      return { baseModel: created.baseModel };
    }
    case "createFromCheckpoint": {
      const created = createModelFromCheckpoint(body.weights, body.optimizer);
      models.set(handle, created);
      return { baseModel: created.baseModel };
    }
    case "load": {
      const target = model(handle);
      target.loadWeights(body.weights);
      if (body.optimizer !== null) target.loadOptimizer(body.optimizer);
      return null;
    }
    case "forwardBackward":
      return model(handle).forwardBackward(body.data, body.lossFn, body.lossFnConfig, {
        forwardOnly: body.forwardOnly,
      });
    case "optimStep":
      return model(handle).optimStep(body.adam);
    case "sample": {
      const target = model(handle);
      const { sequences } = target.sample(body.tokens, body.params, body.numSamples);
      const out: Record<string, unknown> = { sequences };
      if (body.promptLogprobs) out.promptLogprobs = target.promptLogprobs(body.tokens);
      if (body.topk > 0) out.topkPromptLogprobs = target.topkPromptLogprobs(body.tokens, body.topk);
      return out;
    }
    case "save": {
      const target = model(handle);
      const out: Record<string, unknown> = {
        weights: target.saveWeights(),
        adapterConfig: target.adapterConfig(),
      };
      if (body.optimizer) out.optimizer = target.saveOptimizer();
      return out;
    }
    case "dispose":
      models.get(handle)?.dispose();
      models.delete(handle);
      return null;
  }
}

const port = parentPort;
if (port === null) throw new Error("model-worker.ts runs as a worker thread only");

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  if (request.gate !== undefined) Atomics.wait(request.gate, 0, 0);
  try {
    if (request.body.op === "sample") await prepareModel(model(request.handle).baseModel);
    return { id: request.id, ok: true, value: run(request.handle, request.body) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return {
      id: request.id,
      ok: false,
      error: {
        name: e instanceof ModelInputError ? "ModelInputError" : e.name,
        message: e.message,
        stack: e.stack,
      },
    };
  }
}

/**
 * The buffers of a reply's typed arrays, to be moved to the main thread rather than copied: saved
 * weights and optimizer state run to megabytes per save. Only arrays that own their whole buffer
 * are moved (every result array here is freshly allocated; a view into a buffer the worker keeps
 * would be detached by the move).
 */
function transferables(value: unknown, out: Set<ArrayBuffer> = new Set(), depth = 0): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const { buffer } = value;
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength) {
      out.add(buffer);
    }
  } else if (value !== null && typeof value === "object" && depth < 4) {
    for (const item of Array.isArray(value) ? value : Object.values(value)) {
      transferables(item, out, depth + 1);
    }
  }
  return [...out];
}

// Messages are handled strictly one after another, even across the tokenizer await.
let turn: Promise<void> = Promise.resolve();
port.on("message", (request: WorkerRequest) => {
  turn = turn.then(async () => {
    const reply = await handle(request);
    port.postMessage(reply, reply.ok ? transferables(reply.value) : []);
  });
});
