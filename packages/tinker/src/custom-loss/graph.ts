// The recorded computation behind each LossTensor: which tensors it was made from and how to push
// a gradient back to them. Kept out of the public class (a WeakMap, not fields) so users see only
// values and operations, and so a tensor nobody holds is collected with its graph. Generic over
// the tensor type so this leaf module imports nothing.

/** Adds `grad` (same length as `into`'s values) to the gradient collected for `into`. */
export type Accumulate<T> = (into: T, grad: Float64Array) => void;

export interface GraphNode<T> {
  /** Creation order: a node is always made after its inputs, so a larger id means later. */
  readonly id: number;
  readonly inputs: readonly T[];
  /** Given ∂loss/∂this, adds ∂loss/∂input to each input. */
  readonly backward: (grad: Float64Array, accumulate: Accumulate<T>) => void;
}

const nodes = new WeakMap<object, GraphNode<object>>();
let nextId = 0;

/** A fresh id for a node being recorded. */
export function newId(): number {
  return nextId++;
}

export function record<T extends object>(tensor: T, node: GraphNode<T>): void {
  nodes.set(tensor, node as GraphNode<object>);
}

/** The node that made `tensor`, or undefined for a leaf (an input or a constant). */
export function nodeOf<T extends object>(tensor: T): GraphNode<T> | undefined {
  return nodes.get(tensor) as GraphNode<T> | undefined;
}
