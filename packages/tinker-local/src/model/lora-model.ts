// A base model with (optionally) one LoRA adapter set: the object the server's training and
// sampling endpoints drive. Everything is synchronous CPU work on plain typed arrays; inputs and
// outputs are structured-cloneable, so a caller may run models in a worker thread.
import { ADAM_DEFAULTS, type AdamParams, adamStep, type Param, resolveAdamParams } from "./adam.js";
import { baseWeightsFor } from "./base-weights.js";
import type { ModelSpec, TokenizerFacts } from "./catalog.js";
import {
  encodeOptimizer,
  encodeWeights,
  infoFromMetadata,
  type PeftAdapterConfig,
  peftAdapterConfig,
  peftTensorName,
  rejectExtra,
  takeTensor,
} from "./checkpoint.js";
import { ModelInputError } from "./errors.js";
import { generate, promptLogprobs, sampleRngs, topkPromptLogprobs } from "./generate.js";
import { checkTokens, type Datum, prepareDatum } from "./inputs.js";
import { headForwardBackward } from "./logits.js";
import {
  createAdapters,
  LORA_ALPHA,
  type LoraAdapter,
  type LoraConfig,
  type ResolvedLoraConfig,
  resolveLoraConfig,
} from "./lora.js";
import { computeLoss, isLossFn, LOSS_FNS, type LossFnName, resolveLossConfig } from "./losses.js";
import { readSafetensors } from "./safetensors.js";
import { resolveSamplingParams, type SampledSequence, type SamplingParams } from "./sampling.js";
import { findModelSpec } from "./specs.js";
import { stopTest } from "./stops.js";
import { TOKENIZER_DESCRIPTION } from "./tokenizer.js";
import { Transformer } from "./transformer.js";

/** Most sequences one `sample` call generates (`num_samples`); more is refused with 400. */
export const MAX_NUM_SAMPLES = 128;

/** Options of {@link LoraModel.forwardBackward}. */
export interface ForwardBackwardOptions {
  /** Compute logprobs and loss only; gradients are left untouched. */
  forwardOnly?: boolean;
}

/** One datum's outputs, as TensorData ready for the wire. */
export interface LossFnOutput {
  /** Log-probability of each target token under the model, one per input token. */
  logprobs: {
    /** Always `float32`. */
    dtype: "float32";
    /** `[number of tokens]`. */
    shape: [number];
    /** The values. */
    data: Float32Array;
  };
}

/** What {@link LoraModel.forwardBackward} computed for a batch. */
export interface ForwardBackwardResult {
  /** One per datum, in input order. */
  lossFnOutputs: LossFnOutput[];
  /** Keys are `name:reduction` (contract 4.5): loss:sum always; clip_fraction:mean for ppo/cispo. */
  metrics: Record<string, number>;
}

/** What {@link LoraModel.optimStep} did. */
export interface OptimStepResult {
  /**
   * `grad_norm:mean` (before clipping), `learning_rate:mean` and `step:max` (the step count after
   * this one).
   */
  metrics: Record<string, number>;
}

/** What {@link LoraModel.sample} generated. */
export interface SampleResult {
  /** `numSamples` sequences, in sample-index order. */
  sequences: SampledSequence[];
}

/** A model's architecture, adapter and training state, as `get_info` reports them. */
export interface ModelInfo {
  /** The catalog name of the base model. */
  baseModel: string;
  /** The transformer's shape (see docs/models.md). */
  arch: {
    /** Width of the residual stream. */
    dModel: number;
    /** Transformer blocks. */
    nLayers: number;
    /** Attention heads. */
    nHeads: number;
    /** Hidden width of the MLP. */
    dMlp: number;
    /** Number of token ids. */
    vocabSize: number;
    /** Most tokens per sequence. */
    maxContextLength: number;
    /** Learned or sinusoidal position embeddings. */
    positions: ModelSpec["positions"];
    /** Whether the unembedding shares the embedding matrix. */
    tiedEmbeddings: boolean;
    /** Always RMSNorm. */
    norm: "rmsnorm";
    /** Always tanh-approximated GELU. */
    activation: "gelu_tanh";
  };
  /** null for a base model without adapter (sampling and forward only). */
  lora:
    | (ResolvedLoraConfig & {
        /** The scale numerator: the adapter's update is scaled by alpha / rank. */
        alpha: number;
      })
    | null;
  /** Number of adapter weights the optimizer updates (0 without an adapter). */
  trainableParameters: number;
  /** Optimizer steps taken so far (restored by loading optimizer state). */
  optimizerStep: number;
  /** The byte-level table for tinker-local's models; a twin's tokenizer facts otherwise. */
  tokenizer: typeof TOKENIZER_DESCRIPTION | TokenizerFacts;
}

