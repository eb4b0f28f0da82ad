// What a renderer is to the code that uses it: the supervised and RL loops, the examples, a user's
// script. Kept small on purpose: four methods and a few facts. How a renderer gets there (headers,
// outputs, framing of thinking) is the business of base.ts and the family files.

import type { ModelInput, Tokenizer } from "tinker-ts";
import type { Message, ToolSpec } from "../messages.js";

/**
 * Which tokens of a supervised example carry loss (weight 1); every other token has weight 0.
 *
 * - `last_assistant_message`: the output of the final message, which must be the assistant's.
 * - `last_assistant_turn`: every assistant output after the last user message (a tool-using
 *   turn: its tool calls and its final answer, not the tool results).
 * - `all_assistant_messages`: every assistant output.
 * - `all_messages`: every message's output, whatever its role (headers excluded).
 * - `all_tokens`: everything, headers included (the BOS token excluded).
 * - `all_user_and_system_messages`: the outputs of user and system messages.
 * - `customized`: the outputs of messages with `trainable: true`; every message must say.
 *
 * An output is the message's content and its end-of-turn token(s); a header is the role marker
 * before it (`<|im_start|>assistant\n`), which the model never writes itself.
 */
export type TrainOn =
  | "last_assistant_message"
  | "last_assistant_turn"
  | "all_assistant_messages"
  | "all_messages"
  | "all_tokens"
  | "all_user_and_system_messages"
  | "customized";

/** Every `TrainOn` value, for flag parsing and tests. */
export const TRAIN_ON_VALUES: readonly TrainOn[] = Object.freeze([
  "last_assistant_message",
  "last_assistant_turn",
  "all_assistant_messages",
  "all_messages",
  "all_tokens",
  "all_user_and_system_messages",
  "customized",
]);

/** A conversation as one token sequence and one weight per token. */
export interface SupervisedExample {
  /** All tokens of the conversation (one text chunk). */
  modelInput: ModelInput;
  /** One weight per token of `modelInput`: 1 where the `trainOn` choice names the token, else 0. */
  weights: number[];
}

/** How a sampled response ended. */
export type Termination = "stop_sequence" | "eos" | "malformed";

/** What `parseResponse` made of sampled tokens. */
export interface ParsedResponse {
  /** The assistant message: content parts (thinking and text) and tool calls. */
  message: Message;
  /**
   * True when the response ended as the renderer expects (its stop sequence, or EOS where that is
   * a clean end) and every tool call in it could be read.
   */
  ok: boolean;
  /** How it ended: `malformed` means truncated (no stop sequence) or a broken frame. */
  termination: Termination;
}

/** Options of `buildGenerationPrompt`. */
export interface GenerationPromptOptions {
  /** Text the response starts with, appended to the prompt (the model continues after it). */
  prefill?: string;
}

/** Options of `buildSupervisedExample`. */
export interface SupervisedExampleOptions {
  /** Which tokens carry loss. Default `last_assistant_message`. */
  trainOn?: TrainOn;
}

/** Turns conversations into tokens for one model family's chat format, and sampled tokens back. */
export interface Renderer {
  /** The name `getRenderer` knows it by, e.g. `qwen3`. */
  readonly name: string;
  /** The tokenizer it encodes with; the model's own. */
  readonly tokenizer: Tokenizer;
  /**
   * Whether the prompt for each later turn of a conversation extends the tokens of the earlier
   * turns (nothing is rewritten, e.g. no thinking dropped from history). When true, a whole
   * multi-turn conversation can be one training sequence for `all_assistant_messages`.
   */
  readonly hasExtensionProperty: boolean;
  /** The prompt to sample the assistant's next message from. */
  buildGenerationPrompt(messages: readonly Message[], options?: GenerationPromptOptions): ModelInput;
  /** The tokens of the conversation and the weight of each (see `TrainOn`). */
  buildSupervisedExample(messages: readonly Message[], options?: SupervisedExampleOptions): SupervisedExample;
  /** What to pass as `samplingParams.stop`: token ids, or strings for formats without an end token. */
  stopSequences(): number[] | string[];
  /** The assistant message in sampled tokens (the tokens after the generation prompt). */
  parseResponse(tokens: ArrayLike<number>): ParsedResponse;
  /**
   * Messages to put before a conversation so the model knows its tools (usually one system
   * message). Throws RendererError when the format has no tool calling.
   */
  toolsPrefix(tools: readonly ToolSpec[], systemPrompt?: string): Message[];
}
