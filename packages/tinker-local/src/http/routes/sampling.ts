// Sampling endpoints (contract 2.9, 3.2, 4.7, 4.8; master table rows 6 and 16):
// create_sampling_session (not a future) and asample (a future, not ordered: sampling has no
// seq_id ordering, and sampling twice is harmless, so repeated seq_ids are not merged).
// `GET /api/v1/samplers/{id}` is in rest/session-routes.ts.
import { performance } from "node:perf_hooks";
import {
  checkModelInput,
  failDecode,
  type SampleResponse,
  WireDecodeError,
  type WireModelInput,
} from "tinker-ts/wire";
import type { SamplerEntry } from "../../engine/model-registry.js";
import type { RemoteModel } from "../../engine/remote-model.js";
import { badRequest, HttpError, notFound } from "../../errors.js";
import type { SamplingParams } from "../../model/sampling.js";
import { prepareModel } from "../../model/twin-tokenizer.js";
import { CheckpointFileMissingError } from "../../store/checkpoint-files.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import { modelFromCheckpoint, readableCheckpointAt, requireBaseModel } from "../checkpoint-access.js";
import type { RouteContext, RouteGroup } from "../context.js";
import { modelInputTokens } from "../wire-body.js";

/** What an asample request samples from. */
interface SamplingTarget {
  model: RemoteModel;
  baseModel: string;
  /** Usage is recorded against the sampler's session; requests by path or base model have none. */
  sessionId: string | null;
  modelId: string | null;
}

function readSamplingParams(body: BodyReader): SamplingParams {
  const reader = body.optionalObject("sampling_params");
  const params: SamplingParams = {};
  if (reader === undefined) return params;
  const maxTokens = reader.optionalInteger("max_tokens", 0);
  if (maxTokens !== undefined) params.max_tokens = maxTokens;
  if (reader.has("seed")) {
    const seed = reader.raw.seed;
    if (typeof seed !== "number" || !Number.isInteger(seed)) {
      throw badRequest("Field 'sampling_params.seed' must be an integer");
    }
    // uint64 seeds beyond 2^53 arrive as (exact) integer doubles; the sampler takes them as bigint.
    params.seed = Number.isSafeInteger(seed) ? seed : BigInt(seed);
  }
  const temperature = reader.optionalNumber("temperature");
  if (temperature !== undefined) params.temperature = temperature;
  const topK = reader.optionalInteger("top_k");
  if (topK !== undefined) params.top_k = topK;
  const topP = reader.optionalNumber("top_p");
  if (topP !== undefined) params.top_p = topP;
  if (reader.has("stop")) {
    const stop = reader.raw.stop;
    const ok =
      typeof stop === "string" ||
      (Array.isArray(stop) &&
        (stop.every((item) => typeof item === "string") || stop.every((item) => Number.isInteger(item))));
    if (!ok) {
      throw badRequest(
        "Field 'sampling_params.stop' must be a string, a list of strings or a list of token ids",
      );
    }
    params.stop = stop as SamplingParams["stop"];
  }
  return params;
}

function readPrompt(body: BodyReader): WireModelInput {
  if (!body.has("prompt")) throw badRequest("Field 'prompt' is required (a ModelInput {chunks: [...]})");
  try {
    return checkModelInput(body.raw.prompt, "prompt", failDecode);
  } catch (error) {
    if (error instanceof WireDecodeError) throw badRequest(`Invalid asample body: ${error.message}`);
    throw error;
  }
}

