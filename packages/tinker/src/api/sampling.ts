// Thin endpoint functions for sampling (contract 2.9, 3.2; master table rows 6, 16). The sampler
// lookup (`GET samplers/{id}`) is a REST endpoint: api/rest.ts builds it.

import * as v from "valibot";
import type { HttpClient } from "../client/http.js";
import type { SampleRequest } from "../wire/types.js";
import type { CallOptions } from "./service.js";
import type { SubmitAck } from "./training.js";

export const SAMPLING_PATHS = {
  createSamplingSession: "/api/v1/create_sampling_session",
  asample: "/api/v1/asample",
} as const;

/** Tells the server this client backs off on 429 instead of having its request queued (contract 1.3). */
export const SAMPLING_BACKPRESSURE_HEADER = "X-Tinker-Sampling-Backpressure";

export interface CreateSamplingSessionBody {
  session_id: string;
  sampling_session_seq_id: number;
  base_model?: string;
  model_path?: string;
  type: "create_sampling_session";
}

const createSamplingSessionResponse = v.object({
  type: v.nullish(v.literal("create_sampling_session")),
  sampling_session_id: v.pipe(v.string(), v.minLength(1)),
});

/** Not a future: the sampler id comes back at once. */
export async function createSamplingSession(
  http: HttpClient,
  body: CreateSamplingSessionBody,
  options: CallOptions = {},
): Promise<string> {
  const res = await http.request({
    method: "POST",
    path: SAMPLING_PATHS.createSamplingSession,
    body,
    schema: createSamplingSessionResponse,
    ...options,
  });
  return res.data.sampling_session_id;
}

const untypedFuture = v.object({
  request_id: v.pipe(v.string(), v.minLength(1)),
  model_id: v.nullish(v.string()),
});

/** One submit, no HTTP-layer retries: the sampling client handles 429 and resubmits itself. */
export async function asample(
  http: HttpClient,
  body: SampleRequest,
  options: CallOptions = {},
): Promise<SubmitAck> {
  const res = await http.request({
    method: "POST",
    path: SAMPLING_PATHS.asample,
    body,
    schema: untypedFuture,
    maxRetries: 0,
    ...options,
    headers: { [SAMPLING_BACKPRESSURE_HEADER]: "1", ...options.headers },
  });
  return res.data;
}
