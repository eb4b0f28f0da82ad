// Service-level routes: configuration, auth token, sessions, health and capabilities
// (contract sections 2.2-2.5, 3.9). Telemetry (3.8) is in telemetry.ts.
import type { FastifyInstance } from "fastify";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import type { ClientConfig, RouteContext, RouteGroup } from "../context.js";

/** Defaults of contract 2.2, except the flags "Our decisions" item 7 pins for tinker-local. */
export function defaultClientConfig(jwt: boolean): ClientConfig {
  return {
    pjwt_auth_enabled: jwt,
    credential_default_source: "api_key",
    sample_dispatch_bytes_semaphore_size: 10_485_760,
    inflight_response_bytes_semaphore_size: 52_428_800,
    parallel_fwdbwd_chunks: true,
    proto_compress_fwdbwd: false,
    fwdbwd_max_chunk_len: 1024,
    fwdbwd_max_chunk_bytes_count: 5_000_000,
    fwdbwd_dispatch_bytes_semaphore_size: 50_000_000,
    billing_exception_max_pause_duration_sec: 3600,
    sample_no_retries: false,
    sample_enable_stuck_detection: true,
    sample_max_concurrent_requests: 2000,
    use_pyqwest_transport: false,
    create_model_via_load_weights: false,
  };
}

export const serviceRoutes: RouteGroup = (app: FastifyInstance, ctx: RouteContext) => {
  const clientConfig = { ...defaultClientConfig(ctx.options.jwt), ...ctx.options.clientConfig };

  // The request body is `{sdk_version}`; nothing in the answer depends on it.
  app.post("/api/v1/client/config", async () => clientConfig);

  app.post("/api/v1/client/dynamic_config", async () => ctx.options.dynamicConfig);

  // Works with or without JWT mode, with a raw key or one of our JWTs: the client decides whether to
  // exchange, and a JWT is what `whoami`-style tools read the user from.
  app.post("/api/v1/auth/token", async (request) => ({
    jwt: await ctx.auth.issueToken(requireUser(request)),
  }));

  app.post("/api/v1/create_session", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "create_session");
    const session = ctx.sessions.create(user.id, {
      tags: body.stringArray("tags"),
      userMetadata: body.objectOrNull("user_metadata"),
      sdkVersion: body.string("sdk_version"),
      projectId: body.optionalString("project_id") ?? null,
    });
    return { type: "create_session", session_id: session.id };
  });

  app.post("/api/v1/session_heartbeat", async (request) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    body.optionalLiteral("type", "session_heartbeat");
    ctx.sessions.heartbeat(user.id, body.string("session_id"));
    return { type: "session_heartbeat" };
  });

  app.get("/api/v1/healthz", { config: { auth: false } }, async () => ({ status: "ok" }));

  app.get("/api/v1/get_server_capabilities", async () => ({
    supported_models: ctx.options.models.map((model) => ({
      model_name: model.name,
      max_context_length: model.maxContextLength,
    })),
  }));
};
