// The logical wire types, spelled as they travel in JSON (snake_case). The protobuf forms of
// contract 4.17 decode into these same shapes, so the rest of the SDK and tinker-local see one
// model of the data whichever encoding carried it. Builders with a camelCase API live in
// model-input.ts, tensor-data.ts and datum.ts.

// ---- ModelInput (contract 4.1) ----

/** Encodings an image chunk may carry. */
export type ImageFormat = "png" | "jpeg";

/** A run of token ids, the usual model-input chunk. */
export interface EncodedTextChunk {
  type: "encoded_text";
  tokens: number[];
}

/** An image sent inline (base64 on the wire) for vision-capable models. */
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

/** A discretised mel-spectrogram chunk (audio) as the wire carries it. */
export interface DmelChunk {
  type: "dmel";
  /** Base64 of serialized TensorContainer bytes. */
  dmel: string;
}

/** One chunk of a model input: tokens, an image, an image pointer or audio. */
export type ModelInputChunk = EncodedTextChunk | ImageChunk | ImageAssetPointerChunk | DmelChunk;
/** The `type` tag of a model-input chunk. */
export type ChunkType = ModelInputChunk["type"];
/** Every chunk `type` the wire knows, in the contract's order. */
export const CHUNK_TYPES: readonly ChunkType[] = ["encoded_text", "image", "image_asset_pointer", "dmel"];

/** A model input on the wire: its chunks, in order. */
export interface WireModelInput {
  chunks: ModelInputChunk[];
}

// ---- TensorData (contract 4.2) ----

/** Element types a tensor on the wire may have. */
export type TensorDtype = "int64" | "float32";
/** Every tensor dtype the wire knows. */
export const TENSOR_DTYPES: readonly TensorDtype[] = ["int64", "float32"];

/** A tensor on the wire: dtype, flat data and optional shape (or a sparse form). */
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

/** One training example on the wire: the model input and the loss function's named inputs. */
export interface WireDatum {
  loss_fn_inputs: Record<string, WireTensorData>;
  model_input: WireModelInput;
}

/** The built-in loss functions a server computes. */
export type LossFnType = "cross_entropy" | "importance_sampling" | "ppo" | "cispo" | "dro";
/** Every built-in loss function name. */
export const LOSS_FN_TYPES: readonly LossFnType[] = [
  "cross_entropy",
  "importance_sampling",
  "ppo",
  "cispo",
  "dro",
];

/** `loss_fn_config`: string → number (double in protobuf). */
export type LossFnConfig = Record<string, number>;

/** The batch, loss function and loss config of a forward or forward_backward call. */
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

/** Adam(W) hyperparameters of optim_step, in the wire's snake_case; every field optional. */
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

/** The contract's defaults for every AdamParams field. */
export const ADAM_PARAMS_DEFAULTS: Readonly<Required<AdamParams>> = Object.freeze({
  learning_rate: 0.0001,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-12,
  weight_decay: 0.0,
  grad_clip_norm: 0.0,
});

/** The body of optim_step. */
export interface OptimStepRequest {
  adam_params: AdamParams;
  model_id: string;
  seq_id: number;
  type: "optim_step";
}

/** What a finished optim_step returns: its metrics. */
export interface OptimStepResponse {
  metrics?: Record<string, number>;
}

// ---- Sampling (contract 4.7, 4.8) ----

/** Sampling settings of a sample request, in the wire's snake_case. */
export interface SamplingParams {
  max_tokens?: number;
  seed?: number;
  stop?: string | string[] | number[];
  temperature: number;
  /** -1 means no limit. */
  top_k: number;
  top_p: number;
}

/** The contract's defaults for temperature, top_k and top_p. */
export const SAMPLING_PARAMS_DEFAULTS: Readonly<Pick<SamplingParams, "temperature" | "top_k" | "top_p">> =
  Object.freeze({ temperature: 1.0, top_k: -1, top_p: 1.0 });

/** The body of asample. */
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

/** Why a sampled sequence ended: a stop sequence or token, or max_tokens. */
export type StopReason = "stop" | "length";

/** One sampled sequence: its tokens, their logprobs and why it stopped. */
export interface SampledSequence {
  stop_reason: StopReason;
  tokens: number[];
  logprobs?: number[];
}

/** One prompt position's top-k: `[token_id, logprob]` pairs, or null where none exist. */
export type TopkRow = [number, number][] | null;

/** What a finished sample returns: the sequences and, if asked, prompt logprobs. */
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

/** The LoRA settings of create_model: rank, seed and which modules train. */
export interface LoraConfig {
  rank: number;
  seed?: number;
  train_unembed: boolean;
  train_mlp: boolean;
  train_attn: boolean;
}

/** The LoRA rank used when none is given. */
export const DEFAULT_LORA_RANK = 32;

// ---- Future payloads and outcomes (contract 4.13, 4.14) ----

/** The acknowledgement of every submitted request. */
export interface UntypedAPIFuture {
  request_id: string;
  model_id?: string;
}

/** What a finished create_model returns. */
export interface CreateModelResponse {
  model_id: string;
  type: "create_model";
}

/** What a finished save_weights returns: the checkpoint's tinker:// path. */
export interface SaveWeightsResponse {
  path: string;
  type?: string;
}

/** What a finished save_weights_for_sampler returns on the wire. */
export interface SaveWeightsForSamplerResponseInternal {
  path?: string;
  sampling_session_id?: string;
  type?: string;
}

/** What a finished load_weights returns. */
export interface LoadWeightsResponse {
  path?: string;
  model_id?: string;
  type?: string;
}

/** What a finished unload_model returns. */
export interface UnloadModelResponse {
  model_id: string;
  type?: string;
}

/** Where a queued request stands: running, or held back by capacity or rate limits. */
export type QueueState = "active" | "paused_capacity" | "paused_rate_limit";

/** A retrieve_future answer saying the result is not ready yet (with the queue state). */
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

/** Whose fault a failed request was, as the server classifies it. */
export type RequestFailureCategory = "unknown" | "server" | "user";

/** A failure is recognized by the presence of `error`. */
export interface RequestFailedResponse {
  error: string;
  category: RequestFailureCategory;
}
