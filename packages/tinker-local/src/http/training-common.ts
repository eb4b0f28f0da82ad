// What the three training route groups share (routes/training-*.ts): the acknowledgement every
// future-returning endpoint answers, and the run's "last request" time. Lives outside routes/ so
// that no route module imports another.
import type { TrainingModelEntry } from "../engine/model-registry.js";
import type { RouteContext } from "./context.js";

/** The answer of a submitted training request (contract 5.1). */
export const ack = (requestId: string, modelId: string) => ({ request_id: requestId, model_id: modelId });

/** Marks the model's training run as used now (TrainingRun.last_request_time). */
export const touchRun = (ctx: RouteContext, entry: TrainingModelEntry): void =>
  ctx.store.runs.touch(entry.id, ctx.clock.now());
