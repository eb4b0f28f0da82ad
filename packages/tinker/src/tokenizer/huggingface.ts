// A tokenizer from a local Hugging Face `tokenizer.json` (and `tokenizer_config.json` beside it when
// present), run by @huggingface/tokenizers. Nothing is downloaded: the files must be on disk. The
// library is imported on first use only, so programs that never load such a tokenizer never load it.

import { ValidationError } from "../client/errors.js";
import type { DecodeOptions, EncodeOptions, Tokenizer } from "./types.js";
import { TokenizerNotFoundError } from "./types.js";

interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  get_added_tokens_decoder(): Map<number, { content: string; special: boolean }>;
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return undefined;
}

class HuggingFaceTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly #unkId: number | undefined;

  constructor(
    readonly name: string,
    private readonly inner: HfTokenizer,
    config: Record<string, unknown>,
    unkToken: string | undefined,
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
    return this.inner.decode(Array.from(tokens), { skip_special_tokens: options.skipSpecialTokens ?? false });
  }
}

/**
 * Loads `path`: a tokenizer.json file, or a directory holding one. `tokenizer_config.json` in the
 * same directory is read when present (it names the BOS/EOS/PAD tokens).
 */
export async function loadHuggingFaceTokenizer(path: string): Promise<Tokenizer> {
  const fs = await import("node:fs/promises");
  const { dirname, join } = await import("node:path");
  let file = path;
  try {
    if ((await fs.stat(path)).isDirectory()) file = join(path, "tokenizer.json");
  } catch (cause) {
    throw new TokenizerNotFoundError(`No tokenizer file at ${path}`, path, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (cause) {
    throw new TokenizerNotFoundError(
      `Cannot read ${file} as a Hugging Face tokenizer.json: ${(cause as Error).message}`,
      path,
      { cause },
    );
  }
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await fs.readFile(join(dirname(file), "tokenizer_config.json"), "utf8"));
  } catch {
    // Optional: without it the special ids stay unknown.
  }
  const { Tokenizer } = await import("@huggingface/tokenizers");
  try {
    const inner = new Tokenizer(json as object, config) as unknown as HfTokenizer;
    const model = (json as { model?: { unk_token?: unknown } }).model;
    const unk = typeof model?.unk_token === "string" ? model.unk_token : undefined;
    return new HuggingFaceTokenizer(file, inner, config, unk);
  } catch (cause) {
    throw new TokenizerNotFoundError(
      `${file} is not a tokenizer @huggingface/tokenizers can load: ${(cause as Error).message}`,
      path,
      { cause },
    );
  }
}
