// Operations over several tensors at once, which do not read well as methods.

import { ValidationError } from "../client/errors.js";
import { asTensor, derived, type LossOperand, LossTensor } from "./tensor.js";

/** A constant tensor: a number gives a scalar, an array a vector. Same as `new LossTensor(values)`. */
export function constant(values: ArrayLike<number> | number): LossTensor {
  return new LossTensor(values);
}

/** The vectors (or scalars, as one value each) end to end, as one vector. */
export function concat(tensors: readonly LossTensor[]): LossTensor {
  const parts = tensors.map((t, i) => asTensor(t, `concat()'s tensor ${i}`));
  const total = parts.reduce((n, t) => n + t.size, 0);
  const values = new Float64Array(total);
  let at = 0;
  for (const t of parts) {
    values.set(t.values, at);
    at += t.size;
  }
  return derived(values, false, parts, (grad, acc) => {
    let from = 0;
    for (const t of parts) {
      acc(t, grad.slice(from, from + t.size));
      from += t.size;
    }
  });
}

/**
 * The elementwise sum of every operand (scalars broadcast), e.g. the total of per-datum losses.
 * An empty list is a ValidationError: there is no length to give the result.
 */
export function addAll(operands: readonly LossOperand[]): LossTensor {
  if (operands.length === 0) throw new ValidationError("addAll() needs at least one operand");
  let total = asTensor(operands[0]!, "addAll()'s operand 0");
  for (let i = 1; i < operands.length; i++) total = total.add(operands[i]!);
  return total;
}

/** The same values with no gradient flowing back through them; see {@link LossTensor.stopGradient}. */
export function stopGradient(tensor: LossTensor): LossTensor {
  return asTensor(tensor, "stopGradient()'s tensor").stopGradient();
}
