// Training endpoints (contract 2.8, 3.1; master table rows 7-15): create_model, forward_backward
// (and the legacy JSON forward), optim_step, save_weights, save_weights_for_sampler, load_weights
// (both forms), get_info, unload_model. Every request but get_info is a future: the handler checks
// the request, answers `{request_id, model_id}`, and the work runs in seq_id order per model.
// Someone else's model answers 404, exactly like a missing one.
import { performance } from "node:perf_hooks";
import type { FastifyRequest } from "fastify";
import type { FutureResult } from "../../engine/futures.js";
import type { TrainingModelEntry } from "../../engine/model-registry.js";
import { RemoteModel } from "../../engine/remote-model.js";
import { badRequest, HttpError } from "../../errors.js";
import { ADAM_DEFAULTS, type AdamParams, resolveAdamParams } from "../../model/adam.js";
import { readCheckpointInfo } from "../../model/checkpoint.js";
import { ModelInputError } from "../../model/errors.js";
import { type LoraConfig, type ResolvedLoraConfig, resolveLoraConfig } from "../../model/lora.js";
import { findModelSpec } from "../../model/specs.js";
import { type CheckpointKind, checkpointIdFor } from "../../store/checkpoint-ids.js";
import type { CheckpointRecord } from "../../store/checkpoints.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  checkpointReaders,
  OPTIMIZER_FILE,
  readableCheckpointAt,
  readCheckpointFile,
  requireBaseModel,
} from "../checkpoint-access.js";
import type { RouteContext, RouteGroup } from "../context.js";
import {
  bodyByteCount,
  readForwardBackwardBody,
  toForwardBackwardOutput,
  toModelDatum,
} from "../wire-body.js";

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

function readAdamParams(body: BodyReader): Required<AdamParams> {
  const adam = body.optionalObject("adam_params");
  const params: AdamParams = {};
  if (adam !== undefined) {
    for (const key of Object.keys(adam.raw)) {
      if (!(key in ADAM_DEFAULTS)) {
        throw badRequest(
          `Field 'adam_params.${key}' is not an Adam parameter; known: ${Object.keys(ADAM_DEFAULTS).join(", ")}`,
        );
      }
      const value = adam.optionalNumber(key);
      if (value !== undefined) params[key as keyof AdamParams] = value;
    }
  }
  try {
    return resolveAdamParams(params);
  } catch (error) {
    if (error instanceof ModelInputError) throw badRequest(`Field 'adam_params': ${error.message}`);
    throw error;
  }
}

/** `ttl_seconds`: a positive integer, or absent/null for a checkpoint that never expires. */
function readTtlSeconds(body: BodyReader): number | null {
  return body.optionalInteger("ttl_seconds", 1) ?? null;
}

