import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BOS_TOKEN_ID,
  createModel,
  decode,
  EOS_TOKEN_ID,
  encode,
  ModelInputError,
  PAD_TOKEN_ID,
  TOKENIZER_DESCRIPTION,
  VOCAB_SIZE,
} from "tinker-local";

test("tokens 0-255 are the UTF-8 bytes; specials follow", () => {
  assert.deepEqual(encode("Az"), [65, 122]);
  assert.deepEqual(encode("é€"), [0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  assert.deepEqual(encode("a", { addBos: true }), [BOS_TOKEN_ID, 97]);
  assert.deepEqual([BOS_TOKEN_ID, EOS_TOKEN_ID, PAD_TOKEN_ID, VOCAB_SIZE], [256, 257, 258, 259]);
  for (const text of ["", "hello, world", "naïve café 🚀 日本語", "\u0000\n\t"]) {
    assert.equal(decode(encode(text)), text);
  }
});

test("decode writes specials by name or skips them, and survives invalid UTF-8", () => {
  assert.equal(decode([BOS_TOKEN_ID, 104, 105, EOS_TOKEN_ID, PAD_TOKEN_ID]), "<|bos|>hi<|eos|><|pad|>");
  assert.equal(decode([BOS_TOKEN_ID, 104, 105, EOS_TOKEN_ID], { skipSpecialTokens: true }), "hi");
  // A multi-byte character cut short, and a lone continuation byte.
  assert.equal(decode([0xe2, 0x82]), "\ufffd");
  assert.equal(decode([104, 0x80, 105]), "h\ufffdi");
  // A special token between the bytes of one character does not glue them together.
  assert.equal(decode([0xc3, EOS_TOKEN_ID, 0xa9], { skipSpecialTokens: true }), "\ufffd\ufffd");
  assert.throws(() => decode([VOCAB_SIZE]), ModelInputError);
  assert.throws(() => decode([-1]), ModelInputError);
});

test("the exported description matches the tokenizer and every model's vocabulary", () => {
  assert.equal(TOKENIZER_DESCRIPTION.vocab_size, VOCAB_SIZE);
  assert.deepEqual(TOKENIZER_DESCRIPTION.special_tokens, { "<|bos|>": 256, "<|eos|>": 257, "<|pad|>": 258 });
  assert.equal(TOKENIZER_DESCRIPTION.eos_token_id, EOS_TOKEN_ID);
  assert.equal(JSON.parse(JSON.stringify(TOKENIZER_DESCRIPTION)).type, "byte-level");
  for (const name of ["tinker-local/tiny", "tinker-local/small"]) {
    const info = createModel(name).info();
    assert.equal(info.arch.vocabSize, VOCAB_SIZE);
    assert.equal(info.tokenizer, TOKENIZER_DESCRIPTION);
  }
});
