export { BYTE_LEVEL_TOKENIZER, ByteLevelTokenizer } from "./byte-level.js";
export {
  type AddedTokenOverride,
  type LoadHuggingFaceTokenizerOptions,
  loadHuggingFaceTokenizer,
} from "./huggingface.js";
export {
  getTokenizer,
  knownVocabSize,
  listTokenizerModels,
  type ResolveTokenizerOptions,
  registerTokenizer,
  resolveTokenizer,
  type TokenizerLoader,
  type TokenizerModel,
} from "./resolve.js";
export {
  type ApplyChatTemplateOptions,
  type ChatMessage,
  ChatTemplateError,
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
  TokenizerNotFoundError,
} from "./types.js";
