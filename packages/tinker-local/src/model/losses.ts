// The contract's five losses (4.4). Each is a sum over positions of a per-token term of the
// learner's log-probability logp of the target token; `q` is the sampler's log-probability.
// Each returns the loss and dLoss/dlogp per position; backprop through logp is shared.
import { ModelInputError } from "./errors.js";

/** The `loss_fn` names tinker-local implements (contract 4.8); any other name is refused with 400. */
export const LOSS_FNS = ["cross_entropy", "importance_sampling", "ppo", "cispo", "dro"] as const;
/** One of {@link LOSS_FNS}. */
export type LossFnName = (typeof LOSS_FNS)[number];

/** Defaults where the contract is ambiguous (0.8/1.2 per the cookbook; another doc shows 0.9/1.1). */
export const DEFAULT_CLIP_LOW = 0.8;
/** Upper clip of the probability ratio for `ppo` and `cispo` when `clip_high_threshold` is not sent. */
export const DEFAULT_CLIP_HIGH = 1.2;
/** Strength of the `dro` loss's quadratic penalty when `loss_fn_config.beta` is not sent (must be >= 0). */
export const DEFAULT_DRO_BETA = 0.05;

interface LossSpec {
  /** loss_fn_inputs keys that must be present. */
  required: readonly string[];
  /** loss_fn_inputs keys that may be present. */
  optional: readonly string[];
  /** loss_fn_config keys it reads. */
  config: readonly string[];
}

const RL_INPUTS = ["target_tokens", "logprobs", "advantages"] as const;
const CLIP_KEYS = ["clip_low_threshold", "clip_high_threshold"] as const;

export const LOSS_SPECS: Record<LossFnName, LossSpec> = {
  cross_entropy: { required: ["target_tokens"], optional: ["weights"], config: [] },
  importance_sampling: { required: RL_INPUTS, optional: [], config: [] },
  // Per-token thresholds may come as loss_fn_inputs (the SDK types those keys as float32).
  ppo: { required: RL_INPUTS, optional: CLIP_KEYS, config: CLIP_KEYS },
  cispo: { required: RL_INPUTS, optional: CLIP_KEYS, config: CLIP_KEYS },
  dro: { required: RL_INPUTS, optional: [], config: ["beta"] },
};

export function isLossFn(name: unknown): name is LossFnName {
  return typeof name === "string" && (LOSS_FNS as readonly string[]).includes(name);
}

export interface LossConfig {
  clipLow: number;
  clipHigh: number;
  beta: number;
}

export function resolveLossConfig(
  lossFn: LossFnName,
  config: Readonly<Record<string, number>> | null | undefined,
) {
  const allowed = LOSS_SPECS[lossFn].config;
  const cfg = config ?? {};
  if (typeof cfg !== "object") throw new ModelInputError("loss_fn_config must be an object of numbers");
  for (const [key, value] of Object.entries(cfg)) {
    if (!allowed.includes(key)) {
      const accepts = allowed.length > 0 ? allowed.join(", ") : "no keys";
      throw new ModelInputError(
        `loss_fn_config key '${key}' is not used by ${lossFn}; it accepts ${accepts}`,
      );
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new ModelInputError(`loss_fn_config.${key} must be a finite number, got ${String(value)}`);
    }
  }
  const resolved: LossConfig = {
    clipLow: cfg.clip_low_threshold ?? DEFAULT_CLIP_LOW,
    clipHigh: cfg.clip_high_threshold ?? DEFAULT_CLIP_HIGH,
    beta: cfg.beta ?? DEFAULT_DRO_BETA,
  };
  checkClip(resolved.clipLow, resolved.clipHigh, "loss_fn_config");
  if (resolved.beta < 0) throw new ModelInputError(`loss_fn_config.beta must be >= 0, got ${resolved.beta}`);
  return resolved;
}

export function checkClip(low: number, high: number, where: string): void {
  if (!(low >= 0 && low <= high)) {
    throw new ModelInputError(
      `${where}: need 0 <= clip_low_threshold <= clip_high_threshold, got ${low} and ${high}`,
    );
  }
}

export interface LossResult {
  loss: number;
  /** dLoss/dlogp per position. */
  dlogp: Float64Array;
  /** Positions whose ratio fell outside [low, high] (ppo/cispo only). */
  clipped: number;
}

/**
 * `inputs` holds each loss_fn_inputs tensor as float64, already checked to have N values.
 * r = exp(logp − q) is the importance ratio; sg() stops gradients.
 */
export function computeLoss(
  lossFn: LossFnName,
  logp: Float64Array,
  inputs: ReadonlyMap<string, Float64Array>,
  config: LossConfig,
): LossResult {
  const N = logp.length;
  const dlogp = new Float64Array(N);
  let loss = 0;
  let clipped = 0;
  const weights = inputs.get("weights");
  const q = inputs.get("logprobs");
  const adv = inputs.get("advantages");
  const lowIn = inputs.get("clip_low_threshold");
  const highIn = inputs.get("clip_high_threshold");
  for (let i = 0; i < N; i++) {
    const lp = logp[i] as number;
    if (lossFn === "cross_entropy") {
      // loss = −Σ w·logp
      const w = weights ? (weights[i] as number) : 1;
      loss -= w * lp;
      dlogp[i] = -w;
      continue;
    }
    const A = (adv as Float64Array)[i] as number;
    const qi = (q as Float64Array)[i] as number;
    if (lossFn === "dro") {
      // loss = −Σ [A·logp − (β/2)(logp − q)²]
      const diff = lp - qi;
      loss -= A * lp - 0.5 * config.beta * diff * diff;
      dlogp[i] = -A + config.beta * diff;
      continue;
    }
    const ratio = Math.exp(lp - qi);
    if (lossFn === "importance_sampling") {
      // loss = −Σ A·r
      loss -= A * ratio;
      dlogp[i] = -A * ratio;
      continue;
    }
    const low = lowIn ? (lowIn[i] as number) : config.clipLow;
    const high = highIn ? (highIn[i] as number) : config.clipHigh;
    const clippedRatio = Math.min(Math.max(ratio, low), high);
    if (clippedRatio !== ratio) clipped++;
    if (lossFn === "ppo") {
      // loss = −Σ min(r·A, clip(r, low, high)·A); the clipped branch has no gradient.
      const unclippedTerm = ratio * A;
      const clippedTerm = clippedRatio * A;
      if (unclippedTerm <= clippedTerm) {
        loss -= unclippedTerm;
        dlogp[i] = -A * ratio;
      } else {
        loss -= clippedTerm;
      }
      continue;
    }
    // cispo: loss = −Σ sg(clip(r, low, high))·A·logp
    loss -= clippedRatio * A * lp;
    dlogp[i] = -clippedRatio * A;
  }
  return { loss, dlogp, clipped };
}
