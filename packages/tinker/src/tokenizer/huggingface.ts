// A tokenizer from a local Hugging Face `tokenizer.json` (and `tokenizer_config.json` beside it when
// present), run by @huggingface/tokenizers, with the chat template of the config rendered by
// @huggingface/jinja. Nothing is downloaded: the files must be on disk. Both libraries are imported
// on first use only, so programs that never load such a tokenizer never load them. A parsed
// tokenizer.json is kept per file: loading one takes about a second and a hundred MB, and a
// training client, a sampling client and a twin server all asking for Qwen3 should pay once.

import { ValidationError } from "../client/errors.js";
import { applyChatTemplate, type ChatTemplateHost, loadJinja } from "./chat-template.js";
import type {
  ApplyChatTemplateOptions,
  ChatMessage,
  DecodeOptions,
  EncodeOptions,
  Tokenizer,
} from "./types.js";
import { TokenizerNotFoundError } from "./types.js";

interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(
    ids: number[],
    options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean },
  ): string;
  token_to_id(token: string): number | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  get_added_tokens_decoder(): Map<number, { content: string; special: boolean }>;
}

/** An entry of tokenizer.json's `added_tokens` to put in place of the one with the same id (or add). */
export interface AddedTokenOverride {
  /** The token id. */
  id: number;
  /** The token's text. */
  content: string;
  /** Special tokens are left out by `decode(..., { skipSpecialTokens: true })`. */
  special: boolean;
}

/** Options of {@link loadHuggingFaceTokenizer}. */
export interface LoadHuggingFaceTokenizerOptions {
  /** The tokenizer's `name` (default: the tokenizer.json path). */
  name?: string;
  /**
   * The chat template: a Jinja string to use, `null` for none, or undefined (default) for the one
   * in tokenizer_config.json (or chat_template.jinja) beside tokenizer.json.
   */
  chatTemplate?: string | null;
  /** Why there is no chat template, for the error applyChatTemplate throws. */
  missingTemplateHint?: string;
  /** Added tokens that differ from the file's (a model that reuses a tokenizer with a few tokens renamed). */
  addedTokens?: readonly AddedTokenOverride[];
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return undefined;
}

const SPECIAL_TOKEN_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;

/** The special-token variables Hugging Face passes to every chat template (its special_tokens_map). */
function templateTokensOf(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const text = tokenText(config[key]);
    if (text !== undefined) out[key] = text;
  }
  const extra = config.additional_special_tokens;
  if (Array.isArray(extra))
    out.additional_special_tokens = extra.map(tokenText).filter((t) => t !== undefined);
  return out;
}

/** tokenizer_config.json's chat_template: a string, or named templates of which "default" is used. */
function templateOf(config: Record<string, unknown>): string | undefined {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => x && typeof x === "object" && (x as { name?: unknown }).name === "default");
    const template = (named as { template?: unknown } | undefined)?.template;
    if (typeof template === "string") return template;
  }
  return undefined;
}

class HuggingFaceTokenizer implements Tokenizer, ChatTemplateHost {
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly templateTokens: Readonly<Record<string, unknown>>;
  readonly #unkId: number | undefined;

  constructor(
    readonly name: string,
    private readonly inner: HfTokenizer,
    config: Record<string, unknown>,
    unkToken: string | undefined,
    readonly chatTemplate: string | undefined,
    readonly missingTemplateHint: string | undefined,
  ) {
    this.#unkId = unkToken === undefined ? undefined : inner.token_to_id(unkToken);
    let max = -1;
    for (const id of inner.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const idOf = (key: string) => {
      const text = tokenText(config[key]);
      return text === undefined ? undefined : inner.token_to_id(text);
    };
    this.bosTokenId = idOf("bos_token");
    this.eosTokenId = idOf("eos_token");
    this.padTokenId = idOf("pad_token");
    const specials: Record<string, number> = {};
    for (const [id, token] of inner.get_added_tokens_decoder())
      if (token.special) specials[token.content] = id;
    this.specialTokens = Object.freeze(specials);
    this.templateTokens = Object.freeze(templateTokensOf(config));
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    // Some models of the library leave a word out of the vocabulary as `undefined`: that is the
    // unknown token when the tokenizer has one, and an error otherwise.
    const ids = this.inner.encode(text, { add_special_tokens: false }).ids.map((id) => {
      if (typeof id === "number") return id;
      if (this.#unkId !== undefined) return this.#unkId;
      throw new ValidationError(
        `${this.name} has no token for part of the text and no unknown token`,
        "text",
      );
    });
    return options.addBos && this.bosTokenId !== undefined ? [this.bosTokenId, ...ids] : ids;
  }

  decode(tokens: ArrayLike<number>, options: DecodeOptions = {}): string {
    // The library refuses an empty array; no tokens are the empty text.
    if (tokens.length === 0) return "";
    return this.inner.decode(Array.from(tokens), {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      ...(options.cleanUpTokenizationSpaces !== undefined
        ? { clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces }
        : {}),
    });
  }

  applyChatTemplate(
    messages: readonly ChatMessage[],
    options?: ApplyChatTemplateOptions & { tokenize?: true },
  ): number[];
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: ApplyChatTemplateOptions & { tokenize: false },
  ): string;
  applyChatTemplate(messages: readonly ChatMessage[], options?: ApplyChatTemplateOptions): number[] | string;
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: ApplyChatTemplateOptions = {},
  ): number[] | string {
    return applyChatTemplate(this, messages, options);
  }
}

