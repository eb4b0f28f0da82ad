// The REST side of the contract: training runs, checkpoints (publish, TTL, archives), sessions,
// samplers, weights info, audit and billing (contract 3.3-3.7; master table rows 18-34), plus the
// signed download URLs they hand out (`/archives/<token>`, `/traces/<token>`).
import type { FastifyInstance } from "fastify";
import { SessionQueries } from "../store/session-queries.js";
import { ArchiveService } from "./archive-service.js";
import type { RouteContext, RouteGroup } from "./context.js";
import { registerAccountRoutes } from "./routes/account.js";
import { registerRunRoutes } from "./routes/runs.js";
import { registerSessionRoutes } from "./routes/sessions.js";
import { UrlSigner } from "./signed-urls.js";
import { TraceExportService } from "./trace-export.js";

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
