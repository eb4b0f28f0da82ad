// Public exports of tinker-ts. Nothing else lives here.

export type { Page, PageData, PageRequest, ToArrayOptions } from "./api/paging.js";
export { DEFAULT_TO_ARRAY_LIMIT, PageLimitError, PagePromise } from "./api/paging.js";
export type {
  AccessScope,
  ArchiveUrl,
  AuditLogEntry,
  BillingEventInfo,
  BillingUsage,
  BillingUsageEvent,
  Checkpoint,
  CheckpointType,
  Cursor,
  SamplerInfo,
  SessionInfo,
  TrainingRun,
  WeightsInfo,
} from "./api/rest-schemas.js";
export type { ServerCapabilities, SupportedModel } from "./api/service.js";
export type { Identity } from "./client/auth.js";
export { CredentialCommandError } from "./client/auth.js";
export type { FailureCategory } from "./client/errors.js";
export {
  APIConnectionError,
  APIError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  CallTimeoutError,
  ClientClosedError,
  ConflictError,
  FutureCancelledError,
  FutureExpiredError,
  FutureTimeoutError,
  InternalServerError,
  ModelCreationTimeoutError,
  makeAPIError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  RequestFailedError,
  ResponseValidationError,
  TinkerError,
  UnprocessableEntityError,
  ValidationError,
} from "./client/errors.js";
export { RESERVED_CALL_HEADERS } from "./client/http.js";
export type { LogFields, Logger, LogLevel } from "./client/logger.js";
export type { ClientOptions, HeartbeatOptions } from "./client/options.js";
export type { RetryEvent } from "./client/retry.js";
export type { Transport, TransportRequest, TransportResponse } from "./client/transport.js";
export { SDK_VERSION } from "./client/version.js";
export { downloadCheckpoint, RestClient } from "./clients/rest/rest-client.js";
export { TraceExportFailedError } from "./clients/rest/trace-export.js";
export type {
  ArchiveUrlOptions,
  ArchiveWaitInfo,
  BillingRange,
  DownloadCheckpointOptions,
  ListSessionsParams,
  ListTrainingRunsParams,
  ListUserCheckpointsParams,
  RestCallOptions,
  TraceExportOptions,
} from "./clients/rest/types.js";
export type { SamplingClientDescriptor } from "./clients/sampling/descriptor.js";
export {
  DEFAULT_RETRY_CONFIG,
  isRetryableSampleError,
  type RetryConfig,
  SamplingStuckError,
} from "./clients/sampling/retry-config.js";
export { SamplingClient } from "./clients/sampling/sampling-client.js";
export type {
  CreateSamplingClientOptions,
  PromptInput,
  SampledSequenceResult,
  SampleOptions,
  SampleResult,
  SamplingClientOptions,
  SamplingParams,
} from "./clients/sampling/types.js";
export { ServiceClient } from "./clients/service-client.js";
export type { ModelCreationOptions } from "./clients/training/creation-scope.js";
export { MAX_LEARNING_RATE } from "./clients/training/params.js";
export { TrainingClient } from "./clients/training/training-client.js";
export type {
  AdamStepParams,
  CheckpointResult,
  CustomLossFn,
  CustomLossOutput,
  CustomLossResult,
  DatumLike,
  ForwardBackwardResult,
  LoadStateOptions,
  LoadStateResult,
  LoraTrainingOptions,
  OptimStepResult,
  SaveOptions,
  TrainingFromStateOptions,
  TrainingInfo,
} from "./clients/training/types.js";
export type {
  DerivedLoss,
  DifferentiableLossFn,
  DifferentiableLossOutput,
  LossOperand,
} from "./custom-loss/index.js";
export {
  addAll,
  concat,
  constant,
  differentiableLoss,
  gradients,
  LossTensor,
  stopGradient,
} from "./custom-loss/index.js";
export type { ArchiveDownloadOptions, DownloadProgress, DownloadResult } from "./download/download.js";
export { CHECKPOINT_FILES, downloadArchive } from "./download/download.js";
export { ArchiveError } from "./download/extract.js";
export type {
  FutureCallOptions,
  FutureEvents,
  QueueStateEvent,
  QueueStateName,
  ResultOptions,
  WireFormat,
} from "./futures/index.js";
export { TinkerFuture } from "./futures/index.js";
export { QUEUE_STATE_LOG_INTERVAL_MS } from "./futures/queue-state-log.js";
export {
  CHECKPOINT_NAME_CHARACTERS,
  checkpointNameProblem,
  MAX_CHECKPOINT_NAME_LENGTH,
} from "./paths/checkpoint-name.js";
export type { CheckpointKind, TinkerPath } from "./paths/tinker-path.js";
export { formatTinkerPath, isTinkerPath, parseTinkerPath, TINKER_SCHEME } from "./paths/tinker-path.js";
export type { ClientConfig, DynamicConfig } from "./session/client-config.js";
export { UnsupportedServerError } from "./session/client-config.js";
export type {
  HeartbeatErrorEvent,
  HeartbeatRecoveredEvent,
  HeartbeatWarningEvent,
  TinkerEventName,
  TinkerEvents,
  TinkerListener,
} from "./session/events.js";
export type { HeartbeatStats } from "./session/heartbeat.js";
export type { TelemetryEvent, TelemetrySeverity } from "./telemetry/events.js";
export { Telemetry } from "./telemetry/telemetry.js";
export type {
  AddedTokenOverride,
  ApplyChatTemplateOptions,
  ChatMessage,
  DecodeOptions,
  EncodeOptions,
  LoadHuggingFaceTokenizerOptions,
  ResolveTokenizerOptions,
  Tokenizer,
  TokenizerLoader,
  TokenizerModel,
} from "./tokenizer/index.js";
export {
  BYTE_LEVEL_TOKENIZER,
  ByteLevelTokenizer,
  ChatTemplateError,
  getTokenizer,
  knownVocabSize,
  listTokenizerModels,
  loadHuggingFaceTokenizer,
  registerTokenizer,
  resolveTokenizer,
  TokenizerNotFoundError,
} from "./tokenizer/index.js";
// From the wire modules themselves, not wire/index.ts: that one also re-exports the protobuf-es
// messages and tinker-local's codec, which the SDK's own path never needs (test/import-footprint).
export type { DatumInit, LossFnInputValue } from "./wire/datum.js";
export { Datum } from "./wire/datum.js";
export { WireDecodeError } from "./wire/errors.js";
export type { ImageAssetPointerInit, ImageInit, TokenInput } from "./wire/model-input.js";
export { ModelInput } from "./wire/model-input.js";
export type {
  CsrInit,
  NestedNumbers,
  TensorDataOptions,
  TensorInput,
  TypedNumberArray,
} from "./wire/tensor-data.js";
export { TensorData } from "./wire/tensor-data.js";
export type {
  AdamParams,
  ForwardBackwardInput,
  ForwardBackwardOutput,
  ImageFormat,
  LoraConfig,
  LossFnConfig,
  LossFnType,
  ModelInputChunk,
  SampledSequence,
  SampleResponse,
  StopReason,
  TensorDtype,
  TopkRow,
  WireDatum,
  WireModelInput,
  WireSamplingParams,
  WireTensorData,
} from "./wire/types.js";
