// Custom losses written once: a differentiable value type over per-token logprobs and the
// wrapper that derives the gradient forwardBackwardCustom needs.

export type { DerivedLoss, DifferentiableLossFn, DifferentiableLossOutput } from "./differentiable.js";
export { differentiableLoss } from "./differentiable.js";
export { gradients } from "./gradient.js";
export { addAll, concat, constant, stopGradient } from "./ops.js";
export type { LossOperand } from "./tensor.js";
export { LossTensor } from "./tensor.js";
