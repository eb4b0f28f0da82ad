// The logical wire types, spelled as they travel in JSON (snake_case). The protobuf forms of
// contract 4.17 decode into these same shapes, so the rest of the SDK and tinker-local see one
// model of the data whichever encoding carried it. Builders with a camelCase API live in
// model-input.ts, tensor-data.ts and datum.ts.

// ---- ModelInput (contract 4.1) ----

/** Encodings an image chunk may carry. */
export type ImageFormat = "png" | "jpeg";

/** A run of token ids, the usual model-input chunk. */
export interface EncodedTextChunk {
  /** The chunk's tag. */
  type: "encoded_text";
  /** Token ids, each a non-negative integer below the model's vocabulary size. */
  tokens: number[];
}

/** An image sent inline (base64 on the wire) for vision-capable models. */
export interface ImageChunk {
  /** The chunk's tag. */
  type: "image";
  /** Standard base64 with padding. */
  data: string;
  /** How `data` is encoded. */
  format: ImageFormat;
  /** Tokens the image is expected to take (advisory: the server counts; the SDK uses it for lengths). */
  expected_tokens?: number;
}

/** Has no protobuf form: usable for sampling, rejected by forward_backward (contract 3.1). */
export interface ImageAssetPointerChunk {
  /** The chunk's tag. */
  type: "image_asset_pointer";
  /** How the image at `location` is encoded. */
  format: ImageFormat;
  /** Where the server fetches the image: a path or URL it can read. */
  location: string;
  /** Tokens the image is expected to take (advisory, as for {@link ImageChunk}). */
  expected_tokens?: number;
}

/** A discretised mel-spectrogram chunk (audio) as the wire carries it. */
export interface DmelChunk {
  /** The chunk's tag. */
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
  /** The chunks, concatenated in order to make the sequence. */
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
  /** Element type: `int64` for token ids, `float32` for weights, logprobs, advantages. */
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
  /** The loss's inputs by name (`target_tokens`, `weights`, `logprobs`, `advantages`...). */
  loss_fn_inputs: Record<string, WireTensorData>;
  /** The sequence the model reads. */
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
  /** The batch. */
  data: WireDatum[];
  /** Which built-in loss to compute. */
  loss_fn: LossFnType;
  /** The loss's settings (e.g. `clip_low_threshold` for ppo); absent means the server's defaults. */
  loss_fn_config?: LossFnConfig;
}

/**
 * One forward_backward request as both encodings carry it. In protobuf these are the fields of
 * `ForwardBackwardRequest`; in JSON the first three sit inside `forward_backward_input`.
 */
export interface ForwardBackwardRequest extends ForwardBackwardInput {
  /** The training run's model id. */
  model_id: string;
  /** This request's place in the model's order (contract 2.7); each chunk of a call takes its own. */
  seq_id: number;
  /** A forward pass without gradients (`TrainingClient.forward`). */
  forward_only?: boolean;
}

/** Contract 4.5. There is no `loss` field: the loss is a metric (e.g. `loss:sum`). */
export interface ForwardBackwardOutput {
  /** The output's type name as the server reports it (a `module:Class` prefix is dropped when read). */
  loss_fn_output_type: string;
  /** One record per datum, in input order: e.g. `logprobs` (one per target token). */
  loss_fn_outputs: Record<string, WireTensorData>[];
  /** Metrics keyed `name:reduction` (e.g. `loss:sum`), merged across chunks by their reduction. */
  metrics: Record<string, number>;
}

// ---- Optimizer (contract 4.6) ----

/** Adam(W) hyperparameters of optim_step, in the wire's snake_case; every field optional. */
export interface AdamParams {
  /** Step size. Default 1e-4. */
  learning_rate?: number;
  /** Decay of the first-moment estimate, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment estimate, in [0, 1). Default 0.95. */
  beta2?: number;
  /** Added to the denominator for stability. Default 1e-12. */
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
  /** The hyperparameters of this step. */
  adam_params: AdamParams;
  /** The training run's model id. */
  model_id: string;
  /** This request's place in the model's order. */
  seq_id: number;
  /** The request's tag. */
  type: "optim_step";
}

/** What a finished optim_step returns: its metrics. */
export interface OptimStepResponse {
  /** Metrics keyed `name:reduction` (e.g. `grad_norm:mean`); absent when the server sends none. */
  metrics?: Record<string, number>;
}

// ---- Sampling (contract 4.7, 4.8) ----

/**
 * Sampling settings of a sample request, in the wire's snake_case. What users pass to sample() is
 * the SDK's camelCase `SamplingParams`; this is their form on the wire.
 */
export interface WireSamplingParams {
  /** Most tokens to generate per sequence; absent means up to the model's context. */
  max_tokens?: number;
  /** Seed of the sampler's randomness: the same seed, prompt and weights give the same samples. */
  seed?: number;
  /** Stop strings or stop token ids; the model's own end-of-sequence tokens always stop. */
  stop?: string | string[] | number[];
  /** Softmax temperature; 0 is greedy. */
  temperature: number;
  /** Keep only the k most likely tokens; -1 means no limit. */
  top_k: number;
  /** Nucleus sampling: keep the smallest set of tokens with this much probability mass, in (0, 1]. */
  top_p: number;
}

/** The contract's defaults for temperature, top_k and top_p. */
export const SAMPLING_PARAMS_DEFAULTS: Readonly<Pick<WireSamplingParams, "temperature" | "top_k" | "top_p">> =
  Object.freeze({ temperature: 1.0, top_k: -1, top_p: 1.0 });

