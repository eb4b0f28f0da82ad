// Rollouts: play episodes against the current policy (a SamplingClient on the weights as they are
// now). Every sampling seed is fixed before anything runs, from the group's seed, the episode's
// index and the turn, so the samples do not depend on which request the server answers first.

import type { SamplingClient } from "tinker-ts";
import { RecipeError } from "../run/errors.js";
import { mixSeeds } from "../run/rng.js";
import { mapLimit } from "./concurrency.js";
import type { Env, EnvGroupBuilder, Trajectory, Transition } from "./types.js";

/** How actions are sampled. */
export interface RolloutOptions {
  /** Tokens per action. */
  maxTokens: number;
  /** Default 1: the logprobs are then the policy's own, which importance sampling needs. */
  temperature?: number;
  /** Turns after which an episode is cut (its last reward stands). Default 16. */
  maxTurns?: number;
  /** Episodes in flight at once. Default 32. */
  concurrency?: number;
}

/** Plays one episode. */
export async function rollout(
  env: Env,
  sampler: SamplingClient,
  seed: number,
  options: RolloutOptions,
): Promise<Trajectory> {
  const transitions: Transition[] = [];
  let observation = await env.initialObservation();
  const maxTurns = options.maxTurns ?? 16;
  for (let turn = 0; turn < maxTurns; turn++) {
    const result = await sampler.sample(observation.prompt, {
      samplingParams: {
        maxTokens: options.maxTokens,
        temperature: options.temperature ?? 1,
        stop: observation.stop,
        seed: mixSeeds(seed, turn) % 2 ** 31,
      },
    });
    const sequence = result.sequences[0];
    if (!sequence) throw new RecipeError("the sampler returned no sequence");
    if (!sequence.logprobs || sequence.logprobs.length !== sequence.tokens.length)
      throw new RecipeError("the sampler returned no logprobs for the sampled tokens; RL datums need them");
    const step = await env.step(sequence.tokens);
    transitions.push({
      observation: observation.prompt.toInts(),
      action: sequence.tokens,
      logprobs: sequence.logprobs,
      reward: step.reward,
      metrics: step.metrics ?? {},
    });
    if (step.done) break;
    if (!step.next)
      throw new RecipeError("an environment step that is not done must return the next observation");
    observation = step.next;
  }
  return { transitions, totalReward: transitions.reduce((s, t) => s + t.reward, 0) };
}

/**
 * Plays every group's episodes, at most `concurrency` at once. `seeds[g]` seeds group g; the
 * result is one array of trajectories per group, in order.
 */
export async function rolloutGroups(
  groups: readonly EnvGroupBuilder[],
  seeds: readonly number[],
  sampler: SamplingClient,
  options: RolloutOptions,
): Promise<Trajectory[][]> {
  const envs = await Promise.all(groups.map((g) => g.makeEnvs()));
  const jobs = envs.flatMap((list, g) => list.map((env, i) => ({ env, g, seed: mixSeeds(seeds[g]!, i) })));
  const done = await mapLimit(jobs, options.concurrency ?? 32, (job) =>
    rollout(job.env, sampler, job.seed, options),
  );
  const out: Trajectory[][] = envs.map(() => []);
  for (const [j, t] of done.entries()) out[jobs[j]!.g]!.push(t);
  return out;
}
