// Public surface of tinker-local's model layer.
export { ADAM_DEFAULTS, type AdamParams } from "./adam.js";
export { MODEL_CATALOG, type ModelSpec, type TokenizerFacts } from "./catalog.js";
export {
  type CheckpointInfo,
  type PeftAdapterConfig,
  peftAdapterConfig,
  peftTensorName,
  readCheckpointInfo,
} from "./checkpoint.js";
export { ModelInputError } from "./errors.js";
export type { Datum, TensorInput } from "./inputs.js";
export { LORA_ALPHA, type LoraConfig, MAX_LORA_RANK, type ResolvedLoraConfig } from "./lora.js";
export {
  createModel,
  createModelFromCheckpoint,
  type ForwardBackwardOptions,
  type ForwardBackwardResult,
  LoraModel,
  type LossFnOutput,
  MAX_NUM_SAMPLES,
  type ModelInfo,
  type OptimStepResult,
  type SampleResult,
} from "./lora-model.js";
export {
  DEFAULT_CLIP_HIGH,
  DEFAULT_CLIP_LOW,
  DEFAULT_DRO_BETA,
  LOSS_FNS,
  type LossFnName,
} from "./losses.js";
export { readSafetensors, type Safetensors, type TensorToWrite, writeSafetensors } from "./safetensors.js";
export type { SampledSequence, SamplingParams } from "./sampling.js";
export { servedModels, UnknownModelError } from "./served.js";
export { findModelSpec } from "./specs.js";
export {
  BOS_TOKEN_ID,
  decode,
  EOS_TOKEN_ID,
  encode,
  PAD_TOKEN_ID,
  TOKENIZER_DESCRIPTION,
  VOCAB_SIZE,
} from "./tokenizer.js";
export { loadTwinTokenizer, prepareModel } from "./twin-tokenizer.js";
export {
  DEFAULT_TWINS,
  findTwin,
  installCommand,
  isTwinInstalled,
  TWIN_CONTEXT_LENGTH,
  TWIN_DIMS,
  type TwinDefinition,
  twinDefinitions,
  twinSpec,
} from "./twins.js";
