// Public exports of tinker-local.
/** tinker-local's version, as `tinker-local --version` prints it. */
export const SERVER_VERSION = "0.1.0";

export type { Clock } from "./clock.js";
export type { FailNextSpec, FutureControls, FutureKind, FutureState } from "./engine/futures.js";
export type { ModelControls } from "./engine/model-registry.js";
export type { TrainingServerOptions } from "./engine/training-runtime.js";
export {
  DEFAULT_FUTURE_RETENTION_SECONDS,
  DEFAULT_MAX_RETAINED_FUTURES,
  DEFAULT_SEQ_GAP_TIMEOUT_MS,
} from "./engine/training-runtime.js";
export type { AuthUser } from "./http/auth.js";
export { DEFAULT_LOCAL_API_KEY, ownerIdForKey, parseKeysFile } from "./http/auth.js";
export type {
  ClientConfig,
  ClientConfigOverrides,
  ResolvedServerOptions,
  RouteContext,
  RouteGroup,
} from "./http/context.js";
export type { FaultHandle, FaultSpec } from "./http/faults.js";
export { FaultInjector } from "./http/faults.js";
export type { RequestRecord } from "./http/request-log.js";
export type { ArchiveResponseMode, RestServerOptions } from "./http/rest-options.js";
export { DEFAULT_ARCHIVE_URL_TTL_SECONDS, DEFAULT_TRACE_EXPORT_PENDING_POLLS } from "./http/rest-options.js";
export type { LocalServer, ServerOptions } from "./http/server.js";
export {
  DEFAULT_HOST,
  DEFAULT_JWT_TTL_SECONDS,
  DEFAULT_LONG_POLL_HOLD_MS,
  DEFAULT_SESSION_TTL_SECONDS,
  startServer,
} from "./http/server.js";
export type { LocalLogger } from "./log.js";
// Tiny language models (tokenizer, transformer, LoRA, losses, Adam, sampling, safetensors).
export * from "./model/index.js";
export type { FileDigest, FileManifest } from "./store/checkpoint-files.js";
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
