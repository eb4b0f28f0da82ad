// get_info (contract 3.0, row 14) as the SDK's TrainingInfo: what TrainingClient.getInfo answers, and how a
// model created by load_weights learns its base model.

import { getInfo } from "../../api/training.js";
import type { ClientContext } from "../context.js";
import type { TrainingInfo } from "./types.js";

/** The model's facts from the server; `tokenizerId` without its revision suffix. */
export async function fetchTrainingInfo(
  ctx: ClientContext,
  modelId: string,
  signal: AbortSignal,
): Promise<TrainingInfo> {
  const info = await getInfo(ctx.http, modelId, { signal });
  const tokenizerId = info.model_data?.tokenizer_id ?? undefined;
  return {
    modelId: info.model_id,
    modelName: info.model_name ?? info.model_data?.model_name ?? undefined,
    isLora: info.is_lora ?? undefined,
    loraRank: info.lora_rank ?? undefined,
    arch: info.model_data?.arch ?? undefined,
    tokenizerId: tokenizerId === undefined ? undefined : tokenizerId.split(":")[0],
  };
}