export const samplingRoutes: RouteGroup = (app, ctx: RouteContext) => {
  const runtime = ctx.training;
  const { store } = ctx;

  /**
   * A sampler's weights read back from its checkpoint. The checkpoint may be gone: an unnamed
   * save's expires (ephemeralTtlSeconds) while its sampler lives on in memory, and a sampler not in
   * memory (after a restart, or after its session expired) then has nothing to sample from.
   */
  const rebuildFromCheckpoint = async (
    samplerId: string,
    modelPath: string,
    owner: string,
  ): Promise<RemoteModel> => {
    try {
      return await modelFromCheckpoint(ctx, readableCheckpointAt(ctx, [owner], modelPath));
    } catch (error) {
      const missing =
        (error instanceof HttpError && error.statusCode === 404) ||
        error instanceof CheckpointFileMissingError;
      if (!missing) throw error;
      throw notFound(
        `Sampler ${samplerId} is not in memory and its weights ${modelPath} are gone (expired or deleted; unnamed save_weights_for_sampler checkpoints expire after ${ctx.options.training.ephemeralTtlSeconds} s unless ttl_seconds is set); save the weights for sampling again`,
      );
    }
  };

  /** The caller's sampler, rebuilt from its row when it is not in memory (e.g. after a restart). */
  const samplerFor = async (owner: string, samplerId: string): Promise<SamplerEntry> => {
    const loaded = runtime.models.findSampler(samplerId);
    if (loaded !== undefined && loaded.owner === owner) return loaded;
    const row = store.samplers.get(samplerId);
    if (row === undefined || row.owner !== owner) throw notFound(`Sampler not found: ${samplerId}`);
    const model =
      row.modelPath === null
        ? await runtime.models.baseModel(row.baseModel)
        : await rebuildFromCheckpoint(samplerId, row.modelPath, owner);
    // Two requests may have rebuilt it at once: keep the first, free the other copy.
    const raced = runtime.models.findSampler(samplerId);
    if (raced !== undefined) {
      if (row.modelPath !== null) model.dispose();
      return raced;
    }
    const entry: SamplerEntry = { ...row, model };
    runtime.models.addSampler(entry);
    return entry;
  };

  const modelAtPath = (owner: string, path: string): Promise<RemoteModel> => {
    const checkpoint = readableCheckpointAt(ctx, [owner], path);
    return runtime.models.checkpointModel(`${checkpoint.tinkerPath}@${checkpoint.createdAt}`, () =>
      modelFromCheckpoint(ctx, checkpoint),
    );
  };

  const targetOf = async (owner: string, body: BodyReader): Promise<SamplingTarget> => {
    const samplerId = body.optionalString("sampling_session_id");
    if (samplerId !== undefined) {
      const sampler = await samplerFor(owner, samplerId);
      return {
        model: sampler.model,
        baseModel: sampler.baseModel,
        sessionId: sampler.sessionId,
        modelId: sampler.id,
      };
    }
    const path = body.optionalString("model_path");
    if (path !== undefined) {
      const model = await modelAtPath(owner, path);
      return { model, baseModel: model.baseModel, sessionId: null, modelId: null };
    }
    const base = body.optionalString("base_model");
    if (base !== undefined) {
      const name = requireBaseModel(ctx.options.models, base, "base_model");
      return { model: await runtime.models.baseModel(name), baseModel: name, sessionId: null, modelId: null };
    }
    throw badRequest("asample needs 'sampling_session_id', 'model_path' or 'base_model'");
  };

  app.post("/api/v1/create_sampling_session", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "create_sampling_session");
    const sessionId = body.string("session_id");
    const seqId = body.integer("sampling_session_seq_id", 0);
    const requestedBase = body.optionalString("base_model");
    const modelPath = body.optionalString("model_path") ?? null;
    if (requestedBase === undefined && modelPath === null) {
      throw badRequest("create_sampling_session needs 'base_model' or 'model_path'");
    }
    ctx.sessions.requireActive(user.id, sessionId);
    if (requestedBase !== undefined) requireBaseModel(ctx.options.models, requestedBase, "base_model");
    const samplerId = `${sessionId}:sample:${seqId}`;
    const answer = { type: "create_sampling_session", sampling_session_id: samplerId };

    const existing = store.samplers.get(samplerId);
    if (existing !== undefined) {
      // The same request again (a retried submit) gets the same sampler; anything else is a clash.
      const same =
        existing.owner === user.id &&
        existing.modelPath === modelPath &&
        (requestedBase === undefined || requestedBase === existing.baseModel);
      if (!same) {
        throw new HttpError(409, `Sampler ${samplerId} already exists; use a new sampling_session_seq_id`, {
          "x-should-retry": "false",
        });
      }
      await samplerFor(user.id, samplerId);
      return answer;
    }
    const pending = runtime.futures.state(runtime.models.pendingSamplers.get(samplerId) ?? "");
    if (pending === "queued" || pending === "running") {
      throw new HttpError(409, `Sampler ${samplerId} is being created by save_weights_for_sampler`, {
        "x-should-retry": "false",
      });
    }

    let model: RemoteModel;
    let baseModel: string;
    if (modelPath !== null) {
      model = await modelFromCheckpoint(ctx, readableCheckpointAt(ctx, [user.id], modelPath));
      baseModel = model.baseModel;
      if (requestedBase !== undefined && requestedBase !== baseModel) {
        model.dispose();
        throw badRequest(
          `Checkpoint ${modelPath} was trained on ${baseModel}, not base_model ${requestedBase}`,
        );
      }
    } else {
      baseModel = requestedBase as string;
      model = await runtime.models.baseModel(baseModel);
    }
    store.samplers.create({ id: samplerId, owner: user.id, sessionId, baseModel, modelPath });
    runtime.models.addSampler({ id: samplerId, owner: user.id, sessionId, baseModel, modelPath, model });
    return answer;
  });

  app.post("/api/v1/asample", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "sample");
    const prompt = readPrompt(body);
    const numSamples = body.optionalInteger("num_samples", 1) ?? 1;
    const params = readSamplingParams(body);
    const promptLogprobs = body.optionalBoolean("prompt_logprobs") ?? false;
    const topk = body.optionalInteger("topk_prompt_logprobs", 0) ?? 0;
    body.optionalInteger("seq_id");
    // Backpressure (contract 3.2): a client that says it handles 429 gets one while the pool is
    // saturated, and resubmits the same request after its backoff; others are queued.
    if (request.headers["x-tinker-sampling-backpressure"] === "1" && runtime.saturated()) {
      throw new HttpError(
        429,
        `tinker-local is at capacity: ${runtime.pool.waiting()} model operation(s) are waiting for its ${runtime.pool.size} worker(s); retry shortly`,
        { "retry-after": "1" },
      );
    }
    const target = await targetOf(user.id, body);
    // A twin matches stop strings on decoded text: its tokenizer must be loaded (once) first. The
    // worker loads its own copy before it samples; loading here too fails a missing twin early.
    await prepareModel(target.baseModel);
    const requestId = runtime.submitUnordered(user.id, "sample", target.modelId, async () => {
      const started = performance.now();
      const tokens = modelInputTokens(prompt, "prompt");
      const out = await target.model.sample(tokens, params, numSamples, { promptLogprobs, topk });
      const { sequences } = out;
      const value: SampleResponse = { sequences, prompt_cache_hit_tokens: 0 };
      if (out.promptLogprobs !== undefined) value.prompt_logprobs = out.promptLogprobs;
      if (out.topkPromptLogprobs !== undefined) value.topk_prompt_logprobs = out.topkPromptLogprobs;
      if (target.sessionId !== null) {
        const common = {
          owner: user.id,
          sessionId: target.sessionId,
          baseModel: target.baseModel,
          modelId: target.modelId,
          operation: "asample",
        };
        store.usage.record({ ...common, type: "sampling_prefill", tokenCount: tokens.length, cached: false });
        store.usage.record({
          ...common,
          type: "sampling_sample",
          tokenCount: sequences.reduce((n, sequence) => n + sequence.tokens.length, 0),
          durationMs: Math.round(performance.now() - started),
        });
      }
      return { type: "sample", value, topkK: topk };
    });
    return { request_id: requestId };
  });
};
