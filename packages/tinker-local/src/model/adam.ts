// Adam with decoupled weight decay (AdamW) and optional global-norm gradient clipping, with the
// contract's defaults (4.6). Parameters stay float32 values (rounded after every update) so that a
// float32 safetensors checkpoint holds them exactly; moments are float64.
import { ModelInputError } from "./errors.js";

/** The contract's AdamParams; every field optional. */
export interface AdamParams {
  /** Step size, >= 0. Default 1e-4. */
  learning_rate?: number;
  /** Decay of the first-moment (mean) estimate, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment (variance) estimate, in [0, 1). Default 0.95. */
  beta2?: number;
  /** Added to the root of the second moment to avoid dividing by zero, >= 0. Default 1e-12. */
  eps?: number;
  /** Decoupled (AdamW) weight decay, >= 0. Default 0. */
  weight_decay?: number;
  /** Largest global gradient norm; a larger gradient is scaled down to it. 0 (default) = no clipping. */
  grad_clip_norm?: number;
}

/** What an `optim_step` uses for every {@link AdamParams} field it is not sent. */
export const ADAM_DEFAULTS: Required<AdamParams> = {
  learning_rate: 1e-4,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-12,
  weight_decay: 0,
  grad_clip_norm: 0,
};

/** One trainable tensor with its gradient accumulator and Adam moments. */
export interface Param {
  readonly name: string;
  readonly shape: readonly [number, number];
  readonly value: Float64Array;
  readonly grad: Float64Array;
  readonly m: Float64Array;
  readonly v: Float64Array;
}

export function resolveAdamParams(params: AdamParams | null | undefined): Required<AdamParams> {
  const p = { ...ADAM_DEFAULTS };
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    if (!(key in ADAM_DEFAULTS)) {
      throw new ModelInputError(
        `unknown adam parameter '${key}'; known: ${Object.keys(ADAM_DEFAULTS).join(", ")}`,
      );
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new ModelInputError(`adam ${key} must be a finite number, got ${String(value)}`);
    }
    p[key as keyof AdamParams] = value;
  }
  const range = (ok: boolean, key: string, rule: string) => {
    if (!ok) throw new ModelInputError(`adam ${key} must be ${rule}, got ${p[key as keyof AdamParams]}`);
  };
  range(p.learning_rate >= 0, "learning_rate", ">= 0");
  range(p.beta1 >= 0 && p.beta1 < 1, "beta1", "in [0, 1)");
  range(p.beta2 >= 0 && p.beta2 < 1, "beta2", "in [0, 1)");
  range(p.eps >= 0, "eps", ">= 0");
  range(p.weight_decay >= 0, "weight_decay", ">= 0");
  range(p.grad_clip_norm >= 0, "grad_clip_norm", ">= 0 (0 turns clipping off)");
  return p;
}

export function globalGradNorm(params: readonly Param[]): number {
  let ss = 0;
  for (const p of params) for (let i = 0; i < p.grad.length; i++) ss += (p.grad[i] as number) ** 2;
  return Math.sqrt(ss);
}

/**
 * One AdamW step at step number `step` (1-based), then clears the gradients:
 *   g ← g · min(1, clip / ‖g‖)               (only when grad_clip_norm > 0; norm over all tensors)
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   p ← p·(1 − lr·wd) − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)
 */
export function adamStep(
  params: readonly Param[],
  step: number,
  hp: Required<AdamParams>,
): { gradNorm: number } {
  const gradNorm = globalGradNorm(params);
  const clip = hp.grad_clip_norm > 0 && gradNorm > hp.grad_clip_norm ? hp.grad_clip_norm / gradNorm : 1;
  const { learning_rate: lr, beta1, beta2, eps, weight_decay: wd } = hp;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const decay = 1 - lr * wd;
  for (const p of params) {
    const { value, grad, m, v } = p;
    for (let i = 0; i < value.length; i++) {
      const g = (grad[i] as number) * clip;
      const mi = beta1 * (m[i] as number) + (1 - beta1) * g;
      const vi = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      const update = mi / bc1 / (Math.sqrt(vi / bc2) + eps);
      value[i] = Math.fround((value[i] as number) * decay - lr * update);
    }
    grad.fill(0);
  }
  return { gradNorm };
}
