// The server's client configuration (contract 2.2, 2.3): read at start-up, every field optional with
// the contract's default, extra fields ignored, a field of the wrong type rejected.

import * as v from "valibot";
import { type CallOptions, fetchClientConfig, fetchDynamicConfig } from "../api/service.js";
import { APIConnectionError, APIError, NotFoundError, TinkerError } from "../client/errors.js";
import type { HttpClient } from "../client/http.js";
import { parseResponse } from "../client/response-schema.js";
import { isRetryableStatus } from "../client/retry.js";

/**
 * The server's `client/config` answer (contract 2.2), read once at start-up: how this client
 * authenticates, chunks, budgets and retries. A field the server leaves out takes the contract's default.
 */
export interface ClientConfig {
  /** Exchange the API key for a JWT and send that. Default false. */
  pjwtAuthEnabled: boolean;
  /** `api_key` (default) or `credential_cmd`, which forces `TINKER_CREDENTIAL_CMD`. */
  credentialDefaultSource: string;
  /** Bytes of sampling requests being submitted at once. Default 10 MiB. */
  sampleDispatchBytesSemaphoreSize: number;
  /** Bytes of large (metadata-only) results being fetched at once. Default 50 MiB. */
  inflightResponseBytesSemaphoreSize: number;
  /** Submit the chunks of one forward/backward call concurrently. Default true. */
  parallelFwdbwdChunks: boolean;
  /** zstd-compress protobuf forward/backward bodies. Default false. */
  protoCompressFwdbwd: boolean;
  /** Most datums per forward/backward request. Default 1024. */
  fwdbwdMaxChunkLen: number;
  /** Most estimated bytes per forward/backward request. Default 5 000 000. */
  fwdbwdMaxChunkBytesCount: number;
  /** Estimated forward/backward bytes being submitted at once. Default 50 000 000. */
  fwdbwdDispatchBytesSemaphoreSize: number;
  /** How long, in seconds, 402 answers pause work before they are fatal. Default 3600. */
  billingExceptionMaxPauseDurationSec: number;
  /** Turn off the retry layer of `sample()`. Default false. */
  sampleNoRetries: boolean;
  /** Let the sampling retry layer resubmit requests that look stuck. Default true. */
  sampleEnableStuckDetection: boolean;
  /** Most sampling requests in flight. Default 2000. */
  sampleMaxConcurrentRequests: number;
  /** The official Python client's transport switch; read but unused by tinker-ts. Default true. */
  usePyqwestTransport: boolean;
  /** Restore from a checkpoint with one `load_weights` call instead of create-then-load. Default false. */
  createModelViaLoadWeights: boolean;
}

/**
 * The server's `client/dynamic_config` answer (start-up step 3). A session fetches it again every
 * max(`refreshIntervalSec`, 10) s; a session-less connection reads it once, as in the Python SDK.
 */
export interface DynamicConfig {
  /** How often, in seconds, the server asks clients to fetch it again. Default 300. */
  refreshIntervalSec: number;
}

// A missing or null field takes the contract's default.
const bool = (d: boolean) => v.nullish(v.boolean(), d);
const int = (d: number) => v.nullish(v.pipe(v.number(), v.integer()), d);
const str = (d: string) => v.nullish(v.string(), d);

const clientConfigSchema = v.object({
  pjwt_auth_enabled: bool(false),
  credential_default_source: str("api_key"),
  sample_dispatch_bytes_semaphore_size: int(10_485_760),
  inflight_response_bytes_semaphore_size: int(52_428_800),
  parallel_fwdbwd_chunks: bool(true),
  proto_compress_fwdbwd: bool(false),
  fwdbwd_max_chunk_len: int(1024),
  fwdbwd_max_chunk_bytes_count: int(5_000_000),
  fwdbwd_dispatch_bytes_semaphore_size: int(50_000_000),
  billing_exception_max_pause_duration_sec: int(3600),
  sample_no_retries: bool(false),
  sample_enable_stuck_detection: bool(true),
  sample_max_concurrent_requests: int(2000),
  use_pyqwest_transport: bool(true),
  create_model_via_load_weights: bool(false),
});

