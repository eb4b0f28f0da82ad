// From JSONL conversation records to training datums: each record is `{"messages": [...]}` in the
// cookbook's message format, rendered by the model's renderer with a `trainOn` choice, cut to
// `maxLength` tokens (counted, so a user sees how much was lost), and shifted into a
// `cross_entropy` Datum. Examples left with no trained token are skipped and counted.

import type { Datum } from "tinker-ts";
import { datumFromExample } from "../datum.js";
import type { Message } from "../messages.js";
import type { Renderer, TrainOn } from "../renderers/types.js";
import { RecipeError } from "../run/errors.js";
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
  /** Examples in the batch. */
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

/** Renders one conversation; undefined when nothing is left to train on. */
export function renderConversation(
  messages: readonly Message[],
  options: RenderOptions,
): RenderedExample | undefined {
  const example = options.renderer.buildSupervisedExample(messages, {
    trainOn: options.trainOn ?? "all_assistant_messages",
  });
  const full = example.weights.length;
  const max = options.maxLength;
  const kept = max === undefined ? full : Math.min(full, max);
  if (kept < 2) return undefined;
  let trained = 0;
  for (let i = 1; i < kept; i++) trained += example.weights[i]!;
  if (trained === 0) return undefined;
  const datum = datumFromExample(example, max === undefined ? {} : { maxLength: max });
  return { datum, tokens: kept, trainedTokens: trained, cutTokens: full - kept };
}

/** Renders record `index` of `file` and adds it to `stats`; undefined when it was skipped. */
export function renderRecord(
  file: JsonlFile,
  index: number,
  options: RenderOptions,
  stats: RenderStats,
): RenderedExample | undefined {
  const where = `${file.path}: record ${index}`;
  const rendered = renderConversation(messagesOf(file.record(index), where), options);
  if (rendered === undefined) {
    stats.skipped++;
    return undefined;
  }
  stats.examples++;
  stats.tokens += rendered.tokens;
  stats.trainedTokens += rendered.trainedTokens;
  if (rendered.cutTokens > 0) {
    stats.truncated++;
    stats.cutTokens += rendered.cutTokens;
  }
  return rendered;
}
