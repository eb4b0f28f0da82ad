// Example environment: small additions with an exact answer. The reward is 1 when the first
// number in the reply is the sum. Until a model answers right at all, an all-zero group teaches
// nothing, so a small format reward (up to `formatWeight`, for the share of the reply that is
// digits) lets an untrained model first learn to answer with a number; the exact answer is
// always worth more than any format. Half of the format reward goes by how near the number is to
// the sum: a format reward alone is the same for every problem, and a policy that learned "some
// digit" collapsed onto one digit (wrong for most problems) before it found the right ones; the
// nearness part points each problem's group toward its own answer.

import { SamplingEvaluator } from "../../eval/sampling.js";
import type { Message } from "../../messages.js";
import { textOf } from "../../messages.js";
import type { Renderer } from "../../renderers/types.js";
import { RecipeError } from "../../run/errors.js";
import type { Rng } from "../../run/rng.js";
import type { Env, EnvGroupBuilder, GroupSource, Observation, StepResult } from "../types.js";

/** Options of the arithmetic environment. */
export interface ArithmeticOptions {
  /** Operands are drawn from 0..maxOperand. Default 4 (sums of one digit). */
  maxOperand?: number;
  /** Reward for a reply made of digits only, scaled by their share. Default 0.2. */
  formatWeight?: number;
}

function maxOperandOf(options: ArithmeticOptions): number {
  const max = options.maxOperand ?? 4;
  if (!Number.isSafeInteger(max) || max < 0)
    throw new RecipeError(`maxOperand must be an integer >= 0, got ${max}`);
  const weight = options.formatWeight ?? 0.2;
  if (!(weight >= 0 && weight < 1))
    throw new RecipeError(`formatWeight must be >= 0 and below 1 (the exact answer's reward), got ${weight}`);
  return max;
}

/** The question the environment asks for `a + b`. */
function question(a: number, b: number): Message[] {
  return [{ role: "user", content: `${a}+${b}=` }];
}

/**
 * What the reply is worth: 1 for the right first number n; else `formatWeight` × the share of
 * the reply that is digits × (½ + ½ / (1 + |n − answer|)).
 */
export function arithmeticReward(
  reply: string,
  answer: number,
  formatWeight = 0.2,
): {
  /** 1 when right; otherwise up to `formatWeight`, the share of digits in the reply times the weight. */
  reward: number;
  /** 1 when the first number in the reply is `answer`, else 0 (the accuracy metric). */
  correct: number;
} {
  const first = reply.match(/-?\d+/);
  if (first && Number(first[0]) === answer) return { reward: 1, correct: 1 };
  const chars = [...reply];
  const digits = chars.filter((c) => c >= "0" && c <= "9").length;
  if (chars.length === 0 || !first) return { reward: 0, correct: 0 };
  const nearness = 0.5 + 0.5 / (1 + Math.abs(Number(first[0]) - answer));
  return { reward: ((formatWeight * digits) / chars.length) * nearness, correct: 0 };
}

/** One addition, answered in one turn. */
export class ArithmeticEnv implements Env {
  readonly #messages: Message[];

  /** `a + b`, asked through `renderer`. */
  constructor(
    /** Turns the question into tokens and parses the model's reply. */
    readonly renderer: Renderer,
    /** First addend. */
    readonly a: number,
    /** Second addend. */
    readonly b: number,
    /** Most a wrong reply can earn for looking like a number (0.2 by default; 0 turns shaping off). */
    readonly formatWeight = 0.2,
  ) {
    this.#messages = question(a, b);
  }

  /** The question as a generation prompt. */
  initialObservation(): Observation {
    return {
      prompt: this.renderer.buildGenerationPrompt(this.#messages),
      stop: this.renderer.stopSequences(),
    };
  }

  /** Reads the reply and scores it; always done. */
  step(action: number[]): StepResult {
    const reply = textOf(this.renderer.parseResponse(action).message.content).trim();
    const { reward, correct } = arithmeticReward(reply, this.a + this.b, this.formatWeight);
    return { reward, done: true, metrics: { correct } };
  }
}

/** `groups` problems per iteration, each asked `groupSize` times. */
export function arithmeticGroups(
  renderer: Renderer,
  groups: number,
  groupSize: number,
  options: ArithmeticOptions = {},
): GroupSource {
  const max = maxOperandOf(options);
  return (_iteration: number, rng: Rng): EnvGroupBuilder[] =>
    Array.from({ length: groups }, () => {
      const a = rng.int(max + 1);
      const b = rng.int(max + 1);
      return {
        label: `${a}+${b}`,
        makeEnvs: () =>
          Array.from({ length: groupSize }, () => new ArithmeticEnv(renderer, a, b, options.formatWeight)),
      };
    });
}

/**
 * A sampling evaluator over every problem of the distribution (all `a + b` with operands
 * 0..maxOperand), scored 1 for the exact sum as the environment scores it (the format reward left
 * out): with the default temperature 0, the share of problems the policy's most likely answer gets
 * right.
 */
export function arithmeticEvaluator(
  renderer: Renderer,
  maxTokens: number,
  options: Pick<ArithmeticOptions, "maxOperand"> = {},
): SamplingEvaluator<{
  /** The problem as a one-turn conversation. */
  messages: Message[];
  /** Its sum. */
  answer: number;
}> {
  const max = maxOperandOf(options);
  const problems = Array.from({ length: (max + 1) ** 2 }, (_, i) => {
    const a = Math.floor(i / (max + 1));
    const b = i % (max + 1);
    return { messages: question(a, b), answer: a + b };
  });
  return new SamplingEvaluator(problems, {
    renderer,
    maxTokens,
    score: (completion, problem) => arithmeticReward(completion.text.trim(), problem.answer, 0).correct,
  });
}
