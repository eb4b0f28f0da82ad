// The REST side of the contract: training runs, checkpoints (publish, TTL, archives), sessions,
// samplers, weights info, audit and billing (contract 3.3-3.7; master table rows 18-34), plus the
// signed download URLs they hand out (`/archives/<token>`, `/traces/<token>`).
import type { FastifyInstance } from "fastify";
import type { RouteContext, RouteGroup } from "../context.js";
import { registerAccountRoutes } from "../rest/account-routes.js";
import { ArchiveService } from "../rest/archive-service.js";
import { registerRunRoutes } from "../rest/run-routes.js";
import { SessionQueries } from "../rest/session-queries.js";
import { registerSessionRoutes } from "../rest/session-routes.js";
import { UrlSigner } from "../rest/signed-urls.js";
import { TraceExportService } from "../rest/trace-export.js";

export const restRoutes: RouteGroup = (app: FastifyInstance, ctx: RouteContext) => {
  const signer = new UrlSigner(ctx.clock);
  const archives = new ArchiveService(ctx, signer);
  const traces = new TraceExportService(ctx, signer);
  registerRunRoutes(app, ctx, archives);
  registerSessionRoutes(app, ctx, new SessionQueries(ctx.store.db, ctx.clock), traces);
  registerAccountRoutes(app, ctx);
  archives.register(app);
  traces.register(app);
};