/** A catalog model plus a fresh LoRA adapter (or none, for a base-model sampler). */
export function createModel(baseModel: string, lora?: LoraConfig | null): LoraModel {
  const spec = findModelSpec(baseModel);
  return new LoraModel(spec, lora ? resolveLoraConfig(lora) : null);
}

/** A model built from a tinker-local weights file (and optimizer state, if given). */
export function createModelFromCheckpoint(weights: Uint8Array, optimizer?: Uint8Array | null): LoraModel {
  const info = infoFromMetadata(readSafetensors(weights).metadata);
  const model = createModel(info.baseModel, info.lora);
  model.loadWeights(weights);
  if (optimizer) model.loadOptimizer(optimizer);
  return model;
}

interface Live {
  transformer: Transformer;
  adapters: LoraAdapter[];
  params: Param[];
}

/** The LoRA seed a tinker-local checkpoint records; undefined for files without our metadata. */
function checkpointSeed(metadata: Record<string, string>): number | undefined {
  try {
    return infoFromMetadata(metadata).lora.seed;
  } catch {
    return undefined;
  }
}

/**
 * A base model with at most one LoRA adapter: forward/backward, AdamW steps, sampling and
 * checkpoints, all synchronous CPU work. Create one with {@link createModel} or
 * {@link createModelFromCheckpoint}; inputs the model cannot take throw `ModelInputError`.
 */
export class LoraModel {
  /** The base model's shape. */
  readonly spec: ModelSpec;
  /**
   * The adapter's configuration; null for the bare base model (sampling and forward only). Its
   * seed is the one the weights descend from: after loadWeights, the checkpoint's (so a restored
   * run records the original seed, not the default it was created with).
   */
  lora: ResolvedLoraConfig | null;
  private live: Live | null;
  private step = 0;
  private unseededCalls = 0;

  /** A model of `spec` with a fresh adapter drawn from `lora.seed` (or none when `lora` is null). */
  constructor(spec: ModelSpec, lora: ResolvedLoraConfig | null) {
    this.spec = spec;
    this.lora = lora;
    const adapterMap = lora ? createAdapters(spec, lora) : new Map<string, LoraAdapter>();
    const adapters = [...adapterMap.values()];
    const params: Param[] = [];
    for (const ad of adapters) {
      params.push(param(peftTensorName(ad.module, "A"), [ad.rank, ad.in], ad.a, ad.gA));
      params.push(param(peftTensorName(ad.module, "B"), [ad.out, ad.rank], ad.b, ad.gB));
    }
    this.live = { transformer: new Transformer(baseWeightsFor(spec), adapterMap), adapters, params };
  }

  /** The base model's catalog name. */
  get baseModel(): string {
    return this.spec.name;
  }

  private use(): Live {
    if (!this.live) throw new Error(`model ${this.spec.name} was disposed`);
    return this.live;
  }

  private trainable(what: string): Live & { lora: ResolvedLoraConfig } {
    const live = this.use();
    if (!this.lora) {
      throw new ModelInputError(
        `${what} needs a LoRA adapter; this model is the bare base model ${this.spec.name}`,
      );
    }
    return { ...live, lora: this.lora };
  }

