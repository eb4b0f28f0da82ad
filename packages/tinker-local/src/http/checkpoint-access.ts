// Checkpoints as the training and sampling handlers both need them: which base models exist, who
// may read a checkpoint, and a model built from one's adapter file. Shared here so that no route
// module imports another.
import type { FastifyRequest } from "fastify";
import { RemoteModel } from "../engine/remote-model.js";
import { badRequest } from "../errors.js";
import type { ModelSpec } from "../model/catalog.js";
import { ModelInputError } from "../model/errors.js";
import { parseTinkerPath } from "../store/checkpoint-ids.js";
import type { CheckpointRecord } from "../store/checkpoints.js";
import { readableCheckpoint } from "./access.js";
import { requireUser } from "./auth.js";
import type { BodyReader } from "./body-reader.js";
import type { RouteContext } from "./context.js";

export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";

/** The name when this server serves that model (its own models and the twins it offers). */
export function requireBaseModel(served: readonly ModelSpec[], name: string, field: string): string {
  if (served.some((model) => model.name === name)) return name;
  throw badRequest(
    `Unknown ${field} '${name}'; tinker-local serves: ${served.map((model) => model.name).join(", ")} (twins of other hosted models: start tinker-local with --model NAME)`,
  );
}

/** The users whose checkpoints a request may read: the caller, plus a `weights_access_token`'s user. */
export async function checkpointReaders(ctx: RouteContext, request: FastifyRequest, body: BodyReader) {
  const readers = [requireUser(request).id];
  const token = body.optionalString("weights_access_token");
  if (token !== undefined) {
    try {
      const other = await ctx.auth.authenticate(token);
      if (!readers.includes(other.id)) readers.push(other.id);
    } catch {
      throw badRequest("Field 'weights_access_token' is not a valid API key or token of this server");
    }
  }
  return readers;
}

/** A checkpoint one of `readers` may read (theirs, or public); 400 for a malformed path, else 404. */
export function readableCheckpointAt(ctx: RouteContext, readers: readonly string[], path: string) {
  const parsed = parseTinkerPath(path);
  let firstError: unknown;
  for (const reader of readers) {
    try {
      return readableCheckpoint(ctx.store, reader, parsed.runId, parsed.checkpointId);
    } catch (error) {
      firstError ??= error;
    }
  }
  throw firstError;
}

/** One file of a checkpoint, checked against what was recorded at save time (store/checkpoints.ts). */
export function readCheckpointFile(
  ctx: RouteContext,
  checkpoint: CheckpointRecord,
  file: string,
): Uint8Array {
  return ctx.store.checkpoints.readFile(checkpoint, file);
}

/**
 * A model holding a checkpoint's adapter weights (for samplers), built in a worker of the pool;
 * 400 when the files are not ours.
 */
export async function modelFromCheckpoint(
  ctx: RouteContext,
  checkpoint: CheckpointRecord,
): Promise<RemoteModel> {
  const weights = readCheckpointFile(ctx, checkpoint, ADAPTER_WEIGHTS_FILE);
  try {
    return await RemoteModel.fromCheckpoint(ctx.training.pool, weights);
  } catch (error) {
    if (error instanceof ModelInputError) {
      throw badRequest(`Checkpoint ${checkpoint.tinkerPath} cannot be loaded: ${error.message}`);
    }
    throw error;
  }
}
