// From JSONL conversation records to training datums: each record is `{"messages": [...]}` in the
// cookbook's message format, rendered by the model's renderer with a `trainOn` choice, cut to
// `maxLength` tokens (counted, so a user sees how much was lost), and shifted into a
// `cross_entropy` Datum. A renderer that rewrites history (qwen3) gives one example per trained
// reply (`buildSupervisedExamples`). Examples left with no trained token are skipped and counted.

import type { Datum } from "tinker-ts";
import { datumFromExample } from "../datum.js";
import type { Message } from "../messages.js";
import type { Renderer, SupervisedExample, TrainOn } from "../renderers/types.js";
import { RecipeError } from "../run/errors.js";
import { buildSupervisedExamples } from "../supervised.js";
import type { JsonlFile } from "./jsonl-file.js";

/** How conversations become datums. */
export interface RenderOptions {
  /** The model's renderer. */
  renderer: Renderer;
  /** Which tokens carry loss. Default `all_assistant_messages`. */
  trainOn?: TrainOn;
  /** Cut every example to this many tokens. */
  maxLength?: number;
}

/** One example ready to train on. */
export interface RenderedExample {
  /** The datum. */
  datum: Datum;
  /** Tokens of the example after cutting (the datum's input is one shorter). */
  tokens: number;
  /** Sum of the target weights: the tokens that carry loss. */
  trainedTokens: number;
  /** Tokens cut off by `maxLength` (0 when it fit). */
  cutTokens: number;
}

/** Counts kept while rendering a batch. */
export interface RenderStats {
  /** Examples in the batch (a record can give several). */
  examples: number;
  /** Tokens in the batch. */
  tokens: number;
  /** Tokens that carry loss. */
  trainedTokens: number;
  /** Examples that were longer than `maxLength`. */
  truncated: number;
  /** Tokens cut off by `maxLength`. */
  cutTokens: number;
  /** Records skipped because nothing was left to train on (after cutting). */
  skipped: number;
}

/** Zeroed counts. */
export function emptyStats(): RenderStats {
  return { examples: 0, tokens: 0, trainedTokens: 0, truncated: 0, cutTokens: 0, skipped: 0 };
}

/** The messages of a record; anything else is a RecipeError naming the record. */
export function messagesOf(record: unknown, where: string): Message[] {
  const messages = (record as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new RecipeError(`${where}: expected {"messages": [...]} with at least one message`);
  return messages as Message[];
}

function cut(example: SupervisedExample, maxLength: number | undefined): RenderedExample | undefined {
  const full = example.weights.length;
  const kept = maxLength === undefined ? full : Math.min(full, maxLength);
  if (kept < 2) return undefined;
  let trained = 0;
  for (let i = 1; i < kept; i++) trained += example.weights[i]!;
  if (trained === 0) return undefined;
  const datum = datumFromExample(example, maxLength === undefined ? {} : { maxLength });
  return { datum, tokens: kept, trainedTokens: trained, cutTokens: full - kept };
}

/**
 * The examples of one conversation (one, or one per trained reply for renderers that rewrite
 * history), cut to `maxLength`; those with nothing left to train on are dropped.
 */
export function renderConversation(messages: readonly Message[], options: RenderOptions): RenderedExample[] {
  const examples = buildSupervisedExamples(options.renderer, messages, {
    trainOn: options.trainOn ?? "all_assistant_messages",
  });
  return examples.flatMap((e) => cut(e, options.maxLength) ?? []);
}

/** Renders record `index` of `file` and adds it to `stats`; empty when it was skipped. */
export function renderRecord(
  file: JsonlFile,
  index: number,
  options: RenderOptions,
  stats: RenderStats,
): RenderedExample[] {
  const where = `${file.path}: record ${index}`;
  const rendered = renderConversation(messagesOf(file.record(index), where), options);
  if (rendered.length === 0) stats.skipped++;
  for (const r of rendered) {
    stats.examples++;
    stats.tokens += r.tokens;
    stats.trainedTokens += r.trainedTokens;
    if (r.cutTokens > 0) {
      stats.truncated++;
      stats.cutTokens += r.cutTokens;
    }
  }
  return rendered;
}
