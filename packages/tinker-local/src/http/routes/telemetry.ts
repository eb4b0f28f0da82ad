// POST /api/v1/telemetry (contract 3.8): a batch of events, counted per session in SQLite and kept
// in memory (store.telemetry.received) so tests can read what a client sent. Lenient on purpose:
// only `events` must be an array of objects; the rest of the batch is recorded as given.

import type { FastifyInstance } from "fastify";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import type { RouteContext, RouteGroup } from "../context.js";

export const telemetryRoutes: RouteGroup = (app: FastifyInstance, ctx: RouteContext) => {
  app.post("/api/v1/telemetry", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    const events = body.array("events");
    // Counted under the id the client names, which may be `sessionless-<uuid>` (contract 2.1).
    const sessionId = body.optionalString("session_id") ?? "";
    const now = ctx.clock.now();
    ctx.store.telemetry.record(user.id, sessionId, events.length, now);
    ctx.store.telemetry.received.add({
      owner: user.id,
      sessionId,
      platform: body.optionalString("platform"),
      sdkVersion: body.optionalString("sdk_version"),
      processUuid: body.optionalString("process_uuid"),
      events: events.filter((e): e is Record<string, unknown> => e !== null && typeof e === "object"),
      receivedAt: now,
    });
    return { status: "accepted" };
  });
};
