// Reverse-mode differentiation over the recorded graph: one pass from the loss back to the
// tensors asked for, each node visited once, latest first (ids grow with creation, so descending
// id order is a topological order of the reversed graph).

import { ValidationError } from "../client/errors.js";
import { nodeOf } from "./graph.js";
import type { LossTensor } from "./tensor.js";

/**
 * ∂loss/∂wrt for each tensor of `wrt`, as arrays as long as that tensor's values. A tensor the
 * loss does not depend on (or reaches only through {@link LossTensor.stopGradient}) gets zeros.
 * `loss` must be a scalar: reduce a vector with `.sum()` or `.mean()` first.
 */
export function gradients(loss: LossTensor, wrt: readonly LossTensor[]): Float64Array[] {
  if (!loss.isScalar) {
    throw new ValidationError(
      `the loss must be a scalar, got a tensor of ${loss.size} values; reduce it with .sum() or .mean()`,
      "loss",
    );
  }
  const grads = new Map<LossTensor, Float64Array>();
  const accumulate = (into: LossTensor, grad: Float64Array) => {
    const have = grads.get(into);
    if (have === undefined) {
      grads.set(into, Float64Array.from(grad));
      return;
    }
    for (let i = 0; i < have.length; i++) have[i]! += grad[i]!;
  };
  // Collect every tensor that has a recorded node and is reachable from the loss.
  const reachable: LossTensor[] = [];
  const seen = new Set<LossTensor>();
  const stack: LossTensor[] = [loss];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const node = nodeOf(t);
    if (node === undefined) continue;
    reachable.push(t);
    for (const input of node.inputs) stack.push(input);
  }
  reachable.sort((a, b) => nodeOf(b)!.id - nodeOf(a)!.id);
  grads.set(loss, Float64Array.of(1));
  for (const t of reachable) {
    const grad = grads.get(t);
    if (grad === undefined) continue;
    nodeOf(t)!.backward(grad, accumulate);
  }
  return wrt.map((t) => grads.get(t) ?? new Float64Array(t.size));
}
