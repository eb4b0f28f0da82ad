// The one call of the future protocol (contract 5.2 step 3): POST retrieve_future. Its answer is
// returned as bytes with its headers, because the poll loop (futures/poll.ts) must look at the
// content type before it decides how to read the body. Non-2xx answers arrive as typed APIErrors
// from the HTTP core, carrying status, headers and body.

import type { HttpClient, HttpResponse } from "../client/http.js";
import type { CallOptions } from "./service.js";

export const FUTURE_PATHS = {
  retrieveFuture: "/api/v1/retrieve_future",
} as const;

/** The server holds a poll for less than this; the client waits this long per poll (contract 1.8). */
export const RETRIEVE_FUTURE_TIMEOUT_MS = 45_000;

export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

/** `X-Tinker-Request-Type` values (contract 1.3). */
export type FutureRequestType =
  | "CreateModel"
  | "Forward"
  | "ForwardBackward"
  | "OptimStep"
  | "SaveWeights"
  | "LoadWeights"
  | "SaveWeightsForSampler"
  | "Sample";

export interface RetrieveFutureParams {
  requestId: string;
  allowMetadataOnly: boolean;
  iteration: number;
  requestType: FutureRequestType;
  /** Seconds from the start of the client operation until its future existed; sent on iteration 0. */
  createPromiseRoundtripSec?: number;
  /** `application/x-protobuf` for ForwardBackwardOutput / SampleResponse, else JSON. */
  accept: string;
}

export function retrieveFutureHeaders(params: RetrieveFutureParams): Record<string, string> {
  const headers: Record<string, string> = {
    "X-Tinker-Request-Iteration": String(params.iteration),
    "X-Tinker-Request-Type": params.requestType,
  };
  if (params.iteration === 0 && params.createPromiseRoundtripSec !== undefined) {
    headers["X-Tinker-Create-Promise-Roundtrip-Time"] = String(params.createPromiseRoundtripSec);
  }
  return headers;
}

/** One poll: 45 s deadline, no HTTP-layer retries (the poll loop decides what happens next). */
export function retrieveFuture(
  http: HttpClient,
  params: RetrieveFutureParams,
  options: CallOptions = {},
): Promise<HttpResponse<Uint8Array>> {
  return http.request({
    method: "POST",
    path: FUTURE_PATHS.retrieveFuture,
    body: { request_id: params.requestId, allow_metadata_only: params.allowMetadataOnly },
    accept: params.accept,
    responseType: "bytes",
    timeout: RETRIEVE_FUTURE_TIMEOUT_MS,
    maxRetries: 0,
    ...options,
    headers: { ...retrieveFutureHeaders(params), ...options.headers },
  });
}