  /**
   * Runs each datum, returns per-datum target logprobs and the summed loss, and (unless
   * forwardOnly) adds the loss gradient into the adapters' accumulators. Gradients accumulate
   * across calls until optimStep. Validates every datum before computing anything; if a loss turns
   * non-finite midway, the accumulators are restored and nothing is applied.
   */
  forwardBackward(
    data: readonly Datum[],
    lossFn: string,
    lossFnConfig?: Readonly<Record<string, number>> | null,
    options: ForwardBackwardOptions = {},
  ): ForwardBackwardResult {
    const forwardOnly = options.forwardOnly ?? false;
    const live = forwardOnly ? this.use() : this.trainable("forward_backward");
    if (!isLossFn(lossFn)) {
      throw new ModelInputError(
        `unknown loss_fn '${String(lossFn)}'; expected one of ${LOSS_FNS.join(", ")}`,
      );
    }
    if (!Array.isArray(data)) throw new ModelInputError("data must be an array of datums");
    const config = resolveLossConfig(lossFn, lossFnConfig);
    const { maxContextLength } = this.spec;
    const vocab = live.transformer.vocab;
    const prepared = data.map((d, i) => prepareDatum(d, i, lossFn, vocab, maxContextLength));
    const snapshot = forwardOnly ? null : live.params.map((p) => p.grad.slice());
    try {
      return this.runBatch(live.transformer, prepared, lossFn, config, forwardOnly);
    } catch (err) {
      if (snapshot) {
        live.params.forEach((p, i) => {
          p.grad.set(snapshot[i] as Float64Array);
        });
      }
      throw err;
    }
  }

  /** forwardBackward with forwardOnly: logprobs and loss, no gradients. */
  forward(
    data: readonly Datum[],
    lossFn: string,
    lossFnConfig?: Readonly<Record<string, number>> | null,
  ): ForwardBackwardResult {
    return this.forwardBackward(data, lossFn, lossFnConfig, { forwardOnly: true });
  }

  private runBatch(
    transformer: Transformer,
    prepared: ReturnType<typeof prepareDatum>[],
    lossFn: LossFnName,
    config: ReturnType<typeof resolveLossConfig>,
    forwardOnly: boolean,
  ): ForwardBackwardResult {
    const outputs: LossFnOutput[] = [];
    let lossSum = 0;
    let clipFractionSum = 0;
    prepared.forEach((p, index) => {
      const T = p.tokens.length;
      const { hf, tape } = transformer.forwardHidden(p.tokens, !forwardOnly);
      const dhf = tape && transformer.needsHiddenGradient ? new Float64Array(T * transformer.d) : null;
      const train = tape ? { lossFn, inputs: p.floats, config, dhf } : null;
      // With a tape, the unembedding's gradients are accumulated block by block as the logits are
      // computed; a non-finite loss below throws and forwardBackward restores the accumulators.
      const { logp } = headForwardBackward(transformer, hf, p.targets, train);
      const res = computeLoss(lossFn, logp, p.floats, config);
      if (!Number.isFinite(res.loss) || !res.dlogp.every(Number.isFinite)) {
        throw new ModelInputError(nonFiniteLossMessage(index, lossFn, [hf, logp], p.floats));
      }
      lossSum += res.loss;
      clipFractionSum += T > 0 ? res.clipped / T : 0;
      outputs.push({ logprobs: { dtype: "float32", shape: [T], data: Float32Array.from(logp) } });
      if (!tape || !dhf || res.dlogp.every((g) => g === 0)) return;
      transformer.backward(tape, dhf);
    });
    const metrics: Record<string, number> = { "loss:sum": lossSum };
    if (lossFn === "ppo" || lossFn === "cispo") {
      metrics["clip_fraction:mean"] = prepared.length > 0 ? clipFractionSum / prepared.length : 0;
    }
    return { lossFnOutputs: outputs, metrics };
  }

  /** Applies the accumulated gradients with AdamW and clears them. */
  optimStep(adam?: AdamParams | null): OptimStepResult {
    const live = this.trainable("optim_step");
    const hp = resolveAdamParams(adam);
    this.step += 1;
    const { gradNorm } = adamStep(live.params, this.step, hp);
    return {
      metrics: { "grad_norm:mean": gradNorm, "learning_rate:mean": hp.learning_rate, "step:max": this.step },
    };
  }

