export { BYTE_LEVEL_TOKENIZER, ByteLevelTokenizer } from "./byte-level.js";
export { loadHuggingFaceTokenizer } from "./huggingface.js";
export {
  knownVocabSize,
  type ResolveTokenizerOptions,
  registerTokenizer,
  resolveTokenizer,
  type TokenizerLoader,
} from "./resolve.js";
export { type DecodeOptions, type EncodeOptions, type Tokenizer, TokenizerNotFoundError } from "./types.js";
