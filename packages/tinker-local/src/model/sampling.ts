// Sampling parameters (contract 4.7) and the choice of one token from a row of logits.
import { ModelInputError } from "./errors.js";
import type { Prng } from "./prng.js";
import { RankSelector, ranksBefore } from "./rank-select.js";

/** The contract's SamplingParams (4.12) as the sampler reads them; every field optional. */
export interface SamplingParams {
  /** Tokens to generate at most; unset = up to the model's context. */
  max_tokens?: number | null;
  /** 0 = greedy (argmax, lowest id on ties). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens; -1 (default) or 0 = no limit. */
  top_k?: number;
  /** Nucleus sampling mass in (0, 1]; 1 (default) = no limit. */
  top_p?: number;
  /** Same seed, same prompt, same weights → same samples. */
  seed?: number | bigint | null;
  /**
   * Stop strings (matched on the generated text: bytes for byte-level models, decoded text for
   * twins) or stop token ids. The tokenizer's EOS and stop ids always stop.
   */
  stop?: string | readonly string[] | readonly number[] | null;
}

/** One generated sequence. */
export interface SampledSequence {
  /**
   * The generated token ids (not the prompt); when a stop ended it, the last is the token that
   * stopped it.
   */
  tokens: number[];
  /** Log-probability of each sampled token under the model at temperature 1 (see docs/models.md). */
  logprobs: number[];
  /** `stop`: a stop string, a stop token or EOS ended it; `length`: `max_tokens` or the context ran out. */
  stop_reason: "stop" | "length";
}

export interface ResolvedSampling {
  maxTokens: number | null;
  temperature: number;
  topK: number;
  topP: number;
  seed: number | bigint | null;
  stopStrings: string[];
  stopTokens: Set<number>;
}

export function resolveSamplingParams(
  params: SamplingParams | null | undefined,
  vocab: number,
): ResolvedSampling {
  const p = params ?? {};
  if (typeof p !== "object") throw new ModelInputError("sampling_params must be an object");
  const maxTokens = p.max_tokens ?? null;
  if (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens < 0)) {
    throw new ModelInputError(`max_tokens must be a non-negative integer, got ${String(maxTokens)}`);
  }
  const temperature = p.temperature ?? 1;
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0) {
    throw new ModelInputError(`temperature must be a number >= 0, got ${String(temperature)}`);
  }
  const topK = p.top_k ?? -1;
  if (!Number.isInteger(topK) || topK < -1) {
    throw new ModelInputError(`top_k must be -1 (no limit) or a positive integer, got ${String(topK)}`);
  }
  const topP = p.top_p ?? 1;
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1)) {
    throw new ModelInputError(`top_p must be in (0, 1], got ${String(topP)}`);
  }
  const seed = p.seed ?? null;
  if (seed !== null && !(typeof seed === "bigint" || Number.isSafeInteger(seed))) {
    throw new ModelInputError(`seed must be an integer, got ${String(seed)}`);
  }
  const stopStrings: string[] = [];
  const stopTokens = new Set<number>();
  const stops = p.stop ?? [];
  const list: readonly (string | number)[] = typeof stops === "string" ? [stops] : stops;
  if (!Array.isArray(list))
    throw new ModelInputError("stop must be a string, a list of strings or a list of token ids");
  for (const s of list) {
    if (typeof s === "string") {
      if (s.length === 0) throw new ModelInputError("stop strings must not be empty");
      stopStrings.push(s);
    } else if (Number.isInteger(s) && s >= 0 && s < vocab) {
      stopTokens.add(s);
    } else {
      throw new ModelInputError(`stop token ${String(s)} is not a token id in [0, ${vocab})`);
    }
  }
  return { maxTokens, temperature, topK, topP, seed, stopStrings, stopTokens };
}

