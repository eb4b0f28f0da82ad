// Audit log (admin only) and billing usage (contract 3.7; master table rows 33-34).
import type { FastifyInstance } from "fastify";
import { badRequest, HttpError } from "../../errors.js";
import { requireUser } from "../auth.js";
import { billingRange, billingUsage } from "../billing.js";
import type { RouteContext } from "../context.js";
import { queryParam } from "../query.js";
import { isoTime } from "../views.js";

const DAY_MS = 24 * 3600_000;

function dayRange(text: string | undefined, now: number): { start: number; end: number } {
  if (text === undefined) {
    const start = Math.floor(now / DAY_MS) * DAY_MS;
    return { start, end: start + DAY_MS };
  }
  const start = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(start) || isoTime(start).slice(0, 10) !== text) {
    throw badRequest(`Query parameter 'day' must be a date as YYYY-MM-DD, got '${text}'`);
  }
  return { start, end: start + DAY_MS };
}

export function registerAccountRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/api/v1/audit", async (request) => {
    const user = requireUser(request);
    if (!ctx.options.rest.adminUserIds.has(user.id)) {
      throw new HttpError(
        403,
        "The audit log needs the tinker-admin role (start tinker-local with --admin-key)",
      );
    }
    const eventType = queryParam(request, "event_type") ?? "all";
    if (eventType !== "all" && eventType !== "checkpoints") {
      throw badRequest(`Query parameter 'event_type' must be 'all' or 'checkpoints', got '${eventType}'`);
    }
    const { start, end } = dayRange(queryParam(request, "day"), ctx.clock.now());
    // Every recorded event is a checkpoint event today, so both event types list the same entries.
    const entries = ctx.store.audit.list(start, end, eventType === "checkpoints" ? "checkpoint_" : "");
    return {
      entries: entries.map((entry) => {
        const json: Record<string, string> = { timestamp: isoTime(entry.at), event: entry.event };
        if (entry.modelId !== null) json.model_id = entry.modelId;
        if (entry.tinkerPath !== null) json.tinker_path = entry.tinkerPath;
        if (entry.purpose !== null) json.purpose = entry.purpose;
        return json;
      }),
    };
  });

  app.get("/api/v1/billing/usage/events", async (request) => {
    const user = requireUser(request);
    const { start, end } = billingRange(
      queryParam(request, "starting_on"),
      queryParam(request, "ending_before"),
      ctx.clock.now(),
    );
    return billingUsage(ctx.store, user.id, start, end);
  });
}
