// Making a TrainingClient (contract 2.8, 3.1): create_model for a new LoRA model, or a model from a
// checkpoint, by load_weights (when the server's create_model_via_load_weights says so) or by
// create_model with the checkpoint's LoRA config and then loadState. Each creation runs in one
// CreationScope (creation-scope.ts): the client's close(), the caller's signal and timeout stop it.

import { getWeightsInfo } from "../../api/rest.js";
import type { WeightsInfo } from "../../api/rest-schemas.js";
import {
  createModel,
  createModelResult,
  loadWeights,
  loadWeightsResult,
  type SubmitAck,
} from "../../api/training.js";
import { ResponseValidationError, ValidationError } from "../../client/errors.js";
import { pollFuture } from "../../futures/poll.js";
import { parseTinkerPath } from "../../paths/tinker-path.js";
import { type ClientContext, checkWireFormat, type PollCall } from "../context.js";
import { type CreationScope, creationOptionsOf, openCreationScope } from "./creation-scope.js";
import { fetchTrainingInfo } from "./info.js";
import { checkWeightsAccessToken, toLoraConfig } from "./params.js";
import { TrainingClient } from "./training-client.js";
import type { LoraTrainingOptions, TrainingFromStateOptions } from "./types.js";

/** Looks up a checkpoint's LoRA config (weights_info); the token variant uses its own client. */
export type WeightsInfoLookup = (path: string, signal: AbortSignal) => Promise<WeightsInfo>;

/**
 * One creation request in `scope`: submits it, records its request id (for the timeout's error),
 * and polls it to its result, with the scope's queue-state listener.
 */
async function submitAndPoll<T>(
  ctx: ClientContext,
  scope: CreationScope,
  poll: Pick<PollCall<T>, "requestType" | "decoder" | "wireFormat">,
  submit: () => Promise<SubmitAck>,
): Promise<T> {
  const started = ctx.now();
  const ack = await submit();
  scope.submitted(ack.request_id);
  return pollFuture(
    ctx.pollOptions(started, scope.signal, {
      ...poll,
      requestId: ack.request_id,
      onQueueState: scope.onQueueState,
    }),
  );
}

/** create_model, then the client; `outer` is the scope of a fromState around it. */
export async function createLoraTrainingClient(
  ctx: ClientContext,
  baseModel: string,
  options: LoraTrainingOptions = {},
  outer?: CreationScope,
): Promise<TrainingClient> {
  if (typeof baseModel !== "string" || baseModel === "") {
    throw new ValidationError("baseModel must be a non-empty model name", "baseModel");
  }
  const loraConfig = toLoraConfig(options);
  const wireFormat = checkWireFormat(options.wireFormat);
  const scope =
    outer ??
    openCreationScope(
      ctx,
      creationOptionsOf(options),
      "createLoraTrainingClient",
      `Model creation for ${baseModel}`,
    );
  try {
    // Stopped already: send nothing and take no model_seq_id.
    if (scope.signal.aborted) throw scope.signal.reason;
    const result = await submitAndPoll(
      ctx,
      scope,
      {
        requestType: "CreateModel",
        decoder: { name: "CreateModelResponse", json: createModelResult },
        wireFormat,
      },
      () =>
        createModel(
          ctx.http,
          {
            session_id: ctx.sessionId,
            model_seq_id: ctx.counters.nextModelSeqId(),
            base_model: baseModel,
            ...(options.userMetadata ? { user_metadata: options.userMetadata } : {}),
            lora_config: loraConfig,
            type: "create_model",
          },
          { signal: scope.signal },
        ),
    );
    return new TrainingClient(ctx, result.model_id, { baseModel, wireFormat });
  } catch (error) {
    throw scope.translate(error);
  } finally {
    if (!outer) scope.dispose();
  }
}

/** Contract 2.8, both paths (the server's create_model_via_load_weights flag chooses). */
export async function trainingClientFromState(
  ctx: ClientContext,
  path: string,
  options: TrainingFromStateOptions = {},
  lookupWeightsInfo: WeightsInfoLookup = (p, signal) => getWeightsInfo(ctx.http, p, { signal }),
): Promise<TrainingClient> {
  parseTinkerPath(path, "path");
  const wireFormat = checkWireFormat(options.wireFormat);
  const optimizer = options.withOptimizer ?? false;
  const token = checkWeightsAccessToken(options.weightsAccessToken);
  const tokenField = token !== undefined ? { weights_access_token: token } : {};
  const scope = openCreationScope(
    ctx,
    creationOptionsOf(options),
    "createTrainingClientFromState",
    `Model creation from ${path}`,
  );
  try {
    if (scope.signal.aborted) throw scope.signal.reason;
    if (ctx.config.createModelViaLoadWeights) {
      const modelSeqId = ctx.counters.nextModelSeqId();
      await submitAndPoll(
        ctx,
        scope,
        {
          requestType: "LoadWeights",
          decoder: { name: "LoadWeightsResponse", json: loadWeightsResult },
          wireFormat,
        },
        () =>
          loadWeights(
            ctx.http,
            {
              session_id: ctx.sessionId,
              model_seq_id: modelSeqId,
              ...(options.baseModel !== undefined ? { base_model: options.baseModel } : {}),
              ...(options.userMetadata ? { user_metadata: options.userMetadata } : {}),
              path,
              optimizer,
              ...tokenField,
              type: "load_weights",
            },
            { signal: scope.signal },
          ),
      );
      // The model id is computed, not read from the answer (contract 2.8).
      const modelId = `${ctx.sessionId}:train:${modelSeqId}`;
      const baseModel = options.baseModel ?? (await fetchTrainingInfo(ctx, modelId, scope.signal)).modelName;
      return new TrainingClient(ctx, modelId, {
        ...(baseModel !== undefined ? { baseModel } : {}),
        wireFormat,
      });
    }
    const info = await lookupWeightsInfo(path, scope.signal);
    if (!info.isLora || info.loraRank === undefined) {
      throw new ResponseValidationError(
        `${path} is not a LoRA checkpoint (weights_info: is_lora ${info.isLora})`,
      );
    }
    const client = await createLoraTrainingClient(
      ctx,
      options.baseModel ?? info.baseModel,
      {
        rank: info.loraRank,
        trainMlp: info.trainMlp,
        trainAttn: info.trainAttn,
        trainUnembed: info.trainUnembed,
        ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
        wireFormat,
      },
      scope,
    );
    const loadOptions = token !== undefined ? { weightsAccessToken: token } : {};
    const load = optimizer
      ? client.loadStateWithOptimizer(path, loadOptions)
      : client.loadState(path, loadOptions);
    // The load is queued on the new model; stopping here stops the wait, and the error names the
    // model so nothing is left unaccounted for.
    load.submitted().then(scope.submitted, () => {});
    load.on("queueState", scope.onQueueState);
    await load.result({ signal: scope.signal });
    return client;
  } catch (error) {
    throw scope.translate(error);
  } finally {
    scope.dispose();
  }
}
