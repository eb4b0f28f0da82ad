// Public exports of tinker-ts. Nothing else lives here.
export const SDK_VERSION = "0.1.0";
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
  ClientClosedError,
  ConflictError,
  FutureExpiredError,
  FutureTimeoutError,
  InternalServerError,
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
export type { LogFields, Logger, LogLevel } from "./client/logger.js";
export type { ClientOptions, HeartbeatOptions } from "./client/options.js";
export { ServiceClient } from "./clients/service-client.js";
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
export type {
  AdamParams,
  CsrInit,
  DatumInit,
  ForwardBackwardInput,
  ForwardBackwardOutput,
  ImageAssetPointerInit,
  ImageFormat,
  ImageInit,
  LoraConfig,
  LossFnConfig,
  LossFnInputValue,
  LossFnType,
  ModelInputChunk,
  NestedNumbers,
  SampledSequence,
  SampleResponse,
  SamplingParams,
  StopReason,
  TensorDataOptions,
  TensorDtype,
  TensorInput,
  TokenInput,
  TopkRow,
  TypedNumberArray,
  WireDatum,
  WireModelInput,
  WireTensorData,
} from "./wire/index.js";
export { Datum, ModelInput, TensorData, WireDecodeError } from "./wire/index.js";
