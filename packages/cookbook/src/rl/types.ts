// What an RL environment is to the loop. The loop samples an action (tokens) for each
// observation; the environment scores it and says whether the episode goes on. Environments work
// in tokens so any format fits; most build their prompts with a renderer and read actions back
// with `renderer.parseResponse`.

import type { ModelInput } from "tinker-ts";
import type { Rng } from "../run/rng.js";

/** What the policy sees before it acts, and when its action ends. */
export interface Observation {
  /** The prompt to sample the action from. */
  prompt: ModelInput;
  /** Stop sequences for the sampler (usually `renderer.stopSequences()`). */
  stop: number[] | string[];
}

/** The outcome of one action. */
export interface StepResult {
  /** The reward for this action. */
  reward: number;
  /** True when the episode is over. */
  done: boolean;
  /** The next observation, when not done. */
  next?: Observation;
  /** Numbers to average into the iteration's metrics (e.g. `correct: 1`). */
  metrics?: Record<string, number>;
}

/** One episode's environment (single- or multi-turn). Used once, then dropped. */
export interface Env {
  /** The first observation. */
  initialObservation(): Observation | Promise<Observation>;
  /** Scores `action` (the sampled tokens, stop sequence included when the sampler returns it). */
  step(action: number[]): StepResult | Promise<StepResult>;
}

/**
 * A group of environments on one problem: their rewards are compared with each other (the
 * advantages are centred on the group's mean), so what is learned is what did better than the
 * policy's other tries at the same problem.
 */
export interface EnvGroupBuilder {
  /** The group's environments (typically the same problem, `groupSize` times). */
  makeEnvs(): Env[] | Promise<Env[]>;
  /** A name for logs (e.g. the problem). */
  readonly label?: string;
}

/**
 * The problems of one iteration. It must depend only on `iteration` and what it draws from `rng`
 * (whose state the resume record keeps), so a resumed run sets the same problems.
 */
export type GroupSource = (iteration: number, rng: Rng) => EnvGroupBuilder[] | Promise<EnvGroupBuilder[]>;

/** One action and what came of it. */
export interface Transition {
  /** The prompt tokens the action was sampled from. */
  observation: number[];
  /** The sampled tokens. */
  action: number[];
  /** The sampler's log-probability of each action token. */
  logprobs: number[];
  /** The reward of the action. */
  reward: number;
  /** The environment's metrics of the step. */
  metrics: Record<string, number>;
}

/** One episode. */
export interface Trajectory {
  /** The transitions, in order. */
  transitions: Transition[];
  /** The sum of the rewards. */
  totalReward: number;
}