/** True when the generated tokens end with one of the stop strings' bytes. */
export function endsWithStopString(tokens: readonly number[], stops: readonly Uint8Array[]): boolean {
  for (const s of stops) {
    if (s.length > tokens.length) continue;
    const off = tokens.length - s.length;
    let match = true;
    for (let i = 0; i < s.length; i++) {
      if (tokens[off + i] !== s[i]) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

/**
 * Candidates in rank order (higher logit first, lower id on ties), popped from a binary heap:
 * building it is O(V) and each pop O(log V), so taking the first m costs O(V + m log V) instead
 * of sorting all V (150k–200k for twins) for every sampled token.
 */
export class RankHeap {
  private readonly heap: Int32Array;
  private size: number;
  constructor(
    private readonly logits: Float64Array,
    private readonly off: number,
    V: number,
  ) {
    this.heap = new Int32Array(V);
    for (let j = 0; j < V; j++) this.heap[j] = j;
    this.size = V;
    for (let i = (V >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  get remaining(): number {
    return this.size;
  }

  pop(): number {
    const h = this.heap;
    const top = h[0] as number;
    this.size--;
    h[0] = h[this.size] as number;
    this.siftDown(0);
    return top;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = this.size;
    const x = h[i] as number;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && ranksBefore(this.logits, this.off, h[c + 1] as number, h[c] as number)) c++;
      if (!ranksBefore(this.logits, this.off, h[c] as number, x)) break;
      h[i] = h[c] as number;
      i = c;
    }
    h[i] = x;
  }
}

/** The k best ids of logits[off, off+V) in rank order (higher logit first, lower id on ties). */
export function topKIndices(logits: Float64Array, off: number, V: number, k: number): number[] {
  const heap = new RankHeap(logits, off, V);
  const out: number[] = [];
  while (out.length < k && heap.remaining > 0) out.push(heap.pop());
  return out;
}

let scratch = new Float64Array(0);
let idsScratch = new Int32Array(0);

/** A reusable id buffer of at least n entries (see weightScratch). */
function idScratch(n: number): Int32Array {
  if (idsScratch.length < n) idsScratch = new Int32Array(n);
  return idsScratch;
}

/** A reusable buffer of at least n values (sampling is synchronous: one user at a time per thread). */
function weightScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

/** Picks a token from logits[off, off+V) under temperature, top-k and top-p. */
export function chooseToken(
  logits: Float64Array,
  off: number,
  V: number,
  s: ResolvedSampling,
  rng: Prng,
): number {
  let max = Number.NEGATIVE_INFINITY;
  let best = 0;
  for (let j = 0; j < V; j++) {
    const v = logits[off + j] as number;
    if (v > max) {
      max = v;
      best = j;
    }
  }
  // Greedy: argmax, lowest id on ties.
  if (s.temperature === 0) return best;
  const temperature = s.temperature;
  const weight = (j: number) => Math.exp(((logits[off + j] as number) - max) / temperature);
  const truncate = (s.topK > 0 && s.topK < V) || s.topP < 1;
  if (!truncate) {
    // Every token in id order: one pass for the total (keeping each weight), one to find u's token.
    const w = weightScratch(V);
    let total = 0;
    for (let j = 0; j < V; j++) {
      const x = weight(j);
      w[j] = x;
      total += x;
    }
    const u = rng.nextFloat() * total;
    let acc = 0;
    for (let j = 0; j < V; j++) {
      acc += w[j] as number;
      if (u < acc) return j;
    }
    return V - 1;
  }
  // Truncated: the candidates are the top_k best (all tokens without top_k), their total the sum
  // of their weights; top_p then keeps the shortest rank-order prefix whose mass reaches top_p of
  // that total (at least one token), and the draw walks that prefix in rank order. Both the
  // prefix's end and the drawn token are found by selection (rank-select.ts), not by sorting.
  const ids = idScratch(V);
  for (let j = 0; j < V; j++) ids[j] = j;
  const w = weightScratch(V);
  const select = new RankSelector(logits, off, ids, w);
  let n = V;
  if (s.topK > 0 && s.topK < V) {
    select.partitionTopK(V, s.topK);
    n = s.topK;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const j = ids[i] as number;
    const x = weight(j);
    w[j] = x;
    total += x;
  }
  if (s.topP < 1) {
    const nucleus = select.selectByMass(n, s.topP * total, false);
    n = nucleus.at + 1;
    total = nucleus.prefix;
  }
  const u = rng.nextFloat() * total;
  return ids[select.selectByMass(n, u, true).at] as number;
}