const dynamicConfigSchema = v.object({ refresh_interval_sec: int(300) });

/** Parses a `client/config` answer; `{}` gives every default. */
export function parseClientConfig(raw: unknown): ClientConfig {
  const c = parseResponse(clientConfigSchema, raw ?? {}, "Unexpected client/config response");
  return {
    pjwtAuthEnabled: c.pjwt_auth_enabled,
    credentialDefaultSource: c.credential_default_source,
    sampleDispatchBytesSemaphoreSize: c.sample_dispatch_bytes_semaphore_size,
    inflightResponseBytesSemaphoreSize: c.inflight_response_bytes_semaphore_size,
    parallelFwdbwdChunks: c.parallel_fwdbwd_chunks,
    protoCompressFwdbwd: c.proto_compress_fwdbwd,
    fwdbwdMaxChunkLen: c.fwdbwd_max_chunk_len,
    fwdbwdMaxChunkBytesCount: c.fwdbwd_max_chunk_bytes_count,
    fwdbwdDispatchBytesSemaphoreSize: c.fwdbwd_dispatch_bytes_semaphore_size,
    billingExceptionMaxPauseDurationSec: c.billing_exception_max_pause_duration_sec,
    sampleNoRetries: c.sample_no_retries,
    sampleEnableStuckDetection: c.sample_enable_stuck_detection,
    sampleMaxConcurrentRequests: c.sample_max_concurrent_requests,
    usePyqwestTransport: c.use_pyqwest_transport,
    createModelViaLoadWeights: c.create_model_via_load_weights,
  };
}

export function parseDynamicConfig(raw: unknown): DynamicConfig {
  const c = parseResponse(dynamicConfigSchema, raw ?? {}, "Unexpected client/dynamic_config response");
  return { refreshIntervalSec: c.refresh_interval_sec };
}

export const DEFAULT_DYNAMIC_CONFIG: DynamicConfig = { refreshIntervalSec: 300 };

/** The server has no `client/config`: it is not a Tinker server, or one older than the contract. */
export class UnsupportedServerError extends TinkerError {
  /** Always `"UnsupportedServerError"`. */
  override name = "UnsupportedServerError";
}

/** Step 1 of start-up. Mandatory: a 404 means the base URL does not point at a usable Tinker server. */
export async function loadClientConfig(
  http: HttpClient,
  sdkVersion: string,
  options: CallOptions = {},
): Promise<ClientConfig> {
  try {
    return parseClientConfig(await fetchClientConfig(http, sdkVersion, options));
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new UnsupportedServerError(
        `${http.baseUrl} answered 404 to POST /api/v1/client/config: it is not a Tinker server, or its ` +
          "version is too old for this SDK. Check TINKER_BASE_URL / the baseUrl option.",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Step 3 of start-up. Optional: a 404 means defaults. Its one value is the refresh interval, so a
 * transient failure (connection, timeout, 408/429/5xx) also falls back to defaults, with a warning,
 * instead of failing the whole start-up as the official client does after its 5-minute retry layer.
 */
export async function loadDynamicConfig(
  http: HttpClient,
  sdkVersion: string,
  options: CallOptions = {},
): Promise<DynamicConfig> {
  try {
    return parseDynamicConfig(await fetchDynamicConfig(http, sdkVersion, options));
  } catch (error) {
    if (error instanceof NotFoundError) return DEFAULT_DYNAMIC_CONFIG;
    const transient =
      error instanceof APIConnectionError || (error instanceof APIError && isRetryableStatus(error.status));
    if (!transient) throw error;
    http.logger.warn("client/dynamic_config failed; using defaults", { error });
    return DEFAULT_DYNAMIC_CONFIG;
  }
}
