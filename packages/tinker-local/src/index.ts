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
export type { FailNextSpec, FutureControls, FutureKind, FutureState } from "./futures.js";
// Tiny language models (tokenizer, transformer, LoRA, losses, Adam, sampling, safetensors).
export * from "./model/index.js";
export type { ModelControls } from "./models.js";
export type { RequestRecord } from "./request-log.js";
export type { ArchiveResponseMode, RestServerOptions } from "./rest/options.js";
export { DEFAULT_ARCHIVE_URL_TTL_SECONDS, DEFAULT_TRACE_EXPORT_PENDING_POLLS } from "./rest/options.js";
export type { LocalServer, ServerOptions } from "./server.js";
export {
  DEFAULT_HOST,
  DEFAULT_JWT_TTL_SECONDS,
  DEFAULT_LONG_POLL_HOLD_MS,
  DEFAULT_SESSION_TTL_SECONDS,
  startServer,
} from "./server.js";
export type { CheckpointKind } from "./store/checkpoint-ids.js";
export { parseTinkerPath, tinkerPathFor } from "./store/checkpoint-ids.js";
export type { CheckpointRecord } from "./store/checkpoints.js";
export { CheckpointExistsError } from "./store/checkpoints.js";
export { DB_FILE_NAME, databasePath } from "./store/db.js";
export type { Store } from "./store/index.js";
export type { RunRecord } from "./store/runs.js";
export type { SamplerRecord } from "./store/samplers.js";
export type { SessionRecord } from "./store/sessions.js";
export { readSessionRecord, readSessionRecords } from "./store/sessions.js";
export type { UsageType } from "./store/usage.js";
export type { TrainingServerOptions } from "./training-runtime.js";
export {
  DEFAULT_FUTURE_RETENTION_SECONDS,
  DEFAULT_MAX_RETAINED_FUTURES,
  DEFAULT_SEQ_GAP_TIMEOUT_MS,
} from "./training-runtime.js";