  /**
   * Samples `numSamples` continuations of the prompt. With a seed, sample i uses a PRNG stream
   * derived from (seed, i), so results do not depend on numSamples or on earlier calls. Without
   * one, the n-th unseeded call on this object uses an internal seed derived from n.
   */
  sample(prompt: ArrayLike<number>, params?: SamplingParams | null, numSamples = 1): SampleResult {
    const { transformer } = this.use();
    const ctx = this.spec.maxContextLength;
    const V = transformer.vocab;
    const promptTokens = checkTokens(prompt, V, ctx, "prompt");
    const s = resolveSamplingParams(params, V);
    if (!Number.isInteger(numSamples) || numSamples < 1 || numSamples > MAX_NUM_SAMPLES) {
      throw new ModelInputError(
        `num_samples must be an integer from 1 to ${MAX_NUM_SAMPLES}, got ${numSamples}`,
      );
    }
    // The prompt plus its continuation must fit the context, so it can be trained on as is.
    const limit = Math.min(s.maxTokens ?? ctx, ctx - promptTokens.length);
    const rngs = sampleRngs(s.seed, this.unseededCalls, numSamples);
    if (s.seed === null) this.unseededCalls++;
    const stops = stopTest(this.spec, s);
    return { sequences: generate(transformer, promptTokens, s, rngs, limit, stops) };
  }

  /** Log-probability of each prompt token given the ones before it; null for the first. */
  promptLogprobs(tokens: ArrayLike<number>): (number | null)[] {
    const { transformer } = this.use();
    const t = checkTokens(tokens, transformer.vocab, this.spec.maxContextLength, "prompt");
    return promptLogprobs(transformer, t);
  }

  /** For each prompt position after the first, the k most likely tokens there as [id, logprob]. */
  topkPromptLogprobs(tokens: ArrayLike<number>, k: number): ([number, number][] | null)[] {
    const { transformer } = this.use();
    const V = transformer.vocab;
    if (!Number.isInteger(k) || k < 1 || k > V) {
      throw new ModelInputError(`topk_prompt_logprobs must be an integer from 1 to ${V}, got ${k}`);
    }
    const t = checkTokens(tokens, V, this.spec.maxContextLength, "prompt");
    return topkPromptLogprobs(transformer, t, k);
  }

  /** The adapter as safetensors bytes, PEFT tensor names, float32. */
  saveWeights(): Uint8Array {
    const live = this.trainable("save_weights");
    return encodeWeights(this.spec.name, live.lora, live.adapters);
  }

  /** Adam moments (float64) and the step count as safetensors bytes. */
  saveOptimizer(): Uint8Array {
    const live = this.trainable("save_optimizer");
    return encodeOptimizer(
      this.spec.name,
      live.lora,
      this.step,
      live.params.map((p) => ({ name: p.name, shape: p.shape, m: p.m, v: p.v })),
    );
  }

  /**
   * Replaces the adapter weights with a safetensors file holding exactly this model's tensors
   * (PEFT names and shapes; F32, F64, F16 or BF16). Pending gradients are cleared; the optimizer
   * state is kept. Nothing changes if the file does not fit.
   */
  loadWeights(bytes: Uint8Array): void {
    const live = this.trainable("load_weights");
    const { metadata, tensors } = readSafetensors(bytes);
    this.checkOwner(metadata, "weights");
    const values = live.params.map((p) => takeTensor(tensors, p.name, p.shape, "weights"));
    rejectExtra(tensors, "weights");
    live.params.forEach((p, i) => {
      const src = values[i] as Float64Array;
      for (let j = 0; j < src.length; j++) p.value[j] = Math.fround(src[j] as number);
      p.grad.fill(0);
    });
    const seed = checkpointSeed(metadata);
    if (seed !== undefined) this.lora = { ...live.lora, seed };
  }

