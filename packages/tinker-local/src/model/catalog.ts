// The models tinker-local serves. Names are what clients pass as `base_model`.
// `tiny` is sized for the test suite, `small` for demos; twins of hosted models (twins.ts) add
// specs of the same shape with a real tokenizer's vocabulary.
import { BOS_TOKEN_ID, EOS_TOKEN_ID, PAD_TOKEN_ID, TOKENIZER_DESCRIPTION, VOCAB_SIZE } from "./tokenizer.js";

/** What the model layer needs to know of a tokenizer: plain data, so a spec can cross to a worker. */
export interface TokenizerFacts {
  /** "byte-level" for tinker-local's own models; "huggingface" for twins. */
  kind: "byte-level" | "huggingface";
  /** What get_info reports as `model_data.tokenizer_id`. */
  tokenizerId: string;
  /** Number of token ids; ids are integers in [0, vocabSize). */
  vocabSize: number;
  /** The id put in front of a prompt; null when the tokenizer has none. */
  bosTokenId: number | null;
  /** The tokenizer's EOS: sampling always stops on it. */
  eosTokenId: number;
  /** Every id that ends a generation (EOS plus the model's other stop ids, e.g. Qwen's <|endoftext|>). */
  stopTokenIds: readonly number[];
  /** The padding id; null when the tokenizer has none. */
  padTokenId: number | null;
}

/** The shape of a served model: what `base_model` names, and the sizes its weights are drawn with. */
export interface ModelSpec {
  /** What clients pass as `base_model`, e.g. `tinker-local/tiny`. */
  name: string;
  /** Most tokens in one sequence (prompt plus completion); longer inputs are refused with 400. */
  maxContextLength: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads; dModel must be divisible by it. */
  nHeads: number;
  /** Hidden width of the MLP (up_proj output). */
  dMlp: number;
  /** Seed of the deterministic PRNG that draws the frozen base weights. */
  baseSeed: number;
  /** Token ids are integers in [0, vocabSize). */
  vocabSize: number;
  /**
   * "learned": a drawn [maxContextLength, dModel] table. "sinusoidal": computed, no memory per
   * position (twins, whose hosted context lengths would make a table costly).
   */
  positions: "learned" | "sinusoidal";
  /** The unembedding is the embedding matrix (as in Qwen3-4B): one [vocab, dModel] table, not two. */
  tiedEmbeddings: boolean;
  /** The tokenizer the model's ids come from. */
  tokenizer: TokenizerFacts;
}

const BYTE_LEVEL: TokenizerFacts = {
  kind: "byte-level",
  tokenizerId: TOKENIZER_DESCRIPTION.type,
  vocabSize: VOCAB_SIZE,
  bosTokenId: BOS_TOKEN_ID,
  eosTokenId: EOS_TOKEN_ID,
  stopTokenIds: [EOS_TOKEN_ID],
  padTokenId: PAD_TOKEN_ID,
};

/**
 * tinker-local's own byte-level models: `tinker-local/tiny` (sized for tests) and
 * `tinker-local/small` (for demos). Twins of hosted models are separate specs (see
 * {@link findTwin}); docs/models.md has the table.
 */
export const MODEL_CATALOG: readonly ModelSpec[] = [
  {
    name: "tinker-local/tiny",
    maxContextLength: 128,
    dModel: 32,
    nLayers: 2,
    nHeads: 2,
    dMlp: 128,
    baseSeed: 20_251_101,
    vocabSize: VOCAB_SIZE,
    positions: "learned",
    tiedEmbeddings: false,
    tokenizer: { ...BYTE_LEVEL, tokenizerId: "tinker-local/tiny" },
  },
  {
    name: "tinker-local/small",
    maxContextLength: 256,
    dModel: 128,
    nLayers: 4,
    nHeads: 4,
    dMlp: 512,
    baseSeed: 20_251_102,
    vocabSize: VOCAB_SIZE,
    positions: "learned",
    tiedEmbeddings: false,
    tokenizer: { ...BYTE_LEVEL, tokenizerId: "tinker-local/small" },
  },
];
