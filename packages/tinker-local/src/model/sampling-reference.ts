// The rank-order walk that chooseToken's truncated path (top_k, top_p) replaced: candidates popped
// one by one from a heap, O(V + m log V) for a nucleus of m tokens. Kept as the oracle the faster
// selection (rank-select.ts) is tested against, and as the baseline of `npm run bench -- kernels`.
import type { Prng } from "./prng.js";
import { RankHeap, type ResolvedSampling } from "./sampling.js";

/** chooseToken for a truncated distribution (top_k and/or top_p set, temperature > 0). */
export function chooseTokenByHeap(
  logits: Float64Array,
  off: number,
  V: number,
  s: ResolvedSampling,
  rng: Prng,
): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < V; j++) max = Math.max(max, logits[off + j] as number);
  const temperature = s.temperature;
  const weight = (j: number) => Math.exp(((logits[off + j] as number) - max) / temperature);
  // Candidates in rank order. With top_k: the first k, their total; then top_p keeps the shortest
  // prefix whose mass reaches top_p of that total (at least one token). Without top_k, the total is
  // over the whole vocabulary and only the prefix is popped from the heap.
  const heap = new RankHeap(logits, off, V);
  const candidates: number[] = [];
  const weights: number[] = [];
  let total = 0;
  if (s.topK > 0 && s.topK < V) {
    while (candidates.length < s.topK) {
      const j = heap.pop();
      candidates.push(j);
      const w = weight(j);
      weights.push(w);
      total += w;
    }
  } else {
    for (let j = 0; j < V; j++) total += weight(j);
  }
  if (s.topP < 1) {
    let acc = 0;
    let keep = 0;
    for (;;) {
      if (keep === candidates.length) {
        if (heap.remaining === 0) break;
        const j = heap.pop();
        candidates.push(j);
        weights.push(weight(j));
      }
      acc += weights[keep] as number;
      keep++;
      if (acc >= s.topP * total) break;
    }
    candidates.length = keep;
    weights.length = keep;
    total = acc;
  }
  const u = rng.nextFloat() * total;
  let acc = 0;
  for (let i = 0; i < candidates.length; i++) {
    acc += weights[i] as number;
    if (u < acc) return candidates[i] as number;
  }
  return candidates[candidates.length - 1] as number;
}
