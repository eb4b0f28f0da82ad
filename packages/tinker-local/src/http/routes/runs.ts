// Training runs and checkpoints (contract 3.3, 3.4, 3.6 weights_info; master table rows 18-26, 32).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest, conflict, HttpError } from "../../errors.js";
import { parseCheckpointId, parseTinkerPath } from "../../store/checkpoint-ids.js";
import { checkpointNotFound, ownedCheckpoint, readableCheckpoint, readableRun, runView } from "../access.js";
import type { ArchiveService } from "../archive-service.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import type { RouteContext } from "../context.js";
import { accessScopeParam, pagingParams, queryParam } from "../query.js";
import { splitUrl } from "../request-log.js";
import { checkpointJson } from "../views.js";

/** Contract defaults ("Our decisions" 2). */
export const DEFAULT_RUNS_LIMIT = 20;
export const DEFAULT_CHECKPOINTS_LIMIT = 100;

/** 100 years: beyond that an expiry stops being a date anyone can print. */
const MAX_TTL_SECONDS = 100 * 365 * 24 * 3600;

type CheckpointAction = "delete" | "publish" | "unpublish" | "ttl" | "archive";

/** Suffix routes of `…/checkpoints/{checkpoint_id}`, by method. */
const SUFFIX_ACTIONS: Record<string, Record<string, CheckpointAction>> = {
  DELETE: { publish: "unpublish" },
  POST: { publish: "publish" },
  PUT: { ttl: "ttl" },
  GET: { archive: "archive" },
};

function notFoundRoute(request: FastifyRequest): HttpError {
  return new HttpError(404, `Not Found: ${request.method} ${splitUrl(request.url).path}`);
}

/**
 * Splits the multi-segment tail after `/checkpoints/` into a checkpoint id and an action. The id is
 * itself two segments (`weights/<name>`), so a suffix is recognised only as a third segment.
 */
function checkpointAction(
  request: FastifyRequest,
  tail: string,
): { checkpointId: string; action: CheckpointAction } {
  const segments = tail.split("/");
  const last = segments.at(-1) ?? "";
  const suffixAction = segments.length >= 3 ? SUFFIX_ACTIONS[request.method]?.[last] : undefined;
  if (suffixAction !== undefined) {
    const checkpointId = segments.slice(0, -1).join("/");
    parseCheckpointId(checkpointId);
    return { checkpointId, action: suffixAction };
  }
  if (request.method === "DELETE") {
    parseCheckpointId(tail);
    return { checkpointId: tail, action: "delete" };
  }
  throw notFoundRoute(request);
}

/**
 * The part of the path after `/checkpoints/`, as sent: not percent-decoded, so a checkpoint is found
 * only by its exact name (`…/weights/a%20b` is the name "a%20b", never "a b"). Fastify's `*` param
 * is decoded, which let one text address another checkpoint.
 */
function rawCheckpointTail(request: FastifyRequest): string {
  const path = splitUrl(request.url).path;
  const marker = "/checkpoints/";
  const at = path.indexOf(marker, "/api/v1/training_runs/".length);
  return at === -1 ? "" : path.slice(at + marker.length);
}

