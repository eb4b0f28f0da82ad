// Who may see what. A user sees their own runs, checkpoints, sessions and samplers; other users'
// resources are visible only through a public checkpoint. Anything else is reported exactly like a
// missing resource (404), so ids of private resources do not leak.

import { notFound } from "../errors.js";
import type { CheckpointRecord } from "../store/checkpoints.js";
import type { Store } from "../store/index.js";
import type { RunRecord } from "../store/runs.js";
import type { AccessScope } from "./query.js";
import { type TrainingRunJson, trainingRunJson } from "./views.js";

export const runNotFound = (runId: string) => notFound(`Training run not found: ${runId}`);
export const checkpointNotFound = (runId: string, checkpointId: string) =>
  notFound(`Checkpoint not found: tinker://${runId}/${checkpointId}`);

/** A run the user may read: theirs, or (with `accessible`) another user's with a public checkpoint. */
export function readableRun(store: Store, userId: string, runId: string, scope: AccessScope): RunRecord {
  const run = store.runs.get(runId);
  if (run === undefined) throw runNotFound(runId);
  if (run.owner === userId) return run;
  if (scope === "accessible" && store.runs.hasPublicCheckpoint(runId)) return run;
  throw runNotFound(runId);
}

/** A run the user owns (for changes). */
export function ownedRun(store: Store, userId: string, runId: string): RunRecord {
  const run = store.runs.get(runId);
  if (run === undefined || run.owner !== userId) throw runNotFound(runId);
  return run;
}

/** A checkpoint the user owns (for changes). */
export function ownedCheckpoint(
  store: Store,
  userId: string,
  runId: string,
  checkpointId: string,
): CheckpointRecord {
  ownedRun(store, userId, runId);
  const checkpoint = store.checkpoints.get(runId, checkpointId);
  if (checkpoint === undefined || checkpoint.owner !== userId) throw checkpointNotFound(runId, checkpointId);
  return checkpoint;
}

/** A checkpoint the user may read: theirs, or a public one of anybody. */
export function readableCheckpoint(
  store: Store,
  userId: string,
  runId: string,
  checkpointId: string,
): CheckpointRecord {
  const checkpoint = store.checkpoints.get(runId, checkpointId);
  if (checkpoint === undefined) throw checkpointNotFound(runId, checkpointId);
  if (checkpoint.owner === userId || (checkpoint.public && !checkpoint.ephemeral)) return checkpoint;
  throw checkpointNotFound(runId, checkpointId);
}

/** TrainingRun JSON as `userId` may see it: another user only sees the public checkpoints. */
export function runView(store: Store, userId: string, run: RunRecord): TrainingRunJson {
  const publicOnly = run.owner !== userId;
  return trainingRunJson(
    run,
    store.checkpoints.latest(run.id, "training", { publicOnly }),
    store.checkpoints.latest(run.id, "sampler", { publicOnly }),
  );
}
