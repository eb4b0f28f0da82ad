// Training model lifecycle (contract 2.8, 3.1): create_model, load_weights (both forms: into a
// model at a seq_id, and create-via-load as seq 0 of a new model), get_info, unload_model. Every
// request but get_info is a future: the handler checks the request, answers `{request_id,
// model_id}`, and the work runs in seq_id order per model. Someone else's model answers 404,
// exactly like a missing one. Steps are in training-steps.ts, saves in training-saves.ts.
import type { FastifyRequest } from "fastify";
import type { FutureResult } from "../../engine/futures.js";
import type { TrainingModelEntry } from "../../engine/model-registry.js";
import { RemoteModel } from "../../engine/remote-model.js";
import { badRequest, HttpError } from "../../errors.js";
import { readCheckpointInfo } from "../../model/checkpoint.js";
import { ModelInputError } from "../../model/errors.js";
import { type LoraConfig, type ResolvedLoraConfig, resolveLoraConfig } from "../../model/lora.js";
import { findModelSpec } from "../../model/specs.js";
import type { CheckpointRecord } from "../../store/checkpoints.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import {
  ADAPTER_WEIGHTS_FILE,
  checkpointReaders,
  OPTIMIZER_FILE,
  readableCheckpointAt,
  readCheckpointFile,
  requireBaseModel,
} from "../checkpoint-access.js";
import type { RouteContext, RouteGroup } from "../context.js";
import { ack, touchRun } from "../training-common.js";
import { bodyByteCount } from "../wire-body.js";

/** `arch` in get_info's model_data: one architecture for every catalog model (docs/models.md). */
const MODEL_ARCH = "tinker-local-transformer";

function readUserMetadata(body: BodyReader): Record<string, string> | null {
  if (!body.has("user_metadata")) return null;
  const metadata = body.object("user_metadata");
  const out: Record<string, string> = {};
  for (const key of Object.keys(metadata.raw)) {
    Object.defineProperty(out, key, { value: metadata.string(key), enumerable: true });
  }
  return out;
}

function readLoraConfig(lora: BodyReader): ResolvedLoraConfig {
  const config: LoraConfig = { rank: lora.integer("rank", 1) };
  const seed = lora.optionalInteger("seed");
  if (seed !== undefined) config.seed = seed;
  for (const key of ["train_attn", "train_mlp", "train_unembed"] as const) {
    const value = lora.optionalBoolean(key);
    if (value !== undefined) config[key] = value;
  }
  try {
    return resolveLoraConfig(config);
  } catch (error) {
    if (error instanceof ModelInputError) throw badRequest(`Field 'lora_config': ${error.message}`);
    throw error;
  }
}

/** False once the session has expired (the check records the expiry, like any other request's). */
function sessionAlive(ctx: RouteContext, sessionId: string, owner: string): boolean {
  try {
    ctx.sessions.requireActive(owner, sessionId);
    return true;
  } catch (error) {
    if (error instanceof HttpError && error.statusCode === 404) return false;
    throw error;
  }
}

