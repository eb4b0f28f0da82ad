// The logical wire types, spelled as they travel in JSON (snake_case). The protobuf forms of
// contract 4.17 decode into these same shapes, so the rest of the SDK and tinker-local see one
// model of the data whichever encoding carried it. Builders with a camelCase API live in
// model-input.ts, tensor-data.ts and datum.ts.

// ---- ModelInput (contract 4.1) ----

export type ImageFormat = "png" | "jpeg";

export interface EncodedTextChunk {
  type: "encoded_text";
  tokens: number[];
}

export interface ImageChunk {
  type: "image";
  /** Standard base64 with padding. */
  data: string;
  format: ImageFormat;
  expected_tokens?: number;
}

/** Has no protobuf form: usable for sampling, rejected by forward_backward (contract 3.1). */
export interface ImageAssetPointerChunk {
  type: "image_asset_pointer";
  format: ImageFormat;
  location: string;
  expected_tokens?: number;
}

export interface DmelChunk {
  type: "dmel";
  /** Base64 of serialized TensorContainer bytes. */
  dmel: string;
}

export type ModelInputChunk = EncodedTextChunk | ImageChunk | ImageAssetPointerChunk | DmelChunk;
export type ChunkType = ModelInputChunk["type"];
export const CHUNK_TYPES: readonly ChunkType[] = ["encoded_text", "image", "image_asset_pointer", "dmel"];

export interface WireModelInput {
  chunks: ModelInputChunk[];
}

// ---- TensorData (contract 4.2) ----

export type TensorDtype = "int64" | "float32";
export const TENSOR_DTYPES: readonly TensorDtype[] = ["int64", "float32"];

export interface WireTensorData {
  /** Flat, row-major. For sparse CSR: the non-zero values. */
  data: number[];
  dtype: TensorDtype;
  /** Absent means 1-D of length `data.length`. Required for sparse CSR. */
  shape?: number[];
  /** CSR row pointers, length rows + 1. */
  sparse_crow_indices?: number[];
  /** CSR column of each non-zero, length nnz. */
  sparse_col_indices?: number[];
}

// ---- Datum and losses (contract 4.3, 4.4) ----

export interface WireDatum {
  loss_fn_inputs: Record<string, WireTensorData>;
  model_input: WireModelInput;
}

export type LossFnType = "cross_entropy" | "importance_sampling" | "ppo" | "cispo" | "dro";
export const LOSS_FN_TYPES: readonly LossFnType[] = [
  "cross_entropy",
  "importance_sampling",
  "ppo",
  "cispo",
  "dro",
];

/** `loss_fn_config`: string → number (double in protobuf). */
export type LossFnConfig = Record<string, number>;

export interface ForwardBackwardInput {
  data: WireDatum[];
  loss_fn: LossFnType;
  loss_fn_config?: LossFnConfig;
}

/**
 * One forward_backward request as both encodings carry it. In protobuf these are the fields of
 * `ForwardBackwardRequest`; in JSON the first three sit inside `forward_backward_input`.
 */
export interface ForwardBackwardRequest extends ForwardBackwardInput {
  model_id: string;
  seq_id: number;
  /** A forward pass without gradients (`TrainingClient.forward`). */
  forward_only?: boolean;
}

/** Contract 4.5. There is no `loss` field: the loss is a metric (e.g. `loss:sum`). */
export interface ForwardBackwardOutput {
  loss_fn_output_type: string;
  loss_fn_outputs: Record<string, WireTensorData>[];
  metrics: Record<string, number>;
}

// ---- Optimizer (contract 4.6) ----

export interface AdamParams {
  learning_rate?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled (AdamW). */
  weight_decay?: number;
  /** 0 means no clipping. */
  grad_clip_norm?: number;
}

export const ADAM_PARAMS_DEFAULTS: Readonly<Required<AdamParams>> = Object.freeze({
  learning_rate: 0.0001,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-12,
  weight_decay: 0.0,
  grad_clip_norm: 0.0,
});

export interface OptimStepRequest {
  adam_params: AdamParams;
  model_id: string;
  seq_id: number;
  type: "optim_step";
}

export interface OptimStepResponse {
  metrics?: Record<string, number>;
}

// ---- Sampling (contract 4.7, 4.8) ----

export interface SamplingParams {
  max_tokens?: number;
  seed?: number;
  stop?: string | string[] | number[];
  temperature: number;
  /** -1 means no limit. */
  top_k: number;
  top_p: number;
}

export const SAMPLING_PARAMS_DEFAULTS: Readonly<Pick<SamplingParams, "temperature" | "top_k" | "top_p">> =
  Object.freeze({ temperature: 1.0, top_k: -1, top_p: 1.0 });

export interface SampleRequest {
  type: "sample";
  num_samples: number;
  prompt: WireModelInput;
  sampling_params: SamplingParams;
  base_model?: string;
  model_path?: string;
  sampling_session_id?: string;
  seq_id?: number;
  prompt_logprobs: boolean;
  topk_prompt_logprobs: number;
}

export type StopReason = "stop" | "length";

export interface SampledSequence {
  stop_reason: StopReason;
  tokens: number[];
  logprobs?: number[];
}

/** One prompt position's top-k: `[token_id, logprob]` pairs, or null where none exist. */
export type TopkRow = [number, number][] | null;

export interface SampleResponse {
  /** Present in the JSON form only. */
  type?: "sample";
  sequences: SampledSequence[];
  /** null where no logprob exists (normally the first position). */
  prompt_logprobs?: (number | null)[];
  topk_prompt_logprobs?: TopkRow[];
  prompt_cache_hit_tokens: number;
}

// ---- LoRA (contract 4.9) ----

export interface LoraConfig {
  rank: number;
  seed?: number;
  train_unembed: boolean;
  train_mlp: boolean;
  train_attn: boolean;
}

export const DEFAULT_LORA_RANK = 32;

// ---- Future payloads and outcomes (contract 4.13, 4.14) ----

/** The acknowledgement of every submitted request. */
export interface UntypedAPIFuture {
  request_id: string;
  model_id?: string;
}

export interface CreateModelResponse {
  model_id: string;
  type: "create_model";
}

export interface SaveWeightsResponse {
  path: string;
  type?: string;
}

export interface SaveWeightsForSamplerResponseInternal {
  path?: string;
  sampling_session_id?: string;
  type?: string;
}

export interface LoadWeightsResponse {
  path?: string;
  model_id?: string;
  type?: string;
}

export interface UnloadModelResponse {
  model_id: string;
  type?: string;
}

export type QueueState = "active" | "paused_capacity" | "paused_rate_limit";

export interface TryAgainResponse {
  type: "try_again";
  request_id: string;
  queue_state: QueueState;
  queue_state_reason?: string;
}

/** Answer to `allow_metadata_only` polls (0.14.0+). */
export interface CompleteMetadataResponse {
  status: "complete_metadata";
  response_payload_size: number;
}

export type RequestFailureCategory = "unknown" | "server" | "user";

/** A failure is recognized by the presence of `error`. */
export interface RequestFailedResponse {
  error: string;
  category: RequestFailureCategory;
}
