// The byte-level tokenizer of every tinker-local model (docs/models.md): ids 0-255 are the bytes of
// the UTF-8 encoding, then BOS 256, EOS 257, PAD 258. It mirrors
// packages/tinker-local/src/model/tokenizer.ts without importing it (the SDK must not depend on the
// server); a test checks the two agree.

import { ValidationError } from "../client/errors.js";
import type {
  ApplyChatTemplateOptions,
  ChatMessage,
  DecodeOptions,
  EncodeOptions,
  Tokenizer,
} from "./types.js";
import { ChatTemplateError } from "./types.js";

/** The facts of tinker-local's byte-level tokenizer, known without building one. */
export const BYTE_LEVEL_TOKENIZER = Object.freeze({
  /** Its name. */
  name: "tinker-local/byte-level",
  /** 256 bytes and three specials. */
  vocabSize: 259,
  /** `<|bos|>`. */
  bosTokenId: 256,
  /** `<|eos|>`. */
  eosTokenId: 257,
  /** `<|pad|>`. */
  padTokenId: 258,
});

const SPECIALS: Readonly<Record<string, number>> = Object.freeze({
  "<|bos|>": 256,
  "<|eos|>": 257,
  "<|pad|>": 258,
});
const SPECIAL_TEXT = new Map(Object.entries(SPECIALS).map(([text, id]) => [id, text]));

const encoder = new TextEncoder();

/** The tokenizer of every tinker-local model: UTF-8 bytes plus BOS, EOS and PAD. */
export class ByteLevelTokenizer implements Tokenizer {
  readonly name = BYTE_LEVEL_TOKENIZER.name;
  readonly vocabSize = BYTE_LEVEL_TOKENIZER.vocabSize;
  readonly bosTokenId = BYTE_LEVEL_TOKENIZER.bosTokenId;
  readonly eosTokenId = BYTE_LEVEL_TOKENIZER.eosTokenId;
  readonly padTokenId = BYTE_LEVEL_TOKENIZER.padTokenId;
  readonly specialTokens = SPECIALS;
  /** The toy models are not chat models: there is no template. */
  readonly chatTemplate = undefined;

  /** The UTF-8 bytes of `text`; special-token text is not parsed (it is just bytes). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = options.addBos ? [this.bosTokenId] : [];
    for (const b of encoder.encode(text)) out.push(b);
    return out;
  }

  /** Invalid UTF-8 (e.g. a character cut by max_tokens) becomes U+FFFD instead of failing. */
  decode(tokens: ArrayLike<number>, options: DecodeOptions = {}): string {
    const decoder = new TextDecoder("utf-8", { fatal: false });
    let out = "";
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) out += decoder.decode(Uint8Array.from(run));
      run = [];
    };
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as number;
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize) {
        throw new ValidationError(
          `token ${t} at index ${i} is outside this tokenizer's vocabulary [0, ${this.vocabSize})`,
          `tokens[${i}]`,
        );
      }
      if (t < 256) {
        run.push(t);
        continue;
      }
      flush();
      if (!options.skipSpecialTokens) out += SPECIAL_TEXT.get(t) ?? "";
    }
    flush();
    return out;
  }

  /** Always throws ChatTemplateError: tinker-local's toy models have no chat format of their own. */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options?: ApplyChatTemplateOptions & { tokenize?: true },
  ): number[];
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: ApplyChatTemplateOptions & { tokenize: false },
  ): string;
  applyChatTemplate(messages: readonly ChatMessage[], options?: ApplyChatTemplateOptions): number[] | string;
  applyChatTemplate(
    _messages: readonly ChatMessage[],
    _options?: ApplyChatTemplateOptions,
  ): number[] | string {
    throw new ChatTemplateError(
      `${this.name} has no chat template (tinker-local's toy models are not chat models); ` +
        "build prompts with a renderer such as the cookbook's role_colon",
      this.name,
    );
  }
}
