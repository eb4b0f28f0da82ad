// The byte-level tokenizer shared by every tinker-local model. Token ids 0-255 are the bytes of
// the UTF-8 encoding; a few special tokens follow. The SDK mirrors this table (see docs/models.md).
import { ModelInputError } from "./errors.js";

export const BOS_TOKEN_ID = 256;
export const EOS_TOKEN_ID = 257;
export const PAD_TOKEN_ID = 258;
export const VOCAB_SIZE = 259;

/** A plain-JSON description of the tokenizer, enough for another program to re-implement it. */
export const TOKENIZER_DESCRIPTION = {
  type: "byte-level",
  encoding: "utf-8",
  vocab_size: VOCAB_SIZE,
  byte_token_ids: [0, 255],
  special_tokens: { "<|bos|>": BOS_TOKEN_ID, "<|eos|>": EOS_TOKEN_ID, "<|pad|>": PAD_TOKEN_ID },
  bos_token_id: BOS_TOKEN_ID,
  eos_token_id: EOS_TOKEN_ID,
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
