// Example multi-turn environment: guess a secret number from 1 to `max`; after each wrong guess
// the environment says "higher" or "lower" and the episode goes on, up to `maxGuesses`. A right
// guess earns 1; each reply that is a number in range earns a small format reward, so an
// untrained model first learns to guess at all.

import type { Message } from "../../messages.js";
import { textOf } from "../../messages.js";
import type { Renderer } from "../../renderers/types.js";
import type { Rng } from "../../run/rng.js";
import type { Env, EnvGroupBuilder, GroupSource, Observation, StepResult } from "../types.js";

/** Options of the guessing game. */
export interface GuessingOptions {
  /** Numbers from 1 to max. Default 8. */
  max?: number;
  /** Turns before the episode ends. Default 3. */
  maxGuesses?: number;
  /** Reward for a valid guess. Default 0.05. */
  formatReward?: number;
}

/** One game against a fixed secret. */
export class GuessingEnv implements Env {
  readonly #messages: Message[];
  #guesses = 0;
  readonly #max: number;
  readonly #maxGuesses: number;
  readonly #formatReward: number;

  /** A game with `secret`, played through `renderer`. */
  constructor(
    /** Turns the turns into tokens and parses the model's guesses. */
    readonly renderer: Renderer,
    /** The number to guess, between 1 and `options.max`. */
    readonly secret: number,
    options: GuessingOptions = {},
  ) {
    this.#max = options.max ?? 8;
    this.#maxGuesses = options.maxGuesses ?? 3;
    this.#formatReward = options.formatReward ?? 0.05;
    this.#messages = [{ role: "user", content: `Guess my number, 1-${this.#max}.` }];
  }

  #observation(): Observation {
    return {
      prompt: this.renderer.buildGenerationPrompt(this.#messages),
      stop: this.renderer.stopSequences(),
    };
  }

  /** The opening question. */
  initialObservation(): Observation {
    return this.#observation();
  }

  /** Scores a guess; a wrong one gets a hint and another turn, until `maxGuesses`. */
  step(action: number[]): StepResult {
    this.#guesses++;
    const reply = textOf(this.renderer.parseResponse(action).message.content).trim();
    const match = reply.match(/\d+/);
    const guess = match ? Number(match[0]) : Number.NaN;
    const valid = guess >= 1 && guess <= this.#max;
    if (guess === this.secret) return { reward: 1, done: true, metrics: { won: 1, valid: 1 } };
    const over = this.#guesses >= this.#maxGuesses;
    const metrics = { won: 0, valid: valid ? 1 : 0 };
    const reward = valid ? this.#formatReward : 0;
    if (over) return { reward, done: true, metrics };
    const hint = !valid ? `A number, 1-${this.#max}.` : guess < this.secret ? "Higher." : "Lower.";
    this.#messages.push({ role: "assistant", content: reply }, { role: "user", content: hint });
    return { reward, done: false, next: this.#observation(), metrics };
  }
}

/** `groups` secrets per iteration, each played `groupSize` times. */
export function guessingGroups(
  renderer: Renderer,
  groups: number,
  groupSize: number,
  options: GuessingOptions = {},
): GroupSource {
  const max = options.max ?? 8;
  return (_iteration: number, rng: Rng): EnvGroupBuilder[] =>
    Array.from({ length: groups }, () => {
      const secret = 1 + rng.int(max);
      return {
        label: `secret ${secret}`,
        makeEnvs: () => Array.from({ length: groupSize }, () => new GuessingEnv(renderer, secret, options)),
      };
    });
}
