// The recommended LoRA learning rate per model, by the rule the Python tinker-cookbook uses
// (hyperparam_utils.get_lr), re-stated here from its facts:
//
// - A reference full fine-tuning rate of 5e-5 for a model of hidden size 2000.
// - LoRA wants about 10x the full fine-tuning rate ("LoRA Without Regret",
//   https://thinkingmachines.ai/blog/lora/): the factor is fixed, independent of rank, because
//   Tinker's LoRA scales its update by alpha/rank.
// - The rate scales with (2000 / hiddenSize) ** exponent, the exponent fitted per family from
//   sweeps: 0.781 for Llama, 0.0775 for Qwen. No other family is calibrated; those need a rate
//   chosen by hand (a sweep).
//
// The hidden sizes are the models' published configs (config.json `hidden_size`).

import { RecipeError } from "../run/errors.js";

/** The full fine-tuning rate the rule starts from, for a model of hidden size 2000. */
export const REFERENCE_FULL_FINETUNE_LR = 5e-5;
/** How much larger a LoRA rate is than the equivalent full fine-tuning rate. */
export const LORA_LR_FACTOR = 10;
/** The fitted size exponent of each calibrated family. */
export const LR_SIZE_EXPONENTS: Readonly<Record<"llama" | "qwen", number>> = Object.freeze({
  llama: 0.781,
  qwen: 0.0775,
});

/** `hidden_size` of the calibrated hosted models (their published configs). */
export const HIDDEN_SIZES: Readonly<Record<string, number>> = Object.freeze({
  "meta-llama/Llama-3.2-1B": 2048,
  "meta-llama/Llama-3.2-3B": 3072,
  "meta-llama/Llama-3.1-8B": 4096,
  "meta-llama/Llama-3.1-8B-Instruct": 4096,
  "meta-llama/Llama-3.1-70B": 8192,
  "meta-llama/Llama-3.3-70B-Instruct": 8192,
  "Qwen/Qwen3-4B-Instruct-2507": 2560,
  "Qwen/Qwen3-8B": 4096,
  "Qwen/Qwen3-8B-Base": 4096,
  "Qwen/Qwen3-32B": 5120,
  "Qwen/Qwen3-30B-A3B": 2048,
  "Qwen/Qwen3-30B-A3B-Base": 2048,
  "Qwen/Qwen3-30B-A3B-Instruct-2507": 2048,
  "Qwen/Qwen3-235B-A22B-Instruct-2507": 4096,
  "Qwen/Qwen3-VL-30B-A3B-Instruct": 2048,
  "Qwen/Qwen3-VL-235B-A22B-Instruct": 4096,
});

/** Options of `recommendedLearningRate`. */
export interface RecommendedLrOptions {
  /** LoRA (default) or full fine-tuning. */
  lora?: boolean;
  /** The model's hidden size, for a model missing from `HIDDEN_SIZES`. */
  hiddenSize?: number;
}

function family(model: string): "llama" | "qwen" | undefined {
  const lower = model.toLowerCase();
  if (lower.includes("llama")) return "llama";
  if (lower.includes("qwen")) return "qwen";
  return undefined;
}

/**
 * A starting learning rate for `model`: `5e-5 * 10 (LoRA) * (2000 / hiddenSize) ** exponent`.
 * Throws RecipeError for families without a calibrated exponent (DeepSeek, gpt-oss, Kimi, ...):
 * pick their rate with a small sweep instead. A starting point for a sweep, not a promise.
 */
export function recommendedLearningRate(model: string, options: RecommendedLrOptions = {}): number {
  const fam = family(model);
  if (fam === undefined)
    throw new RecipeError(
      `no calibrated learning-rate rule for ${model} (only Llama and Qwen models have one); choose a rate with a short sweep`,
    );
  const hidden = options.hiddenSize ?? HIDDEN_SIZES[model];
  if (hidden === undefined)
    throw new RecipeError(
      `the hidden size of ${model} is not known; pass it as hiddenSize (config.json hidden_size)`,
    );
  if (!Number.isSafeInteger(hidden) || hidden < 1)
    throw new RecipeError(`hiddenSize must be a positive integer, got ${hidden}`);
  const base = REFERENCE_FULL_FINETUNE_LR * ((options.lora ?? true) ? LORA_LR_FACTOR : 1);
  return base * (2000 / hidden) ** LR_SIZE_EXPONENTS[fam];
}

/**
 * What is known about choosing a LoRA rank (from "LoRA Without Regret" and the Tinker docs), as
 * plain facts to show a user; the loops take `rank` and default to 32.
 */
export const LORA_RANK_GUIDANCE: readonly string[] = Object.freeze([
  "Tinker's default rank is 32; it is a sound choice for most supervised runs and for RL.",
  "The best learning rate barely depends on the rank (the update is scaled by alpha/rank), so a rate tuned at one rank carries over to another.",
  "RL takes in little information per episode: even very small ranks (1 to 8) train as well as large ones there.",
  "Supervised runs on large datasets can outgrow a small adapter's capacity: when the loss stops falling early compared to a larger rank, raise the rank (64 to 128).",
  "Apply LoRA to every layer, MLP included (the train_mlp/train_attn/train_unembed defaults): attention-only LoRA underperforms.",
  "LoRA tolerates large batches worse than full fine-tuning; prefer moderate batch sizes.",
]);
