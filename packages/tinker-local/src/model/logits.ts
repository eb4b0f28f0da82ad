// Logits a block of rows at a time. A [T, vocab] array is 2 MB for the byte vocabulary but
// 78 MB for a 151k-token twin at T = 64; blocks keep memory flat whatever the vocabulary. Every
// loss is a sum of per-position terms, so a block's dLoss/dlogp is known as soon as its logits
// are: training backpropagates each block through the unembedding right away, and logits are
// computed exactly once.
import { logSumExpRow } from "./kernels.js";
import { computeLoss, type LossConfig, type LossFnName } from "./losses.js";
import type { Transformer } from "./transformer.js";

/** Logit values per block: 8 MB of float64. */
const BLOCK_VALUES = 1 << 20;

/** Rows per block for a vocabulary of V tokens (at least one). */
export function blockRows(V: number): number {
  return Math.max(1, Math.floor(BLOCK_VALUES / V));
}

/**
 * Calls fn(r0, n, logits) for consecutive blocks of rows of hf ([T, d]); logits[0, n·V) holds rows
 * r0..r0+n-1. The buffer is reused between calls.
 */
export function forEachLogitBlock(
  transformer: Transformer,
  hf: Float64Array,
  T: number,
  fn: (r0: number, n: number, logits: Float64Array) => void,
): void {
  const V = transformer.vocab;
  const rows = Math.min(T, blockRows(V));
  const buf = new Float64Array(rows * V);
  for (let r0 = 0; r0 < T; r0 += rows) {
    const n = Math.min(rows, T - r0);
    transformer.headForward(hf, r0, n, buf);
    fn(r0, n, buf);
  }
}

function sliceInputs(
  inputs: ReadonlyMap<string, Float64Array>,
  r0: number,
  n: number,
): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [key, values] of inputs) out.set(key, values.subarray(r0, r0 + n));
  return out;
}

/**
 * Target logprobs of every row (logp[i] = logits[i, targets[i]] − logsumexp(logits[i])), and, when
 * `dhf` is given (training), the unembedding's adapter gradients plus dLoss/dhf added into dhf:
 * dLoss/dlogits[i, j] = g_i·(1[j = t_i] − p_ij) with g = dLoss/dlogp. Returns logp and g; the
 * caller computes the loss itself from logp (one pass, in order) and checks it is finite. Blocks
 * whose g is all zero skip backward.
 */
export function headForwardBackward(
  transformer: Transformer,
  hf: Float64Array,
  targets: ArrayLike<number>,
  train: {
    lossFn: LossFnName;
    inputs: ReadonlyMap<string, Float64Array>;
    config: LossConfig;
    dhf: Float64Array | null;
  } | null,
): { logp: Float64Array; dlogp: Float64Array | null } {
  const T = targets.length;
  const V = transformer.vocab;
  const logp = new Float64Array(T);
  const lse = new Float64Array(T);
  const dlogp = train ? new Float64Array(T) : null;
  forEachLogitBlock(transformer, hf, T, (r0, n, buf) => {
    for (let i = 0; i < n; i++) {
      const l = logSumExpRow(buf, i * V, V);
      lse[r0 + i] = l;
      logp[r0 + i] = (buf[i * V + (targets[r0 + i] as number)] as number) - l;
    }
    if (!train || !dlogp) return;
    // Each position's dLoss/dlogp depends on that position alone: the block's slice gives the
    // same values as the whole sequence.
    const g = computeLoss(
      train.lossFn,
      logp.subarray(r0, r0 + n),
      sliceInputs(train.inputs, r0, n),
      train.config,
    ).dlogp;
    dlogp.set(g, r0);
    if (!g.every(Number.isFinite) || g.every((x) => x === 0)) return;
    for (let i = 0; i < n; i++) {
      const gi = g[i] as number;
      const off = i * V;
      if (gi === 0) {
        buf.fill(0, off, off + V);
        continue;
      }
      const l = lse[r0 + i] as number;
      for (let j = 0; j < V; j++) buf[off + j] = -gi * Math.exp((buf[off + j] as number) - l);
      const t = off + (targets[r0 + i] as number);
      buf[t] = (buf[t] as number) + gi;
    }
    transformer.headBackward(hf, r0, n, buf, train.dhf);
  });
  return { logp, dlogp };
}
