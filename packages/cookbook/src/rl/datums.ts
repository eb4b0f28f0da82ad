// From an episode to training datums for the `importance_sampling` and `ppo` losses. A datum is
// one token sequence; position j of the model input predicts token j+1, whose target carries the
// sampler's logprob (the denominator of the importance ratio) and the episode's advantage. Tokens
// the policy did not choose (prompts, the environment's replies) get advantage 0 and logprob 0:
// they add nothing to the loss.
//
// A multi-turn episode is one datum when every observation extends the previous observation plus
// its action (the renderer's extension property); where one does not, a new datum starts.

import { Datum } from "tinker-ts";
import { RecipeError } from "../run/errors.js";
import type { Trajectory } from "./types.js";

interface Sequence {
  tokens: number[];
  logprobs: number[];
  advantages: number[];
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

function toDatum(s: Sequence): Datum {
  return Datum.create({
    modelInput: s.tokens.slice(0, -1),
    lossFnInputs: {
      target_tokens: s.tokens.slice(1),
      logprobs: s.logprobs.slice(1),
      advantages: s.advantages.slice(1),
    },
  });
}

/**
 * The sequences of an episode, before the shift (tokens, logprob and advantage per token). Each
 * action token's advantage is `advantage`, plus `perToken[i][j]` for token j of transition i when
 * given (e.g. an entropy bonus).
 */
export function trajectorySequences(
  trajectory: Trajectory,
  advantage: number,
  perToken?: readonly (readonly number[])[],
): Sequence[] {
  if (perToken !== undefined && perToken.length !== trajectory.transitions.length)
    throw new RecipeError(
      `per-token advantages for ${perToken.length} transitions, but the episode has ${trajectory.transitions.length}`,
    );
  const out: Sequence[] = [];
  let current: Sequence | undefined;
  for (const [i, t] of trajectory.transitions.entries()) {
    if (t.logprobs.length !== t.action.length)
      throw new RecipeError(`an action has ${t.action.length} tokens but ${t.logprobs.length} logprobs`);
    const extra = perToken?.[i];
    if (extra !== undefined && extra.length !== t.action.length)
      throw new RecipeError(
        `an action has ${t.action.length} tokens but ${extra.length} per-token advantages`,
      );
    if (!current || !startsWith(t.observation, current.tokens)) {
      if (current) out.push(current);
      current = { tokens: [], logprobs: [], advantages: [] };
    }
    const added = t.observation.slice(current.tokens.length);
    current.tokens.push(...added, ...t.action);
    current.logprobs.push(...added.map(() => 0), ...t.logprobs);
    current.advantages.push(...added.map(() => 0), ...t.action.map((_, j) => advantage + (extra?.[j] ?? 0)));
  }
  if (current) out.push(current);
  return out.filter((s) => s.tokens.length >= 2);
}

/** The datums of an episode with its advantage (and per-token additions, as in trajectorySequences). */
export function trajectoryDatums(
  trajectory: Trajectory,
  advantage: number,
  perToken?: readonly (readonly number[])[],
): Datum[] {
  return trajectorySequences(trajectory, advantage, perToken).map(toDatum);
}
