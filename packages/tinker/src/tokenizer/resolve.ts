// Which tokenizer a model uses. The table maps a model name or `tokenizer_id` (as get_info and
// samplers/{id} report it) to a loader. Built in: every tinker-local model uses the byte-level
// tokenizer. Anything else needs the caller to say where its tokenizer is (a local tokenizer.json)
// or to register a loader; nothing is ever downloaded.

import { ByteLevelTokenizer } from "./byte-level.js";
import { loadHuggingFaceTokenizer } from "./huggingface.js";
import { type Tokenizer, TokenizerNotFoundError } from "./types.js";

export type TokenizerLoader = () => Tokenizer | Promise<Tokenizer>;

interface Entry {
  /** An exact name, or a prefix when it ends with "/" or "*". */
  pattern: string;
  load: TokenizerLoader;
  /** Known without loading, for checking token ids before sending. */
  vocabSize?: number;
}

const byteLevel = new ByteLevelTokenizer();
const table: Entry[] = [{ pattern: "tinker-local/*", load: () => byteLevel, vocabSize: byteLevel.vocabSize }];

function matches(pattern: string, name: string): boolean {
  if (pattern.endsWith("*")) return name.startsWith(pattern.slice(0, -1));
  if (pattern.endsWith("/")) return name.startsWith(pattern);
  return pattern === name;
}

function find(name: string): Entry | undefined {
  // Later registrations win, so a user can override a built-in entry.
  for (let i = table.length - 1; i >= 0; i--) if (matches(table[i]!.pattern, name)) return table[i];
  return undefined;
}

/**
 * Registers a tokenizer for a model name (`"org/model"`), or for every name with a prefix
 * (`"org/*"`). `vocabSize`, when given, lets the SDK check token ids before sending them.
 */
export function registerTokenizer(
  pattern: string,
  load: TokenizerLoader,
  options: { vocabSize?: number } = {},
): void {
  table.push({ pattern, load, ...(options.vocabSize !== undefined ? { vocabSize: options.vocabSize } : {}) });
}

/** The vocabulary size of a model's tokenizer when the table knows it without loading; else undefined. */
export function knownVocabSize(model: string): number | undefined {
  return find(model)?.vocabSize;
}

export interface ResolveTokenizerOptions {
  /** A local tokenizer.json (or a directory with one), loaded with @huggingface/tokenizers. */
  tokenizerPath?: string;
}

/**
 * The tokenizer of `model` (a model name or tokenizer id): `tokenizerPath` when given, else the
 * table. Throws TokenizerNotFoundError with what to do when neither knows it.
 */
export async function resolveTokenizer(
  model: string,
  options: ResolveTokenizerOptions = {},
): Promise<Tokenizer> {
  if (options.tokenizerPath !== undefined) return loadHuggingFaceTokenizer(options.tokenizerPath);
  const entry = find(model);
  if (entry) return entry.load();
  throw new TokenizerNotFoundError(
    `No tokenizer is known for "${model}", and tinker-ts does not download tokenizers. Either pass ` +
      "{ tokenizerPath: '/path/to/tokenizer.json' } (a local Hugging Face tokenizer.json, or its directory), " +
      `or register one: registerTokenizer("${model}", () => myTokenizer).`,
    model,
  );
}