interface LoadedFiles {
  inner: HfTokenizer;
  config: Record<string, unknown>;
  unk: string | undefined;
  fileTemplate: string | undefined;
}

const loaded = new Map<string, Promise<LoadedFiles>>();

async function tokenizerFile(path: string): Promise<string> {
  const fs = await import("node:fs/promises");
  const { join } = await import("node:path");
  try {
    return (await fs.stat(path)).isDirectory() ? join(path, "tokenizer.json") : path;
  } catch (cause) {
    throw new TokenizerNotFoundError(`No tokenizer file at ${path}`, path, { cause });
  }
}

async function readFiles(
  file: string,
  path: string,
  addedTokens: readonly AddedTokenOverride[],
): Promise<LoadedFiles> {
  const fs = await import("node:fs/promises");
  const { dirname, join } = await import("node:path");
  let json: { added_tokens?: unknown[]; model?: { unk_token?: unknown } };
  try {
    json = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (cause) {
    throw new TokenizerNotFoundError(
      `Cannot read ${file} as a Hugging Face tokenizer.json: ${(cause as Error).message}`,
      path,
      { cause },
    );
  }
  if (addedTokens.length > 0) json.added_tokens = withAddedTokens(json.added_tokens ?? [], addedTokens);
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await fs.readFile(join(dirname(file), "tokenizer_config.json"), "utf8"));
  } catch {
    // Optional: without it the special ids stay unknown and there is no template.
  }
  let fileTemplate = templateOf(config);
  try {
    // Newer Hugging Face repositories keep the template in its own file.
    fileTemplate = await fs.readFile(join(dirname(file), "chat_template.jinja"), "utf8");
  } catch {
    // Absent: the config's template (if any) stands.
  }
  const [{ Tokenizer }] = await Promise.all([import("@huggingface/tokenizers"), loadJinja()]);
  try {
    const inner = new Tokenizer(json as object, config) as unknown as HfTokenizer;
    const unk = typeof json.model?.unk_token === "string" ? json.model.unk_token : undefined;
    return { inner, config, unk, fileTemplate };
  } catch (cause) {
    throw new TokenizerNotFoundError(
      `${file} is not a tokenizer @huggingface/tokenizers can load: ${(cause as Error).message}`,
      path,
      { cause },
    );
  }
}

function withAddedTokens(entries: unknown[], overrides: readonly AddedTokenOverride[]): unknown[] {
  const byId = new Map(overrides.map((o) => [o.id, o]));
  const shape = (o: AddedTokenOverride) => ({
    id: o.id,
    content: o.content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: o.special,
  });
  const out = entries.map((e) => {
    const o = byId.get((e as { id?: number }).id ?? -1);
    if (!o) return e;
    byId.delete(o.id);
    return shape(o);
  });
  for (const o of byId.values()) out.push(shape(o));
  return out;
}

/**
 * Loads `path`: a tokenizer.json file, or a directory holding one. `tokenizer_config.json` in the
 * same directory is read when present (it names the BOS/EOS/PAD tokens and holds the chat
 * template); so is `chat_template.jinja`. Loads of the same file share one parsed tokenizer.
 */
export async function loadHuggingFaceTokenizer(
  path: string,
  options: LoadHuggingFaceTokenizerOptions = {},
): Promise<Tokenizer> {
  const file = await tokenizerFile(path);
  const addedTokens = options.addedTokens ?? [];
  const key = `${file}\0${JSON.stringify(addedTokens)}`;
  let pending = loaded.get(key);
  if (!pending) {
    pending = readFiles(file, path, addedTokens);
    loaded.set(key, pending);
    // A failed load is not kept: the user may install or fix the file and try again.
    pending.catch(() => loaded.delete(key));
  }
  const { inner, config, unk, fileTemplate } = await pending;
  const template = options.chatTemplate === null ? undefined : (options.chatTemplate ?? fileTemplate);
  const hint =
    options.missingTemplateHint ??
    (options.chatTemplate === null
      ? undefined
      : `no chat_template in the tokenizer_config.json beside ${file}`);
  return new HuggingFaceTokenizer(options.name ?? file, inner, config, unk, template, hint);
}
