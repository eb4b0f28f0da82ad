// LoRA weights and optimizer state as safetensors, with tensor names in PEFT's layout, plus the
// PEFT adapter_config.json that goes beside the weights.
import { ModelInputError } from "./errors.js";
import { LORA_ALPHA, type ResolvedLoraConfig, resolveLoraConfig } from "./lora.js";
import { readSafetensors, type TensorToWrite, writeSafetensors } from "./safetensors.js";

const PEFT_PREFIX = "base_model.model.";

/** PEFT's name for an adapter matrix: base_model.model.<module>.lora_A.weight. */
export function peftTensorName(module: string, which: "A" | "B"): string {
  return `${PEFT_PREFIX}${module}.lora_${which}.weight`;
}

/** The PEFT adapter_config.json object for an adapter on a tinker-local base model. */
export interface PeftAdapterConfig {
  /** Always `LORA`. */
  peft_type: "LORA";
  /** Always `CAUSAL_LM`. */
  task_type: "CAUSAL_LM";
  /** The tinker-local base model's name (not a Hugging Face repository). */
  base_model_name_or_path: string;
  /** The adapter's rank. */
  r: number;
  /** The scale numerator (`LORA_ALPHA`, the same for every rank): the update is scaled by alpha / r. */
  lora_alpha: number;
  /** Always 0: tinker-local trains without dropout. */
  lora_dropout: number;
  /** Always `none`: biases are not trained. */
  bias: "none";
  /** Always false: weights are stored [out, in]. */
  fan_in_fan_out: boolean;
  /**
   * The projections with adapters (`q_proj`, `k_proj`, `v_proj`, `o_proj`, `up_proj`, `down_proj`,
   * `lm_head`).
   */
  target_modules: string[];
  /** Always true: PEFT loads the adapter frozen, for inference. */
  inference_mode: boolean;
  /** Always false: the scale is alpha / r, not alpha / sqrt(r). */
  use_rslora: boolean;
}

/** The adapter_config.json written beside a checkpoint's weights, so PEFT tools can read the adapter. */
export function peftAdapterConfig(baseModel: string, lora: ResolvedLoraConfig): PeftAdapterConfig {
  const targets: string[] = [];
  if (lora.train_attn) targets.push("q_proj", "k_proj", "v_proj", "o_proj");
  if (lora.train_mlp) targets.push("up_proj", "down_proj");
  if (lora.train_unembed) targets.push("lm_head");
  return {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: baseModel,
    r: lora.rank,
    lora_alpha: LORA_ALPHA,
    lora_dropout: 0,
    bias: "none",
    fan_in_fan_out: false,
    target_modules: targets,
    inference_mode: true,
    use_rslora: false,
  };
}

const META_BASE = "tinker_local.base_model";
const META_LORA = "tinker_local.lora_config";
const META_KIND = "tinker_local.kind";
const META_STEP = "tinker_local.step";

/** What a tinker-local safetensors checkpoint file says about itself (from its metadata). */
export interface CheckpointInfo {
  /** `weights` (adapter weights) or `optimizer` (Adam moments and step). */
  kind: "weights" | "optimizer";
  /** The base model the adapter was trained on; loading it onto another model is refused. */
  baseModel: string;
  /** The adapter's configuration. */
  lora: ResolvedLoraConfig;
  /** Optimizer steps taken (optimizer files only). */
  step?: number;
}

function metadataFor(kind: CheckpointInfo["kind"], baseModel: string, lora: ResolvedLoraConfig) {
  return {
    format: "pt",
    [META_KIND]: kind,
    [META_BASE]: baseModel,
    [META_LORA]: JSON.stringify(lora),
    lora_alpha: String(LORA_ALPHA),
  };
}

export interface AdapterTensors {
  module: string;
  rank: number;
  in: number;
  out: number;
  a: Float64Array;
  b: Float64Array;
}

export function encodeWeights(
  baseModel: string,
  lora: ResolvedLoraConfig,
  adapters: readonly AdapterTensors[],
) {
  const tensors: TensorToWrite[] = [];
  for (const ad of adapters) {
    tensors.push({ name: peftTensorName(ad.module, "A"), dtype: "F32", shape: [ad.rank, ad.in], data: ad.a });
    tensors.push({
      name: peftTensorName(ad.module, "B"),
      dtype: "F32",
      shape: [ad.out, ad.rank],
      data: ad.b,
    });
  }
  return writeSafetensors(tensors, metadataFor("weights", baseModel, lora));
}

export interface NamedMoments {
  name: string;
  shape: readonly number[];
  m: Float64Array;
  v: Float64Array;
}

export function encodeOptimizer(
  baseModel: string,
  lora: ResolvedLoraConfig,
  step: number,
  params: readonly NamedMoments[],
): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const p of params) {
    tensors.push({ name: `${p.name}.exp_avg`, dtype: "F64", shape: p.shape, data: p.m });
    tensors.push({ name: `${p.name}.exp_avg_sq`, dtype: "F64", shape: p.shape, data: p.v });
  }
  return writeSafetensors(tensors, {
    ...metadataFor("optimizer", baseModel, lora),
    [META_STEP]: String(step),
  });
}

/** Reads which base model and LoRA config a tinker-local weights or optimizer file belongs to. */
export function readCheckpointInfo(bytes: Uint8Array): CheckpointInfo {
  const { metadata } = readSafetensors(bytes);
  return infoFromMetadata(metadata);
}

export function infoFromMetadata(metadata: Record<string, string>): CheckpointInfo {
  const kind = metadata[META_KIND];
  const baseModel = metadata[META_BASE];
  const loraText = metadata[META_LORA];
  if ((kind !== "weights" && kind !== "optimizer") || !baseModel || !loraText) {
    throw new ModelInputError(
      "this safetensors file was not written by tinker-local: its metadata lacks the base model and LoRA config",
    );
  }
  let lora: ResolvedLoraConfig;
  try {
    lora = resolveLoraConfig(JSON.parse(loraText));
  } catch (err) {
    throw new ModelInputError(`checkpoint metadata has an invalid LoRA config: ${(err as Error).message}`);
  }
  const info: CheckpointInfo = { kind, baseModel, lora };
  if (kind === "optimizer") {
    const step = Number(metadata[META_STEP]);
    if (!Number.isSafeInteger(step) || step < 0)
      throw new ModelInputError("optimizer checkpoint has no valid step count");
    info.step = step;
  }
  return info;
}

export function takeTensor(
  tensors: Map<string, { shape: number[]; data: Float64Array }>,
  name: string,
  shape: readonly number[],
  what: string,
): Float64Array {
  const t = tensors.get(name);
  if (!t) {
    throw new ModelInputError(
      `${what} lack tensor ${name}; was it saved from a model with another LoRA config?`,
    );
  }
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new ModelInputError(
      `${what} tensor ${name} has shape [${t.shape}], this model needs [${shape}] (different LoRA rank?)`,
    );
  }
  if (!t.data.every(Number.isFinite))
    throw new ModelInputError(`${what} tensor ${name} holds NaN or infinity`);
  tensors.delete(name);
  return t.data;
}

export function rejectExtra(tensors: Map<string, unknown>, what: string): void {
  const extra = tensors.keys().next();
  if (!extra.done) {
    throw new ModelInputError(
      `${what} hold tensor ${extra.value}, which this model does not have (different train_* flags?)`,
    );
  }
}