  /** Restores Adam moments and the step count written by saveOptimizer. */
  loadOptimizer(bytes: Uint8Array): void {
    const live = this.trainable("load_optimizer");
    const { metadata, tensors } = readSafetensors(bytes);
    const info = infoFromMetadata(metadata);
    if (info.kind !== "optimizer") throw new ModelInputError("this file holds weights, not optimizer state");
    this.checkOwner(metadata, "optimizer state");
    const ms = live.params.map((p) => takeTensor(tensors, `${p.name}.exp_avg`, p.shape, "optimizer state"));
    const vs = live.params.map((p) =>
      takeTensor(tensors, `${p.name}.exp_avg_sq`, p.shape, "optimizer state"),
    );
    rejectExtra(tensors, "optimizer state");
    live.params.forEach((p, i) => {
      p.m.set(ms[i] as Float64Array);
      p.v.set(vs[i] as Float64Array);
    });
    this.step = info.step ?? 0;
  }

  private checkOwner(metadata: Record<string, string>, what: string): void {
    const base = metadata["tinker_local.base_model"];
    if (base !== undefined && base !== this.spec.name) {
      throw new ModelInputError(`these ${what} belong to base model ${base}, not ${this.spec.name}`);
    }
  }

  /** The PEFT adapter_config.json object for saveWeights' output. */
  adapterConfig(): PeftAdapterConfig {
    const live = this.trainable("adapter_config");
    return peftAdapterConfig(this.spec.name, live.lora);
  }

  /**
   * Copies of the gradients accumulated since the last optimStep, by PEFT tensor name (diagnostics,
   * tests).
   */
  accumulatedGradients(): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    for (const p of this.use().params) out[p.name] = p.grad.slice();
    return out;
  }

  /** Architecture, adapter and step count (what `get_info` returns). Throws after `dispose`. */
  info(): ModelInfo {
    const live = this.use();
    const { spec } = this;
    return {
      baseModel: spec.name,
      arch: {
        dModel: spec.dModel,
        nLayers: spec.nLayers,
        nHeads: spec.nHeads,
        dMlp: spec.dMlp,
        vocabSize: live.transformer.vocab,
        maxContextLength: spec.maxContextLength,
        positions: spec.positions,
        tiedEmbeddings: spec.tiedEmbeddings,
        norm: "rmsnorm",
        activation: "gelu_tanh",
      },
      lora: this.lora ? { ...this.lora, alpha: LORA_ALPHA } : null,
      trainableParameters: live.params.reduce((n, p) => n + p.value.length, 0),
      optimizerStep: this.step,
      tokenizer: spec.tokenizer.kind === "byte-level" ? TOKENIZER_DESCRIPTION : spec.tokenizer,
    };
  }

  /** Drops the adapter and its state; any later call throws. The shared base weights stay cached. */
  dispose(): void {
    this.live = null;
  }
}

function param(name: string, shape: [number, number], value: Float64Array, grad: Float64Array): Param {
  return { name, shape, value, grad, m: new Float64Array(value.length), v: new Float64Array(value.length) };
}

export { ADAM_DEFAULTS };

/**
 * Why a loss came out NaN or infinite, in words the caller can act on. A non-finite hidden state
 * or log-probability (from finite, checked inputs) means the weights themselves are ruined (an earlier optim_step diverged, typically from a far too large
 * learning rate) and no later request can recover them; otherwise the culprit is an input: RL
 * losses overflow when the given sampler logprobs are far from the model's.
 */
function nonFiniteLossMessage(
  index: number,
  lossFn: string,
  activations: readonly ArrayLike<number>[],
  inputs: ReadonlyMap<string, ArrayLike<number>>,
): string {
  const ruined = activations.some((a) => {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) return true;
    return false;
  });
  if (ruined) {
    return (
      `data[${index}]: the model's weights are no longer finite, so every ${lossFn} loss is NaN; ` +
      "an earlier optim_step diverged (most often a learning_rate far too large). " +
      "This model cannot recover: load a checkpoint saved before that step, or create a new model."
    );
  }
  for (const [name, values] of inputs) {
    if (Array.from(values).some((v) => !Number.isFinite(v))) {
      return `data[${index}]: loss_fn_inputs.${name} holds a NaN or infinite value, so the ${lossFn} loss is not finite`;
    }
  }
  return lossFn === "cross_entropy"
    ? `data[${index}]: the cross_entropy loss is not finite (the weights and inputs are finite: please report this)`
    : `data[${index}]: the ${lossFn} loss is not finite; the sampler logprobs are probably far from the model's (importance ratio overflow)`;
}
