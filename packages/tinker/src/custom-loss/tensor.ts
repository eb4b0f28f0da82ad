// A small differentiable value for custom losses: a scalar or a 1-D vector of float64 values that
// remembers how it was computed, so `gradients()` can derive ∂loss/∂logprobs from the loss alone.
// Only what per-token losses need: elementwise arithmetic with scalar broadcasting, exp/log and
// friends, clamps, reductions, slicing and stop-gradient. Not a tensor library: no shapes beyond 1-D.

import { ValidationError } from "../client/errors.js";
import { type Accumulate, newId, record } from "./graph.js";

/** A number, or a tensor: anything an operation takes as its other operand. */
export type LossOperand = LossTensor | number;

/**
 * A scalar or 1-D vector that records the operations made from it, for
 * {@link differentiableLoss}. Every operation returns a new tensor; none changes its inputs.
 * A scalar combines with a vector elementwise (it is broadcast); two vectors must be as long as
 * each other.
 */
export class LossTensor {
  /** The values (length 1 for a scalar). Read them; changing them breaks the recorded gradients. */
  readonly values: Float64Array;
  /** True for a scalar (what a reduction returns, and what a loss must be). */
  readonly isScalar: boolean;
  /**
   * A constant (a leaf no gradient is asked of): a number gives a scalar, an array a vector.
   * Use it for advantages, reference logprobs, masks and other data the loss reads.
   */
  constructor(values: ArrayLike<number> | number) {
    if (typeof values === "number") {
      this.values = Float64Array.of(values);
      this.isScalar = true;
    } else {
      if (values === null || typeof values !== "object" || typeof values.length !== "number") {
        throw new ValidationError("a LossTensor is made from a number or an array of numbers");
      }
      this.values = Float64Array.from(values);
      this.isScalar = false;
    }
  }

  /** How many values (1 for a scalar). */
  get size(): number {
    return this.values.length;
  }

  /** The value of a scalar; a ValidationError for a vector. */
  item(): number {
    if (!this.isScalar) {
      throw new ValidationError(`item() needs a scalar; this tensor has ${this.size} values`);
    }
    return this.values[0]!;
  }

  /** The values as a plain array. */
  toArray(): number[] {
    return Array.from(this.values);
  }

  /** this + other, elementwise. */
  add(other: LossOperand): LossTensor {
    return binary(
      this,
      other,
      "add",
      (x, y) => x + y,
      () => 1,
      () => 1,
    );
  }

  /** this − other, elementwise. */
  sub(other: LossOperand): LossTensor {
    return binary(
      this,
      other,
      "sub",
      (x, y) => x - y,
      () => 1,
      () => -1,
    );
  }

  /** this × other, elementwise. */
  mul(other: LossOperand): LossTensor {
    return binary(
      this,
      other,
      "mul",
      (x, y) => x * y,
      (_x, y) => y,
      (x) => x,
    );
  }

  /** this ÷ other, elementwise. */
  div(other: LossOperand): LossTensor {
    return binary(
      this,
      other,
      "div",
      (x, y) => x / y,
      (_x, y) => 1 / y,
      (x, y) => -x / (y * y),
    );
  }

  /** The elementwise minimum of this and other (ties share the gradient equally, as torch does). */
  minimum(other: LossOperand): LossTensor {
    return binary(
      this,
      other,
      "minimum",
      Math.min,
      (x, y) => (x < y ? 1 : x === y ? 0.5 : 0),
      (x, y) => (y < x ? 1 : x === y ? 0.5 : 0),
    );
  }

  /** The elementwise maximum of this and other (ties share the gradient equally, as torch does). */
  maximum(other: LossOperand): LossTensor {
    return binary(
      this,
      other,
      "maximum",
      Math.max,
      (x, y) => (x > y ? 1 : x === y ? 0.5 : 0),
      (x, y) => (y > x ? 1 : x === y ? 0.5 : 0),
    );
  }

  /** −this. */
  neg(): LossTensor {
    return unary(
      this,
      (x) => -x,
      () => -1,
    );
  }

  /** e^this. */
  exp(): LossTensor {
    return unary(this, Math.exp, (_x, y) => y);
  }

  /** The natural logarithm (−Infinity at 0, NaN below: such a loss is refused when it is used). */
  log(): LossTensor {
    return unary(this, Math.log, (x) => 1 / x);
  }

  /** this raised to a constant power. */
  pow(exponent: number): LossTensor {
    if (typeof exponent !== "number") throw new ValidationError("pow takes a number exponent", "exponent");
    return unary(
      this,
      (x) => x ** exponent,
      (x) => (exponent === 0 ? 0 : exponent * x ** (exponent - 1)),
    );
  }

  /** this². */
  square(): LossTensor {
    return unary(
      this,
      (x) => x * x,
      (x) => 2 * x,
    );
  }

  /** √this. */
  sqrt(): LossTensor {
    return unary(this, Math.sqrt, (_x, y) => 0.5 / y);
  }

  /** |this| (gradient 0 at 0, as torch gives). */
  abs(): LossTensor {
    return unary(this, Math.abs, (x) => Math.sign(x));
  }

  /** 1 / (1 + e^−this). */
  sigmoid(): LossTensor {
    return unary(this, sigmoid, (_x, y) => y * (1 - y));
  }

