// Learning-rate schedules: a multiplier of the base rate for each step, a pure function of the step
// number, so a resumed run computes exactly the rate an uninterrupted one would have.

import { RecipeError } from "../run/errors.js";

/** How the rate changes after warmup: flat, straight down to `minLrRatio`, or half a cosine down. */
export type LrScheduleKind = "constant" | "linear" | "cosine";

/** Every `LrScheduleKind`, for flag parsing. */
export const LR_SCHEDULE_KINDS: readonly LrScheduleKind[] = Object.freeze(["constant", "linear", "cosine"]);

/** A learning-rate schedule. */
export interface LrSchedule {
  /** The shape after warmup. */
  kind: LrScheduleKind;
  /**
   * Steps of linear warmup: step `s < warmupSteps` (0-based) trains at `(s + 1) / warmupSteps` of
   * the base rate, so the first step is never at rate 0. Default 0.
   */
  warmupSteps?: number;
  /** Where `linear` and `cosine` end, as a share of the base rate. Default 0. */
  minLrRatio?: number;
}

function checkSchedule(schedule: LrSchedule, totalSteps: number): void {
  if (!LR_SCHEDULE_KINDS.includes(schedule.kind))
    throw new RecipeError(
      `unknown schedule kind ${JSON.stringify(schedule.kind)}; use ${LR_SCHEDULE_KINDS.join(", ")}`,
    );
  if (!Number.isSafeInteger(totalSteps) || totalSteps < 1)
    throw new RecipeError(`totalSteps must be a positive integer, got ${totalSteps}`);
  const warmup = schedule.warmupSteps ?? 0;
  if (!Number.isSafeInteger(warmup) || warmup < 0 || warmup > totalSteps)
    throw new RecipeError(
      `warmupSteps must be an integer from 0 to totalSteps (${totalSteps}), got ${warmup}`,
    );
  const min = schedule.minLrRatio ?? 0;
  if (!(min >= 0 && min <= 1)) throw new RecipeError(`minLrRatio must be in [0, 1], got ${min}`);
}

/**
 * The multiplier of the base learning rate at `step` (0-based) of `totalSteps`. After warmup,
 * `linear` and `cosine` go from 1 at the first step after warmup towards `minLrRatio`, which the
 * step after the last would reach (the last step still trains at a rate above the minimum).
 */
export function lrMultiplier(schedule: LrSchedule, step: number, totalSteps: number): number {
  checkSchedule(schedule, totalSteps);
  if (!Number.isSafeInteger(step) || step < 0 || step >= totalSteps)
    throw new RecipeError(`step must be an integer from 0 to ${totalSteps - 1}, got ${step}`);
  const warmup = schedule.warmupSteps ?? 0;
  if (step < warmup) return (step + 1) / warmup;
  if (schedule.kind === "constant") return 1;
  const min = schedule.minLrRatio ?? 0;
  const progress = (step - warmup) / (totalSteps - warmup);
  const shape = schedule.kind === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return min + (1 - min) * shape;
}

/** The learning rate at `step` (0-based): `baseLr` times the schedule's multiplier. */
export function learningRateAt(
  schedule: LrSchedule,
  baseLr: number,
  step: number,
  totalSteps: number,
): number {
  if (!(baseLr > 0) || !Number.isFinite(baseLr))
    throw new RecipeError(`the learning rate must be a positive number, got ${baseLr}`);
  return baseLr * lrMultiplier(schedule, step, totalSteps);
}
