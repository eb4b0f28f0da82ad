// An entropy bonus for RL, estimated from the sampler's own logprobs. Maximising reward alone let a
// small policy collapse onto one action: once every try in a group agrees, the group's advantages
// are zero and nothing is learned from it again. Adding β·(−log π(a)) to the reward of each sampled
// token is, in expectation, β times the policy's entropy; its score-function gradient pushes up
// the tokens the policy rarely picks and down the ones it picks almost always. The bonus is
// centred on the batch's mean −log π (a baseline: it leaves the expected gradient alone and cuts
// its variance), so a batch whose tokens were all equally likely gets none. It needs no extra
// request: the logprobs are the ones the sampler returned with the tokens.

import { RecipeError } from "../run/errors.js";

/**
 * The entropy bonus of every action token: `coef × (−logprob − mean)`, where `mean` is the mean
 * −logprob over all the tokens given. `logprobs[e][j]` is token j of action e (any grouping: one
 * row per action); the answer has the same shape. Rows may be empty; no tokens at all gives `[]`
 * rows.
 */
export function entropyBonuses(logprobs: readonly (readonly number[])[], coef: number): number[][] {
  if (!(Number.isFinite(coef) && coef >= 0))
    throw new RecipeError(`the entropy bonus must be a finite number >= 0, got ${coef}`);
  let sum = 0;
  let count = 0;
  for (const row of logprobs)
    for (const lp of row) {
      if (!Number.isFinite(lp)) throw new RecipeError(`a sampled token has logprob ${lp}`);
      sum -= lp;
      count++;
    }
  // Equal logprobs get exact zeros: their float mean can differ from them by 1e-16, and a bonus
  // of that size would still make every episode a datum.
  const first = logprobs.find((row) => row.length > 0)?.[0];
  const alike = logprobs.every((row) => row.every((lp) => lp === first));
  const mean = count === 0 ? 0 : sum / count;
  return logprobs.map((row) => row.map((lp) => (coef === 0 || alike ? 0 : coef * (-lp - mean))));
}

/** The mean −logprob of the sampled tokens: a sample estimate of the policy's entropy per token. */
export function sampledEntropy(logprobs: readonly (readonly number[])[]): number {
  const all = logprobs.flat();
  return all.length === 0 ? 0 : -all.reduce((a, b) => a + b, 0) / all.length;
}
