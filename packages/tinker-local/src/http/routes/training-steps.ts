// Training steps (contract 3.1): forward_backward (and the legacy JSON forward) and optim_step.
// Each is a future: the handler checks the request, answers `{request_id, model_id}`, and the work
// runs in seq_id order per model, in the model's worker.
import { performance } from "node:perf_hooks";
import type { FastifyRequest } from "fastify";
import type { TrainingModelEntry } from "../../engine/model-registry.js";
import { badRequest } from "../../errors.js";
import { ADAM_DEFAULTS, type AdamParams, resolveAdamParams } from "../../model/adam.js";
import { ModelInputError } from "../../model/errors.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import type { RouteContext, RouteGroup } from "../context.js";
import { ack, touchRun } from "../training-common.js";
import {
  bodyByteCount,
  readForwardBackwardBody,
  toForwardBackwardOutput,
  toModelDatum,
} from "../wire-body.js";

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

export const trainingStepRoutes: RouteGroup = (app, ctx: RouteContext) => {
  const runtime = ctx.training;
  const { store } = ctx;
  const touch = (entry: TrainingModelEntry): void => touchRun(ctx, entry);

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
};
