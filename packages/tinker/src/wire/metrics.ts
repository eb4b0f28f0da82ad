// Merging the results of one forward_backward call's chunks (contract 4.5). Outputs are joined in
// chunk order; each metric key is `name:reduction` and the reduction says how chunk values combine.
// The official client splits keys even for a single chunk, so a malformed key fails every call,
// and we do the same: a server that sends one learns it from the first request.

import { WireDecodeError } from "./errors.js";
import type { ForwardBackwardOutput } from "./types.js";
import { setOwn } from "./validate.js";

/**
 * How a metric is merged across the chunks of one call, from the suffix of its key
 * (`loss:sum`): `mean` is weighted by datums, `slack` is the max minus that mean, `sum`/`min`/`max`
 * as named, `hash_unordered` combines order-independently, `unique` keeps every distinct value
 * (see {@link reduceMetrics}).
 */
export const METRIC_REDUCTIONS = ["mean", "sum", "min", "max", "slack", "hash_unordered", "unique"] as const;
/** One of {@link METRIC_REDUCTIONS}. */
export type MetricReduction = (typeof METRIC_REDUCTIONS)[number];

/** The metrics of one chunk's result, with the weight its `mean`s carry. */
export interface ChunkMetrics {
  /** The chunk's metrics, keyed `name:reduction`. */
  metrics: Readonly<Record<string, number>>;
  /** The chunk's datum count, the weight of `mean` and `slack`. */
  weight: number;
}

/** Splits `name:reduction`. Throws `WireDecodeError` unless the key has exactly one `:`. */
export function parseMetricKey(key: string): {
  /** The metric's name, e.g. `loss`. */
  name: string;
  /** Its reduction, e.g. `sum` (not checked against {@link METRIC_REDUCTIONS}). */
  reduction: string;
} {
  const parts = key.split(":");
  if (parts.length !== 2) {
    throw new WireDecodeError(
      `metric key ${JSON.stringify(key)} has ${parts.length - 1} ":"; forward_backward metric keys must be "name:reduction" with exactly one ":" (e.g. "loss:sum")`,
      "metrics",
    );
  }
  return { name: parts[0]!, reduction: parts[1]! };
}

function weightedMean(values: readonly number[], weights: readonly number[]): number {
  let num = 0;
  let den = 0;
  values.forEach((v, i) => {
    num += v * weights[i]!;
    den += weights[i]!;
  });
  // Chunks without datums carry no weight; if none has any, every chunk counts alike.
  if (den === 0) return values.reduce((a, b) => a + b, 0) / values.length;
  return num / den;
}

const MASK64 = (1n << 64n) - 1n;

function mix64(bits: bigint): bigint {
  let z = bits;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * Order-independent combination of chunk hashes. One chunk's value passes through unchanged. With
 * several, each value's IEEE-754 float64 bit pattern (−0 read as +0, every NaN as the canonical
 * one) is mixed with the SplitMix64 finalizer, the results are added modulo 2^64, and the top 53
 * bits of the sum are returned, so the result is an integer in [0, 2^53) that any order of the
 * same chunks reproduces.
 */
export function combineHashUnordered(values: readonly number[]): number {
  if (values.length === 1) return values[0]!;
  const view = new DataView(new ArrayBuffer(8));
  let sum = 0n;
  for (const v of values) {
    view.setFloat64(0, Number.isNaN(v) ? Number.NaN : v === 0 ? 0 : v);
    const bits = Number.isNaN(v) ? 0x7ff8000000000000n : view.getBigUint64(0);
    sum = (sum + mix64(bits)) & MASK64;
  }
  return Number(sum >> 11n);
}

function reduce(reduction: string, values: number[], weights: number[]): number | undefined {
  switch (reduction) {
    case "mean":
      return weightedMean(values, weights);
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "min":
      return Math.min(...values);
    case "max":
      return Math.max(...values);
    case "slack":
      return Math.max(...values) - weightedMean(values, weights);
    case "hash_unordered":
      return combineHashUnordered(values);
    default:
      return undefined;
  }
}

/**
 * Reduces chunk metrics. Keys missing from any chunk and keys with an unknown reduction are dropped;
 * `unique` keeps the first distinct value under the key and adds `key_2`, `key_3`, … for the other
 * distinct values in chunk order. A key without exactly one ":" raises WireDecodeError.
 */
export function reduceMetrics(chunks: readonly ChunkMetrics[]): Record<string, number> {
  for (const chunk of chunks) for (const key of Object.keys(chunk.metrics)) parseMetricKey(key);
  const out: Record<string, number> = {};
  const first = chunks[0];
  if (!first) return out;
  const weights = chunks.map((c) => c.weight);
  for (const key of Object.keys(first.metrics)) {
    if (!chunks.every((c) => Object.hasOwn(c.metrics, key))) continue;
    const values = chunks.map((c) => c.metrics[key]!);
    const { reduction } = parseMetricKey(key);
    if (reduction === "unique") {
      const distinct: number[] = [];
      for (const v of values) if (!distinct.some((d) => Object.is(d, v) || d === v)) distinct.push(v);
      distinct.forEach((v, i) => {
        setOwn(out, i === 0 ? key : `${key}_${i + 1}`, v);
      });
      continue;
    }
    const value = reduce(reduction, values, weights);
    if (value !== undefined) setOwn(out, key, value);
  }
  return out;
}

/**
 * Joins the results of one call's chunks, in chunk order. `datumCounts` are the datums sent per
 * chunk (the `mean` weights); by default each chunk's output count is used.
 */
export function mergeForwardBackwardOutputs(
  outputs: readonly ForwardBackwardOutput[],
  datumCounts?: readonly number[],
): ForwardBackwardOutput {
  if (datumCounts && datumCounts.length !== outputs.length) {
    throw new RangeError(`datumCounts has ${datumCounts.length} entries for ${outputs.length} outputs`);
  }
  return {
    loss_fn_output_type: outputs[0]?.loss_fn_output_type ?? "ArrayRecord",
    loss_fn_outputs: outputs.flatMap((o) => o.loss_fn_outputs),
    metrics: reduceMetrics(
      outputs.map((o, i) => ({ metrics: o.metrics, weight: datumCounts?.[i] ?? o.loss_fn_outputs.length })),
    ),
  };
}
