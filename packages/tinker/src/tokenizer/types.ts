// What the SDK needs from a tokenizer: text to token ids and back, the vocabulary size (to check
// token ids before sending them) and the special ids a training or sampling loop uses.

import { TinkerError } from "../client/errors.js";

export interface EncodeOptions {
  /** Put the BOS token first, when the tokenizer has one. Default false. */
  addBos?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text. Default false. */
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  /** Which tokenizer this is, e.g. "tinker-local/byte-level" or a tokenizer.json path. */
  readonly name: string;
  /** Token ids are integers in [0, vocabSize). */
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  /** Special token text → id. */
  readonly specialTokens: Readonly<Record<string, number>>;
  encode(text: string, options?: EncodeOptions): number[];
  decode(tokens: ArrayLike<number>, options?: DecodeOptions): string;
}

/** No tokenizer could be found or loaded for a model; the message says how to provide one. */
export class TokenizerNotFoundError extends TinkerError {
  override name = "TokenizerNotFoundError";
  readonly model: string;
  constructor(message: string, model: string, options?: { cause?: unknown }) {
    super(message, options);
    this.model = model;
  }
}
