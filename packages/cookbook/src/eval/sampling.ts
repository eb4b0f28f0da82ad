// A sampling evaluator: a fixed set of prompts, one completion each from a SamplingClient on the
// weights under test, a scoring function of yours, and the mean score ("accuracy" when the score
// is right/wrong). Completions stop at the renderer's stop sequences and are parsed back into an
// assistant message before scoring, so a scorer reads text, not tokens.
//
// Every prompt's sampling seed is fixed from the evaluator's seed and the prompt's index, and the
// default temperature is 0, so the same weights give the same score however the server orders the
// requests: a resumed run logs the same accuracy as an uninterrupted one.

import type { SamplingClient } from "tinker-ts";
import type { Message } from "../messages.js";
import { textOf } from "../messages.js";
import type { Renderer, Termination } from "../renderers/types.js";
import { mapLimit } from "../rl/concurrency.js";
import { RecipeError } from "../run/errors.js";
import { mixSeeds } from "../run/rng.js";
import { messagesOf } from "../supervised/conversation-data.js";
import { JsonlFile } from "../supervised/jsonl-file.js";

/** One prompt of the set: the conversation to answer, plus whatever the scorer needs. */
export interface SamplingEvalExample {
  /** The conversation so far; the model writes the next assistant message. */
  messages: readonly Message[];
  /** Anything else the scorer reads (a reference answer, test cases, …). */
  [key: string]: unknown;
}

/** A completion as the scorer sees it. */
export interface Completion {
  /** The assistant message's text (thinking left out), as `renderer.parseResponse` read it. */
  text: string;
  /** The assistant message. */
  message: Message;
  /** The sampled tokens. */
  tokens: readonly number[];
  /** False when the completion did not end where the format says a message ends. */
  parsedOk: boolean;
  /** How the completion ended. */
  termination: Termination;
}

/**
 * Scores one completion: a number (usually 0..1) or a boolean (true counts 1). May be async, e.g.
 * to run the completion's code.
 */
export type Scorer<E extends SamplingEvalExample = SamplingEvalExample> = (
  completion: Completion,
  example: E,
) => number | boolean | Promise<number | boolean>;

/** Settings of a `SamplingEvaluator`. */
export interface SamplingEvalOptions<E extends SamplingEvalExample = SamplingEvalExample> {
  /** Renders the prompts and parses the completions; its stop sequences end each completion. */
  renderer: Renderer;
  /** The scoring function. */
  score: Scorer<E>;
  /** Tokens per completion. */
  maxTokens: number;
  /** Default 0 (greedy): the score of the weights, not of a lucky draw. */
  temperature?: number;
  /** Completions in flight at once. Default 16. */
  concurrency?: number;
  /** Seed of the sampling seeds (matters when temperature > 0). Default 0. */
  seed?: number;
}

/** One scored completion of an evaluation. */
export interface SamplingEvalRecord {
  /** The example's index in the set. */
  index: number;
  /** The completion's text. */
  completion: string;
  /** Its score. */
  score: number;
  /** Whether the completion ended as the format says a message ends. */
  parsedOk: boolean;
}

/** What one evaluation measured. */
export interface SamplingEvalResult {
  /** Mean score over the set (the share right, for a right/wrong scorer). */
  accuracy: number;
  /** Completions that did not end where a message ends (cut by maxTokens, or a malformed end). */
  unparsed: number;
  /** Every completion with its score, in the set's order. */
  records: SamplingEvalRecord[];
}

/** What a loop needs of a sampling evaluator, whatever its examples' type. */
export type SamplingEval = Pick<SamplingEvaluator, "evaluate">;

function checkedScore(value: unknown, index: number): number {
  const n = typeof value === "boolean" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n))
    throw new RecipeError(
      `the scorer returned ${String(value)} for example ${index}; it must return a finite number or a boolean`,
    );
  return n;
}

/** Samples a completion to every prompt of a fixed set and scores them; see the module comment. */
export class SamplingEvaluator<E extends SamplingEvalExample = SamplingEvalExample> {
  /** The prompt set. */
  readonly examples: readonly E[];
  readonly #options: SamplingEvalOptions<E>;
  readonly #prompts: ReturnType<Renderer["buildGenerationPrompt"]>[];

  /** An evaluator of `examples`; throws RecipeError on an empty set or bad settings. */
  constructor(examples: readonly E[], options: SamplingEvalOptions<E>) {
    if (examples.length === 0) throw new RecipeError("the sampling evaluator's prompt set is empty");
    if (typeof options.score !== "function")
      throw new RecipeError("the sampling evaluator needs a score function");
    if (!Number.isSafeInteger(options.maxTokens) || options.maxTokens < 1)
      throw new RecipeError(`maxTokens must be a positive integer, got ${options.maxTokens}`);
    const concurrency = options.concurrency ?? 16;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1)
      throw new RecipeError(`concurrency must be a positive integer, got ${concurrency}`);
    const temperature = options.temperature ?? 0;
    if (!(temperature >= 0) || !Number.isFinite(temperature))
      throw new RecipeError(`temperature must be a number >= 0, got ${temperature}`);
    // Rendered now: a conversation the renderer refuses fails here, before any training starts.
    this.#prompts = examples.map((e, i) => {
      if (!e || !Array.isArray(e.messages) || e.messages.length === 0)
        throw new RecipeError(`example ${i} of the sampling evaluator has no messages`);
      return options.renderer.buildGenerationPrompt(e.messages);
    });
    this.examples = examples;
    this.#options = { ...options, concurrency, temperature };
  }

  /**
   * An evaluator on the first `limit` records (default all) of a JSONL file of
   * `{"messages": [...], ...}`; each record is the example the scorer gets.
   */
  static fromJsonl(
    path: string,
    options: SamplingEvalOptions,
    limit = Number.POSITIVE_INFINITY,
  ): SamplingEvaluator {
    const file = JsonlFile.open(path);
    try {
      const examples: SamplingEvalExample[] = [];
      for (let i = 0; i < Math.min(limit, file.length); i++) {
        const record = file.record(i);
        const messages = messagesOf(record, `${path}: record ${i}`);
        examples.push({ ...(record as Record<string, unknown>), messages });
      }
      return new SamplingEvaluator(examples, options);
    } finally {
      file.close();
    }
  }

  /** Samples and scores every prompt on `sampler`'s weights. */
  async evaluate(sampler: SamplingClient): Promise<SamplingEvalResult> {
    const { renderer, score, maxTokens, temperature, concurrency } = this.#options;
    const stop = renderer.stopSequences();
    const seed = this.#options.seed ?? 0;
    const records = await mapLimit(this.examples, concurrency ?? 16, async (example, index) => {
      const result = await sampler.sample(this.#prompts[index]!, {
        samplingParams: {
          maxTokens,
          temperature: temperature ?? 0,
          stop,
          seed: mixSeeds(seed, index) % 2 ** 31,
        },
      });
      const tokens = result.sequences[0]?.tokens;
      if (!tokens) throw new RecipeError(`the sampler returned no sequence for example ${index}`);
      const parsed = renderer.parseResponse(tokens);
      const text = textOf(parsed.message.content);
      const value = await score(
        { text, message: parsed.message, tokens, parsedOk: parsed.ok, termination: parsed.termination },
        example,
      );
      return { index, completion: text, score: checkedScore(value, index), parsedOk: parsed.ok };
    });
    return {
      accuracy: records.reduce((a, r) => a + r.score, 0) / records.length,
      unparsed: records.filter((r) => !r.parsedOk).length,
      records,
    };
  }
}