function readTtl(body: unknown): number | null {
  const reader = BodyReader.of(body);
  if (!Object.hasOwn(reader.raw, "ttl_seconds")) {
    throw badRequest("Field 'ttl_seconds' is required (a positive integer number of seconds, or null)");
  }
  const value = reader.raw.ttl_seconds;
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0 || value > MAX_TTL_SECONDS) {
    throw badRequest(
      `Field 'ttl_seconds' must be a positive integer of at most ${MAX_TTL_SECONDS} seconds or null, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** 409 that clients should not retry at the HTTP layer: repeating it cannot change the answer. */
function finalConflict(detail: string): HttpError {
  const error = conflict(detail);
  return new HttpError(error.statusCode, error.message, { "x-should-retry": "false" });
}

export function registerRunRoutes(app: FastifyInstance, ctx: RouteContext, archives: ArchiveService): void {
  const { store } = ctx;

  app.get("/api/v1/training_runs", async (request) => {
    const user = requireUser(request);
    const paging = pagingParams(request, DEFAULT_RUNS_LIMIT);
    const scope = accessScopeParam(request);
    const projectId = queryParam(request, "project_id") || undefined;
    const options = { ...paging, projectId };
    const page =
      scope === "owned"
        ? store.runs.listByOwner(user.id, options)
        : store.runs.listAccessible(user.id, options);
    return {
      training_runs: page.items.map((run) => runView(store, user.id, run)),
      cursor: { offset: paging.offset, limit: paging.limit, total_count: page.totalCount },
    };
  });

  app.get<{ Params: { runId: string } }>("/api/v1/training_runs/:runId", async (request) => {
    const user = requireUser(request);
    const run = readableRun(store, user.id, request.params.runId, accessScopeParam(request));
    return runView(store, user.id, run);
  });

  // Unpaged (contract 3.3). Another user sees only the public checkpoints of a run.
  app.get<{ Params: { runId: string } }>("/api/v1/training_runs/:runId/checkpoints", async (request) => {
    const user = requireUser(request);
    const run = readableRun(store, user.id, request.params.runId, "accessible");
    const checkpoints = store.checkpoints.listByRun(run.id, { publicOnly: run.owner !== user.id });
    // A damaged checkpoint is never listed as good: the listing fails with a 500 naming it.
    for (const checkpoint of checkpoints) store.checkpoints.verify(checkpoint);
    return { checkpoints: checkpoints.map(checkpointJson) };
  });

  const checkpointRoute = async (
    request: FastifyRequest<{ Params: { runId: string; "*": string } }>,
    reply: FastifyReply,
  ) => {
    const user = requireUser(request);
    const { runId } = request.params;
    const { checkpointId, action } = checkpointAction(request, rawCheckpointTail(request));
    if (action === "archive") {
      return archives.answerArchiveRequest(
        request,
        reply,
        readableCheckpoint(store, user.id, runId, checkpointId),
      );
    }
    const checkpoint = ownedCheckpoint(store, user.id, runId, checkpointId);
    switch (action) {
      case "delete":
        if (!store.checkpoints.delete(runId, checkpointId)) throw checkpointNotFound(runId, checkpointId);
        break;
      case "publish":
        if (checkpoint.ephemeral)
          throw badRequest("Ephemeral sampler weights cannot be published; save them with a name");
        if (!store.checkpoints.setPublic(runId, checkpointId, true)) {
          throw finalConflict(`Checkpoint ${checkpoint.tinkerPath} is already public`);
        }
        break;
      case "unpublish":
        if (!store.checkpoints.setPublic(runId, checkpointId, false)) {
          throw finalConflict(`Checkpoint ${checkpoint.tinkerPath} is already private`);
        }
        break;
      case "ttl":
        store.checkpoints.setTtl(runId, checkpointId, readTtl(request.body));
        break;
    }
    return {};
  };
  for (const method of ["GET", "POST", "PUT", "DELETE"] as const) {
    app.route({ method, url: "/api/v1/training_runs/:runId/checkpoints/*", handler: checkpointRoute });
  }

  app.get("/api/v1/checkpoints", async (request) => {
    const user = requireUser(request);
    const paging = pagingParams(request, DEFAULT_CHECKPOINTS_LIMIT);
    const page = store.checkpoints.listByOwner(user.id, paging);
    for (const checkpoint of page.items) store.checkpoints.verify(checkpoint);
    return {
      checkpoints: page.items.map(checkpointJson),
      cursor: { offset: paging.offset, limit: paging.limit, total_count: page.totalCount },
    };
  });

  app.post("/api/v1/weights_info", async (request) => {
    const user = requireUser(request);
    const path = BodyReader.of(request.body).string("tinker_path");
    const parsed = parseTinkerPath(path);
    const checkpoint = readableCheckpoint(store, user.id, parsed.runId, parsed.checkpointId);
    const run = store.runs.get(checkpoint.runId);
    if (run === undefined) throw checkpointNotFound(parsed.runId, parsed.checkpointId);
    const info: Record<string, unknown> = { base_model: run.baseModel, is_lora: run.isLora };
    if (run.loraRank !== null) info.lora_rank = run.loraRank;
    info.train_unembed = run.trainUnembed;
    info.train_mlp = run.trainMlp;
    info.train_attn = run.trainAttn;
    return info;
  });
}
