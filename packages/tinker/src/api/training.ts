// Thin endpoint functions for training (contract 2.8, 3.0 rows 7-14 and 32, 3.1): each builds one
// path and body, calls the HTTP core, and checks the acknowledgement's shape. The decoders of the
// future results live here too, beside the requests they answer. No other module builds these paths.

import * as v from "valibot";
import type { HttpClient } from "../client/http.js";
import { parseResponse, type ResponseSchema } from "../client/response-schema.js";
import type { AdamParams, LoraConfig } from "../wire/types.js";
import { PROTOBUF_CONTENT_TYPE } from "./futures.js";
import type { CallOptions } from "./service.js";

export const TRAINING_PATHS = {
  createModel: "/api/v1/create_model",
  forwardBackward: "/api/v1/forward_backward",
  optimStep: "/api/v1/optim_step",
  saveWeights: "/api/v1/save_weights",
  saveWeightsForSampler: "/api/v1/save_weights_for_sampler",
  loadWeights: "/api/v1/load_weights",
  getInfo: "/api/v1/get_info",
} as const;

const untypedFuture = v.object({
  request_id: v.pipe(v.string(), v.minLength(1)),
  model_id: v.nullish(v.string()),
});
export type SubmitAck = v.InferOutput<typeof untypedFuture>;

async function submit(
  http: HttpClient,
  path: string,
  body: unknown,
  options: CallOptions & { maxRetries?: number },
): Promise<SubmitAck> {
  const res = await http.request({ method: "POST", path, body, schema: untypedFuture, ...options });
  return res.data;
}

export interface CreateModelBody {
  session_id: string;
  model_seq_id: number;
  base_model: string;
  user_metadata?: Record<string, string>;
  lora_config: LoraConfig;
  type: "create_model";
}

export function createModel(http: HttpClient, body: CreateModelBody, options: CallOptions = {}) {
  return submit(http, TRAINING_PATHS.createModel, body, options);
}

/** A protobuf ForwardBackwardRequest, zstd-compressed when `compressed` (contract 1.3). */
export async function forwardBackwardProto(
  http: HttpClient,
  bytes: Uint8Array,
  compressed: boolean,
  options: CallOptions = {},
): Promise<SubmitAck> {
  const res = await http.request({
    method: "POST",
    path: TRAINING_PATHS.forwardBackward,
    rawBody: bytes,
    contentType: PROTOBUF_CONTENT_TYPE,
    schema: untypedFuture,
    ...options,
    headers: { ...(compressed ? { "Content-Encoding": "zstd" } : {}), ...options.headers },
  });
  return res.data;
}

/** The JSON body of wire/json-codec.ts (pre-0.25 form, forward-only by a top-level flag). */
export function forwardBackwardJson(http: HttpClient, body: unknown, options: CallOptions = {}) {
  return submit(http, TRAINING_PATHS.forwardBackward, body, options);
}

export interface OptimStepBody {
  adam_params: Required<AdamParams>;
  model_id: string;
  seq_id: number;
  type: "optim_step";
}

export function optimStep(http: HttpClient, body: OptimStepBody, options: CallOptions = {}) {
  return submit(http, TRAINING_PATHS.optimStep, body, options);
}

export interface SaveWeightsBody {
  model_id: string;
  path: string;
  seq_id: number;
  ttl_seconds?: number;
  overwrite: boolean;
  type: "save_weights";
}

/** No HTTP-layer retries (contract 3.0): a lost answer must not save twice behind our back. */
export function saveWeights(http: HttpClient, body: SaveWeightsBody, options: CallOptions = {}) {
  return submit(http, TRAINING_PATHS.saveWeights, body, { maxRetries: 0, ...options });
}

export interface SaveWeightsForSamplerBody {
  model_id: string;
  /** Named form. */
  path?: string;
  /** Unnamed (ephemeral) form. */
  sampling_session_seq_id?: number;
  seq_id: number;
  ttl_seconds?: number;
  type: "save_weights_for_sampler";
}

export function saveWeightsForSampler(
  http: HttpClient,
  body: SaveWeightsForSamplerBody,
  options: CallOptions = {},
) {
  return submit(http, TRAINING_PATHS.saveWeightsForSampler, body, { maxRetries: 0, ...options });
}

/** Into an existing model (`model_id` + `seq_id`) or, create-via-load, as a new one (contract 2.8). */
export type LoadWeightsBody =
  | {
      model_id: string;
      seq_id: number;
      path: string;
      optimizer: boolean;
      weights_access_token?: string;
      type: "load_weights";
    }
  | {
      session_id: string;
      model_seq_id: number;
      base_model?: string;
      user_metadata?: Record<string, string>;
      path: string;
      optimizer: boolean;
      weights_access_token?: string;
      type: "load_weights";
    };

export function loadWeights(http: HttpClient, body: LoadWeightsBody, options: CallOptions = {}) {
  return submit(http, TRAINING_PATHS.loadWeights, body, options);
}

const getInfoResponse = v.object({
  type: v.nullish(v.literal("get_info")),
  model_data: v.nullish(
    v.object({
      arch: v.nullish(v.string()),
      model_name: v.nullish(v.string()),
      tokenizer_id: v.nullish(v.string()),
    }),
  ),
  model_id: v.string(),
  is_lora: v.nullish(v.boolean()),
  lora_rank: v.nullish(v.pipe(v.number(), v.integer())),
  model_name: v.nullish(v.string()),
});
export type GetInfoResponse = v.InferOutput<typeof getInfoResponse>;

export async function getInfo(http: HttpClient, modelId: string, options: CallOptions = {}) {
  const res = await http.request({
    method: "POST",
    path: TRAINING_PATHS.getInfo,
    body: { model_id: modelId, type: "get_info" },
    schema: getInfoResponse,
    ...options,
  });
  return res.data;
}

// ---- Future results (contract 4.13) ----

/** A JSON result checked by `schema`; a mismatch is a ResponseValidationError naming the type. */
export function jsonResult<T>(name: string, schema: ResponseSchema<T>): (value: unknown) => T {
  return (value) => parseResponse(schema, value, `Unexpected ${name} result`);
}

export const createModelResult = jsonResult(
  "CreateModelResponse",
  v.object({ model_id: v.pipe(v.string(), v.minLength(1)), type: v.nullish(v.literal("create_model")) }),
);

export const optimStepResult = jsonResult(
  "OptimStepResponse",
  v.object({ metrics: v.nullish(v.record(v.string(), v.number())) }),
);

export const saveWeightsResult = jsonResult(
  "SaveWeightsResponse",
  v.object({ path: v.pipe(v.string(), v.minLength(1)), type: v.nullish(v.string()) }),
);

export const saveWeightsForSamplerResult = jsonResult(
  "SaveWeightsForSamplerResponse",
  v.object({
    path: v.nullish(v.string()),
    sampling_session_id: v.nullish(v.string()),
    type: v.nullish(v.string()),
  }),
);

export const loadWeightsResult = jsonResult(
  "LoadWeightsResponse",
  v.object({ path: v.nullish(v.string()), model_id: v.nullish(v.string()), type: v.nullish(v.string()) }),
);
