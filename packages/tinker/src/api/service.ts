// Thin endpoint functions for the service-level calls (contract 2.2-2.5, 3.9): each builds one path
// and body and calls the HTTP core. No other module builds these paths.

import * as v from "valibot";
import type { HttpClient, HttpResponse } from "../client/http.js";

export const PATHS = {
  clientConfig: "/api/v1/client/config",
  dynamicConfig: "/api/v1/client/dynamic_config",
  authToken: "/api/v1/auth/token",
  createSession: "/api/v1/create_session",
  sessionHeartbeat: "/api/v1/session_heartbeat",
  serverCapabilities: "/api/v1/get_server_capabilities",
  healthz: "/api/v1/healthz",
  /** Not part of the API (contract 0.4); only `tinker probe` calls it, to check it is absent. */
  legacyHeartbeat: "/api/v1/heartbeat",
} as const;

/** Per-call options: they override the client's settings for one call. */
export interface CallOptions {
  /** Aborts the call (and its retries); it then rejects with `APIUserAbortError`. */
  signal?: AbortSignal;
  /** Per-attempt timeout in ms; defaults to the client's `timeout` (60 000). */
  timeout?: number;
  /** Retries after the first attempt; defaults to the client's `maxRetries`. */
  maxRetries?: number;
  /** Extra request headers for this call (they cannot replace the credential headers). */
  headers?: Record<string, string>;
}

/** `client/config` answers with any JSON object; fields are read by session/client-config.ts. */
const anyObject = v.record(v.string(), v.unknown());

export async function fetchClientConfig(
  http: HttpClient,
  sdkVersion: string,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const res = await http.request({
    method: "POST",
    path: PATHS.clientConfig,
    body: { sdk_version: sdkVersion },
    schema: anyObject,
    ...options,
  });
  return res.data;
}

export async function fetchDynamicConfig(
  http: HttpClient,
  sdkVersion: string,
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const res = await http.request({
    method: "POST",
    path: PATHS.dynamicConfig,
    body: { sdk_version: sdkVersion },
    schema: anyObject,
    timeout: 10_000,
    maxRetries: 0,
    ...options,
  });
  return res.data;
}

const authTokenResponse = v.object({ jwt: v.pipe(v.string(), v.minLength(1)) });

/** Exchanges the credential the client's auth provider supplies for a JWT. */
export async function fetchAuthToken(http: HttpClient, options: CallOptions = {}): Promise<string> {
  const res = await http.request({
    method: "POST",
    path: PATHS.authToken,
    body: {},
    schema: authTokenResponse,
    ...options,
  });
  return res.data.jwt;
}

export interface CreateSessionBody {
  tags: string[];
  user_metadata: Record<string, unknown>;
  sdk_version: string;
  project_id?: string;
  type: "create_session";
}

const optionalMessage = v.nullish(v.string());
const createSessionResponse = v.object({
  type: v.optional(v.literal("create_session")),
  session_id: v.pipe(v.string(), v.minLength(1)),
  info_message: optionalMessage,
  warning_message: optionalMessage,
  error_message: optionalMessage,
});
export type CreateSessionResponse = v.InferOutput<typeof createSessionResponse>;

export async function createSession(
  http: HttpClient,
  body: CreateSessionBody,
  options: CallOptions = {},
): Promise<CreateSessionResponse> {
  const res = await http.request({
    method: "POST",
    path: PATHS.createSession,
    body,
    schema: createSessionResponse,
    ...options,
  });
  return res.data;
}

const heartbeatResponse = v.nullable(v.object({ type: v.optional(v.literal("session_heartbeat")) }));

/** One heartbeat: its own deadline, never retried (contract 2.5). */
export async function sessionHeartbeat(
  http: HttpClient,
  sessionId: string,
  options: CallOptions = {},
): Promise<void> {
  await http.request({
    method: "POST",
    path: PATHS.sessionHeartbeat,
    body: { session_id: sessionId, type: "session_heartbeat" },
    schema: heartbeatResponse,
    timeout: 10_000,
    maxRetries: 0,
    ...options,
  });
}

/** POSTs a heartbeat-shaped body to `path` without retries and returns the unread response. */
export function rawHeartbeat(
  http: HttpClient,
  path: (typeof PATHS)["sessionHeartbeat"] | (typeof PATHS)["legacyHeartbeat"],
  sessionId: string,
  options: CallOptions = {},
): Promise<HttpResponse<Response>> {
  return http.request({
    method: "POST",
    path,
    body: { session_id: sessionId, type: "session_heartbeat" },
    responseType: "raw",
    maxRetries: 0,
    ...options,
  });
}

const capabilitiesResponse = v.object({
  supported_models: v.optional(
    v.array(
      v.object({
        model_name: v.nullish(v.string()),
        max_context_length: v.nullish(v.number()),
      }),
    ),
    () => [],
  ),
});

/** One model a server offers. */
export interface SupportedModel {
  /** What to pass as `baseModel`; undefined when the server left it out. */
  modelName: string | undefined;
  /** Most tokens per sequence (prompt plus completion), when the server says. */
  maxContextLength: number | undefined;
}

/** What `ServiceClient.getServerCapabilities()` returns: the models the server offers. */
export interface ServerCapabilities {
  /** The models, in the server's order. */
  supportedModels: SupportedModel[];
}

export async function getServerCapabilities(
  http: HttpClient,
  options: CallOptions = {},
): Promise<ServerCapabilities> {
  const res = await http.request({
    method: "GET",
    path: PATHS.serverCapabilities,
    schema: capabilitiesResponse,
    ...options,
  });
  return {
    supportedModels: res.data.supported_models.map((m) => ({
      modelName: m.model_name ?? undefined,
      maxContextLength: m.max_context_length ?? undefined,
    })),
  };
}