function conflict(detail: string): HttpError {
  // The official client retries 409 at the HTTP layer unless told not to; a taken name stays taken.
  return new HttpError(409, detail, { "x-should-retry": "false" });
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

export const trainingRoutes: RouteGroup = (app, ctx: RouteContext) => {
  const runtime = ctx.training;
  const { store } = ctx;
  // An expired session has no client heartbeating it any more: free its models on the sweep's beat.
  runtime.watchSessions(
    (sessionId, owner) => sessionAlive(ctx, sessionId, owner),
    ctx.options.rest.checkpointSweepIntervalMs,
  );

  const isPending = (requestId: string | undefined): boolean => {
    const state = requestId === undefined ? undefined : runtime.futures.state(requestId);
    return state === "queued" || state === "running";
  };

  /** 409 unless the checkpoint name is free (no saved checkpoint, no save of it still queued). */
  const assertCheckpointFree = (
    entry: TrainingModelEntry,
    checkpointId: string,
    overwrite: boolean,
  ): void => {
    if (overwrite) return;
    const path = `tinker://${entry.id}/${checkpointId}`;
    if (
      store.checkpoints.get(entry.id, checkpointId) !== undefined ||
      isPending(entry.pendingCheckpoints.get(checkpointId))
    ) {
      throw conflict(`Checkpoint ${path} already exists; save with overwrite: true or pick another name`);
    }
  };

  const assertSamplerFree = (samplerId: string): void => {
    if (
      store.samplers.get(samplerId) !== undefined ||
      isPending(runtime.models.pendingSamplers.get(samplerId))
    ) {
      throw conflict(`Sampler ${samplerId} already exists; use a new sampling_session_seq_id`);
    }
  };

  const recordTraining = (entry: TrainingModelEntry, tokens: number, operation: string, started: number) => {
    store.usage.record({
      owner: entry.owner,
      sessionId: entry.sessionId,
      baseModel: entry.baseModel,
      type: "training",
      tokenCount: tokens,
      modelId: entry.id,
      operation,
      durationMs: Math.round(performance.now() - started),
    });
  };

  const touch = (entry: TrainingModelEntry): void => store.runs.touch(entry.id, ctx.clock.now());

  const expiry = (ttlSeconds: number | null): number | null =>
    ttlSeconds === null ? null : ctx.clock.now() + ttlSeconds * 1000;

  const ack = (requestId: string, modelId: string) => ({ request_id: requestId, model_id: modelId });

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

  const forwardBackward = (legacyForward: boolean) => async (request: FastifyRequest) => {
    const user = requireUser(request);
    const what = legacyForward ? "forward" : "forward_backward";
    const req = readForwardBackwardBody(request, ctx.options.bodyLimitBytes, what);
    const entry = runtime.models.requireTraining(user.id, req.model_id);
    const forwardOnly = legacyForward || req.forward_only;
    const kind = forwardOnly ? "forward" : "forward_backward";
    const requestId = runtime.submitOrdered(
      entry,
      req.seq_id,
      kind,
      () => async (model) => {
        const started = performance.now();
        const data = req.data.map(toModelDatum);
        const result = await model.forwardBackward(
          data,
          req.loss_fn,
          req.loss_fn_config ?? null,
          forwardOnly,
        );
        touch(entry);
        recordTraining(
          entry,
          data.reduce((n, datum) => n + datum.tokens.length, 0),
          kind,
          started,
        );
        return { type: "forward_backward", value: toForwardBackwardOutput(result) };
      },
      req.body_bytes,
    );
    return ack(requestId, entry.id);
  };

  app.post("/api/v1/forward_backward", forwardBackward(false));
  // Removed from the 0.25 client (contract 3.1) but still in the master table: JSON, forward only.
  app.post("/api/v1/forward", forwardBackward(true));

  app.post("/api/v1/optim_step", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "optim_step");
    const entry = runtime.models.requireTraining(user.id, body.string("model_id"));
    const requestId = runtime.submitOrdered(
      entry,
      body.integer("seq_id"),
      "optim_step",
      () => {
        const adam = readAdamParams(body);
        return async (model) => {
          const { metrics } = await model.optimStep(adam);
          touch(entry);
          return { type: "json", value: { metrics } };
        };
      },
      bodyByteCount(request),
    );
    return ack(requestId, entry.id);
  });

  app.post("/api/v1/save_weights", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "save_weights");
    const entry = runtime.models.requireTraining(user.id, body.string("model_id"));
    const requestId = runtime.submitOrdered(
      entry,
      body.integer("seq_id"),
      "save_weights",
      () => {
        const checkpointId = checkpointIdFor("training", body.string("path"));
        const ttlSeconds = readTtlSeconds(body);
        const overwrite = body.optionalBoolean("overwrite") ?? false;
        assertCheckpointFree(entry, checkpointId, overwrite);
        return async (model) => {
          const bytes = await model.save(true);
          const files = {
            [ADAPTER_WEIGHTS_FILE]: bytes.weights,
            [ADAPTER_CONFIG_FILE]: Buffer.from(JSON.stringify(bytes.adapterConfig, null, 2)),
            [OPTIMIZER_FILE]: bytes.optimizer as Uint8Array,
          };
          const saved = store.checkpoints.save(
            {
              runId: entry.id,
              checkpointId,
              kind: "training",
              owner: entry.owner,
              expiresAt: expiry(ttlSeconds),
              overwrite,
            },
            files,
          );
          touch(entry);
          return { type: "json", value: { path: saved.tinkerPath } };
        };
      },
      bodyByteCount(request),
    );
    rememberPending(entry.pendingCheckpoints, body, "training", requestId);
    return ack(requestId, entry.id);
  });

  /** Notes the checkpoint name a queued save will take (see assertCheckpointFree). */
  const rememberPending = (
    pending: Map<string, string>,
    body: BodyReader,
    kind: CheckpointKind,
    requestId: string,
  ): void => {
    const name = body.optionalString("path");
    if (name !== undefined && isPending(requestId)) pending.set(checkpointIdFor(kind, name), requestId);
  };

  app.post("/api/v1/save_weights_for_sampler", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "save_weights_for_sampler");
    const entry = runtime.models.requireTraining(user.id, body.string("model_id"));
    let samplerId: string | undefined;
    const requestId = runtime.submitOrdered(
      entry,
      body.integer("seq_id"),
      "save_weights_for_sampler",
      () => {
        const name = body.optionalString("path");
        const samplingSeqId = body.optionalInteger("sampling_session_seq_id", 0);
        if (name === undefined && samplingSeqId === undefined) {
          throw badRequest(
            "save_weights_for_sampler needs 'path' (a name to save under) or 'sampling_session_seq_id' (to get a sampling session)",
          );
        }
        const named = name !== undefined;
        // Unnamed saves are ephemeral: usable by path, never listed (store/checkpoints.ts).
        const checkpointId = named
          ? checkpointIdFor("sampler", name)
          : `sampler_weights/ephemeral-${samplingSeqId}`;
        // Unnamed saves are made once per sampler (an RL loop makes one per iteration): without a TTL
        // of their own they expire after the server's default, so the data dir does not grow forever.
        // The sampler keeps its weights in memory, so it outlives the file.
        const ttlSeconds = readTtlSeconds(body) ?? (named ? null : ctx.options.training.ephemeralTtlSeconds);
        // Unnamed ids are unique per sampling session seq id; never let one replace a named checkpoint.
        const overwrite = named ? (body.optionalBoolean("overwrite") ?? false) : false;
        assertCheckpointFree(entry, checkpointId, overwrite);
        if (samplingSeqId !== undefined) {
          samplerId = `${entry.sessionId}:sample:${samplingSeqId}`;
          assertSamplerFree(samplerId);
        }
        const newSamplerId = samplerId;
        return async (model) => {
          const { weights, adapterConfig } = await model.save(false);
          const saved = store.checkpoints.save(
            {
              runId: entry.id,
              checkpointId,
              kind: "sampler",
              owner: entry.owner,
              expiresAt: expiry(ttlSeconds),
              ephemeral: !named,
              overwrite,
            },
            {
              [ADAPTER_WEIGHTS_FILE]: weights,
              [ADAPTER_CONFIG_FILE]: Buffer.from(JSON.stringify(adapterConfig, null, 2)),
            },
          );
          touch(entry);
          const value: Record<string, unknown> = {};
          if (named) value.path = saved.tinkerPath;
          if (newSamplerId !== undefined) {
            store.samplers.create({
              id: newSamplerId,
              owner: entry.owner,
              sessionId: entry.sessionId,
              baseModel: entry.baseModel,
              modelPath: saved.tinkerPath,
            });
            // A frozen copy: later training of the model does not change what this sampler samples.
            runtime.models.addSampler({
              id: newSamplerId,
              owner: entry.owner,
              sessionId: entry.sessionId,
              baseModel: entry.baseModel,
              modelPath: saved.tinkerPath,
              model: await RemoteModel.fromCheckpoint(runtime.pool, weights),
            });
            value.sampling_session_id = newSamplerId;
          }
          return { type: "json", value };
        };
      },
      bodyByteCount(request),
    );
    rememberPending(entry.pendingCheckpoints, body, "sampler", requestId);
    if (samplerId !== undefined && isPending(requestId))
      runtime.models.pendingSamplers.set(samplerId, requestId);
    return ack(requestId, entry.id);
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
