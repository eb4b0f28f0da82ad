// The byte-level tokenizer shared by every tinker-local model. Token ids 0-255 are the bytes of
// the UTF-8 encoding; a few special tokens follow. The SDK mirrors this table (see docs/models.md).
import { ModelInputError } from "./errors.js";

/** Beginning of sequence: put in front of a prompt with `encode(text, { addBos: true })`. */
export const BOS_TOKEN_ID = 256;
/** End of sequence: sampling stops when the model produces it (stop reason `stop`). */
export const EOS_TOKEN_ID = 257;
/** Padding; never produced by `encode`. */
export const PAD_TOKEN_ID = 258;
/** Token ids are 0..258: the 256 byte values, then BOS, EOS, PAD. */
export const VOCAB_SIZE = 259;

/** A plain-JSON description of the tokenizer, enough for another program to re-implement it. */
export const TOKENIZER_DESCRIPTION = {
  /** Always `byte-level`: one token per byte of the text's encoding. */
  type: "byte-level",
  /** The text encoding whose bytes are the tokens. */
  encoding: "utf-8",
  /** Number of token ids ({@link VOCAB_SIZE}). */
  vocab_size: VOCAB_SIZE,
  /** First and last id (inclusive) that stand for the byte of the same value. */
  byte_token_ids: [0, 255],
  /** Special tokens by their text form, as `decode` writes them. */
  special_tokens: {
    /** {@link BOS_TOKEN_ID}. */
    "<|bos|>": BOS_TOKEN_ID,
    /** {@link EOS_TOKEN_ID}. */
    "<|eos|>": EOS_TOKEN_ID,
    /** {@link PAD_TOKEN_ID}. */
    "<|pad|>": PAD_TOKEN_ID,
  },
  /** {@link BOS_TOKEN_ID}. */
  bos_token_id: BOS_TOKEN_ID,
  /** {@link EOS_TOKEN_ID}. */
  eos_token_id: EOS_TOKEN_ID,
  /** {@link PAD_TOKEN_ID}. */
  pad_token_id: PAD_TOKEN_ID,
} as const;

const SPECIAL_TEXT: Record<number, string> = {
  [BOS_TOKEN_ID]: "<|bos|>",
  [EOS_TOKEN_ID]: "<|eos|>",
  [PAD_TOKEN_ID]: "<|pad|>",
};

const encoder = new TextEncoder();

export interface EncodeOptions {
  /** Put BOS in front. Default false: `encode` returns exactly the text's bytes. */
  addBos?: boolean;
}

/** The token ids of `text`: its UTF-8 bytes, with BOS in front when `addBos` is set. Never throws. */
export function encode(text: string, options: EncodeOptions = {}): number[] {
  const bytes = encoder.encode(text);
  const out: number[] = options.addBos ? [BOS_TOKEN_ID] : [];
  for (const b of bytes) out.push(b);
  return out;
}

export interface DecodeOptions {
  /** Drop BOS/EOS/PAD instead of writing them as `<|bos|>` etc. Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * Bytes that are not valid UTF-8 (e.g. a multi-byte character cut in half by max_tokens) become
 * U+FFFD rather than throwing: sampled text is arbitrary bytes.
 */
export function decode(tokens: ArrayLike<number>, options: DecodeOptions = {}): string {
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let out = "";
  let run: number[] = [];
  const flush = () => {
    if (run.length > 0) out += decoder.decode(Uint8Array.from(run));
    run = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    if (!Number.isInteger(t) || t < 0 || t >= VOCAB_SIZE) {
      throw new ModelInputError(`token ${t} at index ${i} is outside the vocabulary [0, ${VOCAB_SIZE})`);
    }
    if (t < 256) {
      run.push(t);
      continue;
    }
    flush();
    if (!options.skipSpecialTokens) out += SPECIAL_TEXT[t] ?? "";
  }
  flush();
  return out;
}