export const trainingModelRoutes: RouteGroup = (app, ctx: RouteContext) => {
  const runtime = ctx.training;
  const { store } = ctx;
  const touch = (entry: TrainingModelEntry): void => touchRun(ctx, entry);
  // An expired session has no client heartbeating it any more: free its models on the sweep's beat.
  runtime.watchSessions(
    (sessionId, owner) => sessionAlive(ctx, sessionId, owner),
    ctx.options.rest.checkpointSweepIntervalMs,
  );

  /** Registers the run and the in-memory model; `build` makes the model when its turn comes. */
  const createTrainingModel = (
    request: FastifyRequest,
    fields: {
      sessionId: string;
      modelSeqId: number;
      baseModel: string;
      lora: ResolvedLoraConfig;
      userMetadata: Record<string, string> | null;
      kind: "create_model" | "load_weights";
    },
    build: (entry: TrainingModelEntry) => Promise<{ model: RemoteModel; result: FutureResult }>,
  ) => {
    const user = requireUser(request);
    const modelId = `${fields.sessionId}:train:${fields.modelSeqId}`;
    store.runs.create({
      id: modelId,
      owner: user.id,
      sessionId: fields.sessionId,
      baseModel: fields.baseModel,
      isLora: true,
      loraRank: fields.lora.rank,
      trainMlp: fields.lora.train_mlp,
      trainAttn: fields.lora.train_attn,
      trainUnembed: fields.lora.train_unembed,
      userMetadata: fields.userMetadata,
    });
    const entry = runtime.createTrainingModel(
      {
        id: modelId,
        owner: user.id,
        sessionId: fields.sessionId,
        baseModel: fields.baseModel,
        lora: fields.lora,
        kind: fields.kind,
      },
      async (created) => {
        const { model, result } = await build(created);
        created.model = model;
        return result;
      },
    );
    return ack(entry.creationRequestId, modelId);
  };

  /** A repeated creation of a model this user already has answers the original request. */
  const existingCreation = (request: FastifyRequest, modelId: string) => {
    const existing = runtime.models.findTraining(modelId);
    return existing !== undefined && existing.owner === requireUser(request).id
      ? ack(existing.creationRequestId, modelId)
      : undefined;
  };

  app.post("/api/v1/create_model", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "create_model");
    const sessionId = body.string("session_id");
    const modelSeqId = body.integer("model_seq_id", 0);
    const again = existingCreation(request, `${sessionId}:train:${modelSeqId}`);
    if (again !== undefined) return again;
    ctx.sessions.requireActive(user.id, sessionId);
    const baseModel = requireBaseModel(ctx.options.models, body.string("base_model"), "base_model");
    const userMetadata = readUserMetadata(body);
    const lora = readLoraConfig(body.object("lora_config"));
    return createTrainingModel(
      request,
      { sessionId, modelSeqId, baseModel, lora, userMetadata, kind: "create_model" },
      async (entry) => ({
        model: await RemoteModel.create(runtime.pool, baseModel, lora),
        result: { type: "json", value: { model_id: entry.id, type: "create_model" } },
      }),
    );
  });

  app.post("/api/v1/load_weights", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "load_weights");
    if (body.has("model_id")) {
      const entry = runtime.models.requireTraining(user.id, body.string("model_id"));
      const readers = await checkpointReaders(ctx, request, body);
      const requestId = runtime.submitOrdered(
        entry,
        body.integer("seq_id"),
        "load_weights",
        () => {
          const checkpoint = readableCheckpointAt(ctx, readers, body.string("path"));
          const optimizer = readOptimizerFlag(body, checkpoint);
          return async (model) => {
            await model.load(
              readCheckpointFile(ctx, checkpoint, ADAPTER_WEIGHTS_FILE),
              optimizer ? readCheckpointFile(ctx, checkpoint, OPTIMIZER_FILE) : null,
            );
            touch(entry);
            return { type: "json", value: { path: checkpoint.tinkerPath, model_id: entry.id } };
          };
        },
        bodyByteCount(request),
      );
      return ack(requestId, entry.id);
    }
    if (!body.has("session_id")) {
      throw badRequest(
        "load_weights needs 'model_id' and 'seq_id' (load into a model), or 'session_id' and 'model_seq_id' (create the model from the checkpoint)",
      );
    }
    // Create-via-load (contract 2.8): seq 0 of a new model, whose LoRA config is the checkpoint's.
    const sessionId = body.string("session_id");
    const modelSeqId = body.integer("model_seq_id", 0);
    const again = existingCreation(request, `${sessionId}:train:${modelSeqId}`);
    if (again !== undefined) return again;
    ctx.sessions.requireActive(user.id, sessionId);
    const readers = await checkpointReaders(ctx, request, body);
    const checkpoint = readableCheckpointAt(ctx, readers, body.string("path"));
    const optimizer = readOptimizerFlag(body, checkpoint);
    const weights = readCheckpointFile(ctx, checkpoint, ADAPTER_WEIGHTS_FILE);
    let info: ReturnType<typeof readCheckpointInfo>;
    try {
      info = readCheckpointInfo(weights);
    } catch (error) {
      if (error instanceof ModelInputError) {
        throw badRequest(`Checkpoint ${checkpoint.tinkerPath} cannot be loaded: ${error.message}`);
      }
      throw error;
    }
    const requested = body.optionalString("base_model");
    if (
      requested !== undefined &&
      requireBaseModel(ctx.options.models, requested, "base_model") !== info.baseModel
    ) {
      throw badRequest(
        `Checkpoint ${checkpoint.tinkerPath} was trained on ${info.baseModel}; it cannot be loaded into ${requested}`,
      );
    }
    return createTrainingModel(
      request,
      {
        sessionId,
        modelSeqId,
        baseModel: info.baseModel,
        lora: info.lora,
        userMetadata: readUserMetadata(body),
        kind: "load_weights",
      },
      async (entry) => {
        const model = await RemoteModel.create(runtime.pool, info.baseModel, info.lora);
        try {
          await model.load(weights, optimizer ? readCheckpointFile(ctx, checkpoint, OPTIMIZER_FILE) : null);
        } catch (error) {
          model.dispose();
          throw error;
        }
        return {
          model,
          result: { type: "json", value: { model_id: entry.id, path: checkpoint.tinkerPath } },
        };
      },
    );
  });

  app.post("/api/v1/get_info", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "get_info");
    const entry = runtime.models.requireTraining(user.id, body.string("model_id"));
    return {
      type: "get_info",
      model_data: {
        arch: MODEL_ARCH,
        model_name: entry.baseModel,
        tokenizer_id: findModelSpec(entry.baseModel).tokenizer.tokenizerId,
      },
      model_id: entry.id,
      is_lora: true,
      lora_rank: entry.lora.rank,
      model_name: entry.baseModel,
    };
  });

  app.post("/api/v1/unload_model", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "unload_model");
    const entry = runtime.models.requireTraining(user.id, body.string("model_id"));
    return ack(runtime.unload(entry), entry.id);
  });
};

/** `optimizer` (default false); sampler checkpoints hold weights only. */
function readOptimizerFlag(body: BodyReader, checkpoint: CheckpointRecord): boolean {
  const optimizer = body.optionalBoolean("optimizer") ?? false;
  if (optimizer && checkpoint.kind === "sampler") {
    throw badRequest(
      `Checkpoint ${checkpoint.tinkerPath} holds sampler weights only, no optimizer state; load it with optimizer: false, or load a weights/ checkpoint`,
    );
  }
  return optimizer;
}
