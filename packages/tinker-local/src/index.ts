// Public exports of tinker-local.
export const SERVER_VERSION = "0.1.0";

export type { AuthUser } from "./auth.js";
export { DEFAULT_LOCAL_API_KEY, ownerIdForKey, parseKeysFile } from "./auth.js";
export type {
  ClientConfig,
  ClientConfigOverrides,
  Clock,
  LocalLogger,
  ResolvedServerOptions,
  RouteContext,
  RouteGroup,
} from "./context.js";
export type { FaultHandle, FaultSpec } from "./faults.js";
export { FaultInjector } from "./faults.js";
// Tiny language models (tokenizer, transformer, LoRA, losses, Adam, sampling, safetensors).
export * from "./model/index.js";
export type { RequestRecord } from "./request-log.js";
export type { LocalServer, ServerOptions } from "./server.js";
export {
  DEFAULT_HOST,
  DEFAULT_JWT_TTL_SECONDS,
  DEFAULT_LONG_POLL_HOLD_MS,
  DEFAULT_SESSION_TTL_SECONDS,
  startServer,
} from "./server.js";
export { DB_FILE_NAME, databasePath } from "./store/db.js";
export type { Store } from "./store/index.js";
export type { SessionRecord } from "./store/sessions.js";
export { readSessionRecord, readSessionRecords } from "./store/sessions.js";