  /** log σ(this), computed without overflow for large |this| (the DPO loss is −logSigmoid). */
  logSigmoid(): LossTensor {
    // log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^−|x|)
    return unary(
      this,
      (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
      (x) => 1 - sigmoid(x),
    );
  }

  /** log(1 + e^this), computed without overflow. */
  softplus(): LossTensor {
    return unary(
      this,
      (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
      (x) => sigmoid(x),
    );
  }

  /**
   * Values limited to [min, max] (either bound may be left out). The gradient passes where the
   * value is inside the bounds, boundaries included, and is 0 where it was clamped (as torch).
   */
  clamp(min?: number, max?: number): LossTensor {
    const lo = min ?? Number.NEGATIVE_INFINITY;
    const hi = max ?? Number.POSITIVE_INFINITY;
    if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) {
      throw new ValidationError(`clamp bounds must satisfy min <= max, got [${min}, ${max}]`);
    }
    return unary(
      this,
      (x) => Math.min(Math.max(x, lo), hi),
      (x) => (x >= lo && x <= hi ? 1 : 0),
    );
  }

  /** The same values with no gradient flowing back through them (torch's `detach()`). */
  stopGradient(): LossTensor {
    return this.isScalar ? new LossTensor(this.values[0]!) : new LossTensor(this.values);
  }

  /** The sum of the values, a scalar. */
  sum(): LossTensor {
    let total = 0;
    for (const v of this.values) total += v;
    return derived(Float64Array.of(total), true, [this], (grad, acc) => {
      acc(this, new Float64Array(this.size).fill(grad[0]!));
    });
  }

  /** The mean of the values, a scalar; a ValidationError for an empty vector. */
  mean(): LossTensor {
    if (this.size === 0) throw new ValidationError("mean() of an empty tensor");
    return this.sum().div(this.size);
  }

  /** log Σ e^value, a scalar, computed without overflow. */
  logSumExp(): LossTensor {
    if (this.size === 0) throw new ValidationError("logSumExp() of an empty tensor");
    let max = Number.NEGATIVE_INFINITY;
    for (const v of this.values) max = Math.max(max, v);
    const shift = Number.isFinite(max) ? max : 0;
    let total = 0;
    for (const v of this.values) total += Math.exp(v - shift);
    const out = shift + Math.log(total);
    return derived(Float64Array.of(out), true, [this], (grad, acc) => {
      const g = new Float64Array(this.size);
      for (let i = 0; i < g.length; i++) g[i] = grad[0]! * Math.exp(this.values[i]! - out);
      acc(this, g);
    });
  }

  /** Σ this × other, a scalar (a weighted sum when other holds weights). */
  dot(other: LossOperand): LossTensor {
    return this.mul(other).sum();
  }

  /** Values [start, end) as a vector (negative indices count from the end, as Array.slice). */
  slice(start?: number, end?: number): LossTensor {
    if (this.isScalar) throw new ValidationError("slice() needs a vector, not a scalar");
    const n = this.size;
    const norm = (i: number | undefined, dflt: number) =>
      i === undefined ? dflt : i < 0 ? Math.max(n + i, 0) : Math.min(i, n);
    const from = norm(start, 0);
    const to = Math.max(norm(end, n), from);
    return derived(this.values.slice(from, to), false, [this], (grad, acc) => {
      const g = new Float64Array(n);
      g.set(grad, from);
      acc(this, g);
    });
  }
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** A non-leaf tensor: its values, and how a gradient reaching it flows to its inputs. */
export function derived(
  values: Float64Array,
  isScalar: boolean,
  inputs: readonly LossTensor[],
  backward: (grad: Float64Array, accumulate: Accumulate<LossTensor>) => void,
): LossTensor {
  const out = new LossTensor(0);
  // Swap in the computed values (the constructor's are a placeholder), without a second copy.
  Object.defineProperty(out, "values", { value: values });
  Object.defineProperty(out, "isScalar", { value: isScalar });
  record(out, { id: newId(), inputs, backward });
  return out;
}

export function asTensor(value: LossOperand, what: string): LossTensor {
  if (value instanceof LossTensor) return value;
  if (typeof value === "number") return new LossTensor(value);
  throw new ValidationError(`${what} must be a LossTensor or a number`);
}

function unary(t: LossTensor, f: (x: number) => number, df: (x: number, y: number) => number): LossTensor {
  const values = t.values.map(f);
  return derived(values, t.isScalar, [t], (grad, acc) => {
    const g = new Float64Array(t.size);
    for (let i = 0; i < g.length; i++) g[i] = grad[i]! * df(t.values[i]!, values[i]!);
    acc(t, g);
  });
}

function binary(
  a: LossTensor,
  bIn: LossOperand,
  op: string,
  f: (x: number, y: number) => number,
  da: (x: number, y: number) => number,
  db: (x: number, y: number) => number,
): LossTensor {
  const b = asTensor(bIn, `${op}()'s operand`);
  if (!a.isScalar && !b.isScalar && a.size !== b.size) {
    throw new ValidationError(`${op}() of vectors of ${a.size} and ${b.size} values; they must be as long`);
  }
  const isScalar = a.isScalar && b.isScalar;
  const n = isScalar ? 1 : Math.max(a.isScalar ? b.size : a.size, 0);
  const at = (t: LossTensor, i: number) => (t.isScalar ? t.values[0]! : t.values[i]!);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = f(at(a, i), at(b, i));
  return derived(values, isScalar, [a, b], (grad, acc) => {
    const ga = new Float64Array(a.size);
    const gb = new Float64Array(b.size);
    for (let i = 0; i < n; i++) {
      const x = at(a, i);
      const y = at(b, i);
      // A broadcast scalar collects the gradient of every position it was used at.
      ga[a.isScalar ? 0 : i]! += grad[i]! * da(x, y);
      gb[b.isScalar ? 0 : i]! += grad[i]! * db(x, y);
    }
    acc(a, ga);
    acc(b, gb);
  });
}
