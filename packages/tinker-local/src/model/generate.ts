// Generation on a transformer: sampling with a KV cache, prompt logprobs and top-k prompt
// logprobs. Split from lora-model.ts; LoraModel checks its inputs and calls these.
import { ModelInputError } from "./errors.js";
import { logSumExpRow } from "./kernels.js";
import { forEachLogitBlock } from "./logits.js";
import { Prng } from "./prng.js";
import { chooseToken, type ResolvedSampling, type SampledSequence, topKIndices } from "./sampling.js";
import type { KvCache, Transformer } from "./transformer.js";

/** Says whether a sequence's generated tokens end a generation (stop ids or stop strings). */
export type StopTest = (token: number, generated: readonly number[]) => boolean;

/**
 * `numSamples` continuations of the prompt. rngs[i] drives sample i. Stops at `limit` tokens or
 * when `stops` says so.
 */
export function generate(
  transformer: Transformer,
  promptTokens: Int32Array,
  s: ResolvedSampling,
  rngs: readonly Prng[],
  limit: number,
  stops: StopTest,
): SampledSequence[] {
  const numSamples = rngs.length;
  const V = transformer.vocab;
  const P = promptTokens.length;
  const seqs: SampledSequence[] = Array.from({ length: numSamples }, () => ({
    tokens: [],
    logprobs: [],
    stop_reason: "length",
  }));
  if (limit <= 0) return seqs;
  const first = transformer.newCache(P + limit);
  const lastRow = transformer.forwardRows(
    promptTokens,
    Array.from({ length: P }, (_, i) => i),
    Array.from({ length: P }, () => first),
    true,
  );
  const caches: KvCache[] = [first];
  for (let i = 1; i < numSamples; i++) caches.push(first.clone());
  let active = Array.from({ length: numSamples }, (_, i) => i);
  let logits: Float64Array = new Float64Array(numSamples * V);
  for (let i = 0; i < numSamples; i++) logits.set(lastRow, i * V);

  for (let step = 0; step < limit; step++) {
    const next: number[] = [];
    active.forEach((sampleIndex, row) => {
      const seq = seqs[sampleIndex] as SampledSequence;
      const token = chooseToken(logits, row * V, V, s, rngs[sampleIndex] as Prng);
      seq.tokens.push(token);
      seq.logprobs.push((logits[row * V + token] as number) - logSumExpRow(logits, row * V, V));
      if (stops(token, seq.tokens)) seq.stop_reason = "stop";
      else next.push(sampleIndex);
    });
    active = next;
    if (active.length === 0 || step === limit - 1) break;
    const tokens = active.map((i) => (seqs[i] as SampledSequence).tokens[step] as number);
    logits = transformer.forwardRows(
      tokens,
      active.map(() => P + step),
      active.map((i) => caches[i] as KvCache),
    );
  }
  return seqs;
}

/** Log-probability of each prompt token given the ones before it; null for the first. */
export function promptLogprobs(transformer: Transformer, t: Int32Array): (number | null)[] {
  const V = transformer.vocab;
  const { hf } = transformer.forwardHidden(t, false);
  const out: (number | null)[] = [null];
  // Row i predicts token i + 1; the last row predicts nothing.
  forEachLogitBlock(transformer, hf, t.length - 1, (r0, n, logits) => {
    for (let i = 0; i < n; i++) {
      const target = t[r0 + i + 1] as number;
      out.push((logits[i * V + target] as number) - logSumExpRow(logits, i * V, V));
    }
  });
  return out;
}

/** For each prompt position after the first, the k most likely tokens there as [id, logprob]. */
export function topkPromptLogprobs(
  transformer: Transformer,
  t: Int32Array,
  k: number,
): ([number, number][] | null)[] {
  const V = transformer.vocab;
  if (!Number.isInteger(k) || k < 1 || k > V) {
    throw new ModelInputError(`topk_prompt_logprobs must be an integer from 1 to ${V}, got ${k}`);
  }
  const { hf } = transformer.forwardHidden(t, false);
  const out: ([number, number][] | null)[] = [null];
  forEachLogitBlock(transformer, hf, t.length - 1, (_r0, n, logits) => {
    for (let i = 0; i < n; i++) {
      const off = i * V;
      const lse = logSumExpRow(logits, off, V);
      out.push(topKIndices(logits, off, V, k).map((j) => [j, (logits[off + j] as number) - lse]));
    }
  });
  return out;
}

/** One PRNG per sample: from (seed, i) when seeded, else from the caller's unseeded-call count. */
export function sampleRngs(seed: number | bigint | null, unseededCall: number, numSamples: number): Prng[] {
  return Array.from({ length: numSamples }, (_, i) =>
    seed !== null ? new Prng(seed, i) : new Prng(unseededCall, 0x80000000 + i),
  );
}
