// Sessions and samplers over REST (contract 3.5, 3.6; master table rows 27-31).
import type { FastifyInstance } from "fastify";
import { badRequest, notFound } from "../../errors.js";
import type { SessionQueries } from "../../store/session-queries.js";
import type { SessionRecord } from "../../store/sessions.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import type { RouteContext } from "../context.js";
import { accessScopeParam, pagingParams } from "../query.js";
import type { TraceExportService } from "../trace-export.js";

export const DEFAULT_SESSIONS_LIMIT = 20;
const MAX_PROJECT_ID_LENGTH = 200;

const sessionNotFound = (id: string) => notFound(`Session not found: ${id}`);

export function registerSessionRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  queries: SessionQueries,
  traces: TraceExportService,
): void {
  const { store } = ctx;

  /** The user's own session (expired ones included: their runs and history remain). */
  const ownedSession = (userId: string, id: string): SessionRecord => {
    const session = store.sessions.get(id);
    if (session === undefined || session.owner !== userId) throw sessionNotFound(id);
    return session;
  };

  app.get("/api/v1/sessions", async (request) => {
    const user = requireUser(request);
    const { limit, offset } = pagingParams(request, DEFAULT_SESSIONS_LIMIT);
    const scope = accessScopeParam(request);
    return { sessions: queries.listIds(user.id, scope === "accessible", limit, offset) };
  });

  app.get<{ Params: { sessionId: string } }>("/api/v1/sessions/:sessionId", async (request) => {
    const user = requireUser(request);
    const scope = accessScopeParam(request);
    const { sessionId } = request.params;
    const session = store.sessions.get(sessionId);
    if (session !== undefined && session.owner === user.id) {
      return {
        training_run_ids: store.runs.listBySession(sessionId).map((run) => run.id),
        sampler_ids: store.samplers.listBySession(sessionId).map((sampler) => sampler.id),
      };
    }
    // Someone else's session shows only what its public checkpoints expose: runs, no samplers.
    const publicRuns = session !== undefined && scope === "accessible" ? queries.publicRunIds(sessionId) : [];
    if (publicRuns.length === 0) throw sessionNotFound(sessionId);
    return { training_run_ids: publicRuns, sampler_ids: [] };
  });

  app.put<{ Params: { sessionId: string } }>("/api/v1/sessions/:sessionId/project", async (request) => {
    const user = requireUser(request);
    const session = ownedSession(user.id, request.params.sessionId);
    const projectId = BodyReader.of(request.body).string("project_id");
    if (projectId === "" || projectId.length > MAX_PROJECT_ID_LENGTH) {
      throw badRequest(`Field 'project_id' must be 1 to ${MAX_PROJECT_ID_LENGTH} characters`);
    }
    // 400 rather than 409: the official client retries 409 for minutes, and waiting cannot help.
    if (session.projectId !== null && session.projectId !== projectId) {
      throw badRequest(
        `Session ${session.id} is already in project '${session.projectId}'; a session cannot be moved out of a project`,
      );
    }
    queries.setProject(session.id, projectId);
    return {};
  });

  app.get<{ Params: { sessionId: string } }>("/api/v1/sessions/:sessionId/trace_export", async (request) => {
    const user = requireUser(request);
    return traces.answer(request, ownedSession(user.id, request.params.sessionId));
  });

  app.get<{ Params: { samplerId: string } }>("/api/v1/samplers/:samplerId", async (request) => {
    const user = requireUser(request);
    const sampler = store.samplers.get(request.params.samplerId);
    if (sampler === undefined || sampler.owner !== user.id) {
      throw notFound(`Sampler not found: ${request.params.samplerId}`);
    }
    const body: { sampler_id: string; base_model: string; model_path?: string } = {
      sampler_id: sampler.id,
      base_model: sampler.baseModel,
    };
    if (sampler.modelPath !== null) body.model_path = sampler.modelPath;
    return body;
  });
}
