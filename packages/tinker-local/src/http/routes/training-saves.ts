// Saving training state (contract 3.1): save_weights (weights + optimizer, `weights/<name>`) and
// save_weights_for_sampler (weights only, `sampler_weights/<name>`, or an unnamed ephemeral save
// that makes a sampling session). Each is a future run in seq_id order; a name already taken, or
// taken by a save still queued, is a 409 at submit time.
import type { TrainingModelEntry } from "../../engine/model-registry.js";
import { RemoteModel } from "../../engine/remote-model.js";
import { badRequest, HttpError } from "../../errors.js";
import { type CheckpointKind, checkpointIdFor } from "../../store/checkpoint-ids.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, OPTIMIZER_FILE } from "../checkpoint-access.js";
import type { RouteContext, RouteGroup } from "../context.js";
import { ack, touchRun } from "../training-common.js";
import { bodyByteCount } from "../wire-body.js";

/** `ttl_seconds`: a positive integer, or absent/null for a checkpoint that never expires. */
function readTtlSeconds(body: BodyReader): number | null {
  return body.optionalInteger("ttl_seconds", 1) ?? null;
}

function conflict(detail: string): HttpError {
  // The official client retries 409 at the HTTP layer unless told not to; a taken name stays taken.
  return new HttpError(409, detail, { "x-should-retry": "false" });
}

export const trainingSaveRoutes: RouteGroup = (app, ctx: RouteContext) => {
  const runtime = ctx.training;
  const { store } = ctx;
  const touch = (entry: TrainingModelEntry): void => touchRun(ctx, entry);

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

  const expiry = (ttlSeconds: number | null): number | null =>
    ttlSeconds === null ? null : ctx.clock.now() + ttlSeconds * 1000;

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
};