/** The body of asample. */
export interface SampleRequest {
  /** The request's tag. */
  type: "sample";
  /** How many sequences to generate from the prompt. */
  num_samples: number;
  /** The prompt. */
  prompt: WireModelInput;
  /** How to sample. */
  sampling_params: WireSamplingParams;
  /** Sample from this base model (the session-less form; the SDK sends `sampling_session_id`). */
  base_model?: string;
  /** Sample from these weights, a `tinker://` path (the session-less form). */
  model_path?: string;
  /** The sampling session to sample from. */
  sampling_session_id?: string;
  /** This request's number within its sampling client (every attempt takes a new one). */
  seq_id?: number;
  /** Also return the log-probability of each prompt token. */
  prompt_logprobs: boolean;
  /** Also return, per prompt position, the k most likely tokens; 0 for none. */
  topk_prompt_logprobs: number;
}

/** Why a sampled sequence ended: a stop sequence or token, or max_tokens. */
export type StopReason = "stop" | "length";

/** One sampled sequence: its tokens, their logprobs and why it stopped. */
export interface SampledSequence {
  /** Why generation ended. */
  stop_reason: StopReason;
  /** The generated token ids (not the prompt). */
  tokens: number[];
  /** Log-probability of each generated token; absent when the server sends none. */
  logprobs?: number[];
}

/** One prompt position's top-k: `[token_id, logprob]` pairs, or null where none exist. */
export type TopkRow = [number, number][] | null;

/** What a finished sample returns: the sequences and, if asked, prompt logprobs. */
export interface SampleResponse {
  /** Present in the JSON form only. */
  type?: "sample";
  /** `num_samples` sequences. */
  sequences: SampledSequence[];
  /** null where no logprob exists (normally the first position). */
  prompt_logprobs?: (number | null)[];
  /** One row per prompt position when `topk_prompt_logprobs` > 0 was asked for. */
  topk_prompt_logprobs?: TopkRow[];
  /** Prompt tokens the server found in its prefix cache (0 when none or unknown). */
  prompt_cache_hit_tokens: number;
}

// ---- LoRA (contract 4.9) ----

/** The LoRA settings of create_model: rank, seed and which modules train. */
export interface LoraConfig {
  /** Adapter rank (see {@link DEFAULT_LORA_RANK}). */
  rank: number;
  /** Seed of the adapter's initial weights; absent lets the server choose. */
  seed?: number;
  /** Put an adapter on the unembedding (output head). */
  train_unembed: boolean;
  /** Put adapters on the MLP projections. */
  train_mlp: boolean;
  /** Put adapters on the attention projections. */
  train_attn: boolean;
}

/** The LoRA rank used when none is given. */
export const DEFAULT_LORA_RANK = 32;

// ---- Future payloads and outcomes (contract 4.13, 4.14) ----

/** The acknowledgement of every submitted request. */
export interface UntypedAPIFuture {
  /** The id to poll with `retrieve_future`. */
  request_id: string;
  /** The model the request is for, when it has one. */
  model_id?: string;
}

/** What a finished create_model returns. */
export interface CreateModelResponse {
  /** The new training run's model id, `<session_id>:train:<model_seq_id>`. */
  model_id: string;
  /** The result's tag. */
  type: "create_model";
}

/** What a finished save_weights returns: the checkpoint's tinker:// path. */
export interface SaveWeightsResponse {
  /** `tinker://<run>/weights/<name>`. */
  path: string;
  /** The result's tag, when sent. */
  type?: string;
}

/** What a finished save_weights_for_sampler returns on the wire. */
export interface SaveWeightsForSamplerResponseInternal {
  /** `tinker://<run>/sampler_weights/<name>`, for a named save. */
  path?: string;
  /** The sampling session made from the weights, for an unnamed save. */
  sampling_session_id?: string;
  /** The result's tag, when sent. */
  type?: string;
}

/** What a finished load_weights returns. */
export interface LoadWeightsResponse {
  /** The checkpoint that was loaded. */
  path?: string;
  /** The model it was loaded into. */
  model_id?: string;
  /** The result's tag, when sent. */
  type?: string;
}

/** What a finished unload_model returns. */
export interface UnloadModelResponse {
  /** The model that was unloaded. */
  model_id: string;
  /** The result's tag, when sent. */
  type?: string;
}

/** Where a queued request stands: running, or held back by capacity or rate limits. */
export type QueueState = "active" | "paused_capacity" | "paused_rate_limit";

/** A retrieve_future answer saying the result is not ready yet (with the queue state). */
export interface TryAgainResponse {
  /** The answer's tag. */
  type: "try_again";
  /** The request that is not ready. */
  request_id: string;
  /** Whether it is running or held back, and by what. */
  queue_state: QueueState;
  /** The server's words for why it is held back, when it gives them. */
  queue_state_reason?: string;
}

/** Answer to `allow_metadata_only` polls (0.14.0+). */
export interface CompleteMetadataResponse {
  /** The result is ready but was not sent: poll again without `allow_metadata_only` to fetch it. */
  status: "complete_metadata";
  /** Bytes of the result that was held back. */
  response_payload_size: number;
}

/** Whose fault a failed request was, as the server classifies it. */
export type RequestFailureCategory = "unknown" | "server" | "user";

/** A failure is recognized by the presence of `error`. */
export interface RequestFailedResponse {
  /** The server's error text. */
  error: string;
  /** Whose fault it was. */
  category: RequestFailureCategory;
}
