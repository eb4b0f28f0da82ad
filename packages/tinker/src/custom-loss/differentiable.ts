// The bridge from a loss written with LossTensor to the (loss, ∂loss/∂logprobs) pair that
// TrainingClient.forwardBackwardCustom sends back to the model: the user writes the loss once.

import { ValidationError } from "../client/errors.js";
import type { Datum } from "../wire/datum.js";
import { gradients } from "./gradient.js";
import { LossTensor } from "./tensor.js";

/** What a differentiable loss returns: the scalar loss alone, or with extra metrics (as Python's `(loss, metrics)`). */
export type DifferentiableLossOutput =
  | LossTensor
  | {
      /** The scalar loss to differentiate. */
      loss: LossTensor;
      /** Extra metrics reported with the step's result. */
      metrics?: Record<string, number>;
    };

/**
 * A loss over the per-token logprobs written with {@link LossTensor} operations.
 * `logprobs[i]` is a vector holding datum i's log-probability of each of its `target_tokens`.
 */
export type DifferentiableLossFn = (
  data: readonly Datum[],
  logprobs: LossTensor[],
) => DifferentiableLossOutput | Promise<DifferentiableLossOutput>;

/** The pair a hand-written custom loss returns (structurally `CustomLossOutput`). */
export interface DerivedLoss {
  /** The loss value. */
  loss: number;
  /** ∂loss/∂logprobs, one array per datum. */
  grads: Float64Array[];
  /** The loss function's metrics, if it returned any. */
  metrics?: Record<string, number>;
}

/**
 * Turns a loss written with {@link LossTensor} operations into the function
 * `TrainingClient.forwardBackwardCustom` takes, deriving the gradient by reverse-mode
 * differentiation:
 *
 * ```ts
 * await training.forwardBackwardCustom(data, differentiableLoss((_data, logprobs) =>
 *   addAll(logprobs.map((lp, i) => lp.sub(reference[i]).exp().mul(advantage[i]).mean())).neg(),
 * ));
 * ```
 *
 * A loss that is not a finite scalar, or a gradient that is not finite, is a ValidationError
 * (and, inside forwardBackwardCustom, nothing is applied to the model).
 */
export function differentiableLoss(
  fn: DifferentiableLossFn,
): (data: readonly Datum[], logprobs: ArrayLike<number>[]) => Promise<DerivedLoss> {
  if (typeof fn !== "function") throw new ValidationError("differentiableLoss takes a function", "fn");
  return async (data, logprobs) => {
    const inputs = logprobs.map((lp) => new LossTensor(lp));
    const out = await fn(data, inputs);
    const loss = out instanceof LossTensor ? out : out?.loss;
    if (!(loss instanceof LossTensor)) {
      throw new ValidationError(
        "a differentiable loss must return a LossTensor, or { loss: LossTensor, metrics? }",
        "loss",
      );
    }
    const grads = gradients(loss, inputs);
    const value = loss.item();
    if (!Number.isFinite(value)) throw new ValidationError(`the loss is not finite: ${value}`, "loss");
    const metrics = out instanceof LossTensor ? undefined : out.metrics;
    return metrics === undefined ? { loss: value, grads } : { loss: value, grads, metrics };
  };
}
