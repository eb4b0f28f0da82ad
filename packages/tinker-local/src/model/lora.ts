// LoRA adapters: for each adapted linear map W (out×in), y = x·Wᵀ + (alpha/rank)·(x·Aᵀ)·Bᵀ with
// A (rank×in) drawn from the LoRA seed and B (out×rank) zero, so a fresh adapter changes nothing.
import type { ModelSpec } from "./catalog.js";
import { ModelInputError } from "./errors.js";
import { Prng } from "./prng.js";

/** The contract's LoraConfig (4.9). */
export interface LoraConfig {
  /** Adapter rank, an integer from 1 to {@link MAX_LORA_RANK}. */
  rank: number;
  /**
   * Seed of the adapter's initial weights; null or absent means 0, so an unseeded adapter is still
   * reproducible.
   */
  seed?: number | null;
  /** Put adapters on the attention projections. Default true. */
  train_attn?: boolean;
  /** Put adapters on the MLP projections. Default true. */
  train_mlp?: boolean;
  /** Put an adapter on the unembedding (output head). Default true. */
  train_unembed?: boolean;
}

/** A {@link LoraConfig} checked and with its defaults filled in. */
export interface ResolvedLoraConfig {
  /** Adapter rank, 1 to {@link MAX_LORA_RANK}. */
  rank: number;
  /** Seed of the adapter's initial weights. */
  seed: number;
  /** Whether the attention projections have adapters. */
  train_attn: boolean;
  /** Whether the MLP projections have adapters. */
  train_mlp: boolean;
  /** Whether the unembedding has an adapter. */
  train_unembed: boolean;
}

/** Fixed for every rank (scale = LORA_ALPHA / rank); written into adapter_config.json as lora_alpha. */
export const LORA_ALPHA = 32;
/** Largest rank `create_model` accepts; a larger one is refused with 400. */
export const MAX_LORA_RANK = 256;
/** Used when a LoraConfig has no seed, so an unseeded adapter is still reproducible. */
export const DEFAULT_LORA_SEED = 0;

export function resolveLoraConfig(config: LoraConfig): ResolvedLoraConfig {
  if (config === null || typeof config !== "object") {
    throw new ModelInputError("lora_config must be an object like {rank: 8, train_attn: true, ...}");
  }
  const { rank } = config;
  if (!Number.isInteger(rank) || rank < 1 || rank > MAX_LORA_RANK) {
    throw new ModelInputError(`lora rank must be an integer from 1 to ${MAX_LORA_RANK}, got ${String(rank)}`);
  }
  const seed = config.seed ?? DEFAULT_LORA_SEED;
  if (!Number.isSafeInteger(seed))
    throw new ModelInputError(`lora seed must be an integer, got ${String(seed)}`);
  for (const key of ["train_attn", "train_mlp", "train_unembed"] as const) {
    const v = config[key];
    if (v !== undefined && typeof v !== "boolean") {
      throw new ModelInputError(`lora ${key} must be true or false, got ${String(v)}`);
    }
  }
  const resolved = {
    rank,
    seed,
    train_attn: config.train_attn ?? true,
    train_mlp: config.train_mlp ?? true,
    train_unembed: config.train_unembed ?? true,
  };
  if (!resolved.train_attn && !resolved.train_mlp && !resolved.train_unembed) {
    throw new ModelInputError("at least one of train_attn, train_mlp, train_unembed must be true");
  }
  return resolved;
}

/** One adapter on one linear map. Gradients accumulate in gA/gB until the optimizer step. */
export interface LoraAdapter {
  /** Module path inside the model, e.g. "layers.0.self_attn.q_proj" or "lm_head". */
  readonly module: string;
  readonly in: number;
  readonly out: number;
  readonly rank: number;
  readonly scale: number;
  /** [rank, in] */
  readonly a: Float64Array;
  /** [out, rank] */
  readonly b: Float64Array;
  readonly gA: Float64Array;
  readonly gB: Float64Array;
}

export const ATTN_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"] as const;
export const MLP_MODULES = ["up_proj", "down_proj"] as const;

interface ModuleShape {
  module: string;
  in: number;
  out: number;
}

/** Every linear map the flags select, in a fixed canonical order (layer by layer, then lm_head). */
export function adaptedModules(spec: ModelSpec, lora: ResolvedLoraConfig): ModuleShape[] {
  const { dModel: d, dMlp } = spec;
  const out: ModuleShape[] = [];
  for (let l = 0; l < spec.nLayers; l++) {
    if (lora.train_attn) {
      for (const m of ATTN_MODULES) out.push({ module: `layers.${l}.self_attn.${m}`, in: d, out: d });
    }
    if (lora.train_mlp) {
      out.push({ module: `layers.${l}.mlp.up_proj`, in: d, out: dMlp });
      out.push({ module: `layers.${l}.mlp.down_proj`, in: dMlp, out: d });
    }
  }
  if (lora.train_unembed) out.push({ module: "lm_head", in: d, out: spec.vocabSize });
  return out;
}

export function createAdapters(spec: ModelSpec, lora: ResolvedLoraConfig): Map<string, LoraAdapter> {
  const adapters = new Map<string, LoraAdapter>();
  const r = lora.rank;
  for (const shape of adaptedModules(spec, lora)) {
    // The stream is derived from the module name, so flags that add or drop modules leave the
    // A of every other module unchanged.
    const rng = new Prng(lora.seed, streamOf(shape.module));
    const a = new Float64Array(r * shape.in);
    const bound = 1 / Math.sqrt(shape.in);
    for (let i = 0; i < a.length; i++) a[i] = Math.fround(rng.uniform(bound));
    adapters.set(shape.module, {
      module: shape.module,
      in: shape.in,
      out: shape.out,
      rank: r,
      scale: LORA_ALPHA / r,
      a,
      b: new Float64Array(shape.out * r),
      gA: new Float64Array(a.length),
      gB: new Float64Array(shape.out * r),
    });
  }
  return adapters;
}

function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
