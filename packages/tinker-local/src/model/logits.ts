// Logits a block of rows at a time. A [T, vocab] array is 2 MB for the byte vocabulary but
// 78 MB for a 151k-token twin at T = 64; blocks keep memory flat whatever the vocabulary, and a
// sequence that fits in one block (every byte-level model) is computed exactly once.
import { logSumExpRow } from "./kernels.js";
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

/** Rows r0..r0+n-1 of the logits, in logits[0, n·V). */
export interface LogitBlock {
  r0: number;
  n: number;
  logits: Float64Array;
}

/** Target logprobs and log-sum-exp of every row: logp[i] = logits[i, targets[i]] − lse[i]. */
export function targetLogprobs(
  transformer: Transformer,
  hf: Float64Array,
  targets: ArrayLike<number>,
): { logp: Float64Array; lse: Float64Array; lastBlock: LogitBlock } {
  const T = targets.length;
  const V = transformer.vocab;
  const logp = new Float64Array(T);
  const lse = new Float64Array(T);
  let lastBlock: LogitBlock = { r0: 0, n: 0, logits: new Float64Array(0) };
  forEachLogitBlock(transformer, hf, T, (r0, n, logits) => {
    for (let i = 0; i < n; i++) {
      const l = logSumExpRow(logits, i * V, V);
      lse[r0 + i] = l;
      logp[r0 + i] = (logits[i * V + (targets[r0 + i] as number)] as number) - l;
    }
    lastBlock = { r0, n, logits };
  });
  return { logp, lse, lastBlock };
}

/**
 * Backward through the unembedding from dLoss/dlogp: dLoss/dlogits[i, j] = g_i·(1[j = t_i] − p_ij),
 * a block at a time (reusing the forward's block when the sequence fit in one), then through the
 * layers. Rows with g_i = 0 contribute nothing and are skipped.
 */
export function backwardFromLogprobs(
  transformer: Transformer,
  hf: Float64Array,
  targets: ArrayLike<number>,
  lse: Float64Array,
  dlogp: Float64Array,
  onlyBlock: LogitBlock | null,
  dhf: Float64Array | null,
): void {
  const T = targets.length;
  const V = transformer.vocab;
  const toGradient = (r0: number, n: number, buf: Float64Array) => {
    for (let i = 0; i < n; i++) {
      const g = dlogp[r0 + i] as number;
      const off = i * V;
      if (g === 0) {
        buf.fill(0, off, off + V);
        continue;
      }
      const l = lse[r0 + i] as number;
      for (let j = 0; j < V; j++) buf[off + j] = -g * Math.exp((buf[off + j] as number) - l);
      const t = off + (targets[r0 + i] as number);
      buf[t] = (buf[t] as number) + g;
    }
    transformer.headBackward(hf, r0, n, buf, dhf);
  };
  if (onlyBlock !== null && onlyBlock.r0 === 0 && onlyBlock.n === T) {
    toGradient(0, T, onlyBlock.logits);
    return;
  }
  forEachLogitBlock(transformer, hf, T, toGradient);
}
