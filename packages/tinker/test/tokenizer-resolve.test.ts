// Tokenizers: the SDK's byte-level tokenizer agrees with tinker-local's, the resolution table, and
// the local tokenizer.json loader.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  BOS_TOKEN_ID,
  EOS_TOKEN_ID,
  decode as localDecode,
  encode as localEncode,
  PAD_TOKEN_ID,
  TOKENIZER_DESCRIPTION,
  VOCAB_SIZE,
} from "tinker-local";
import {
  ByteLevelTokenizer,
  knownVocabSize,
  loadHuggingFaceTokenizer,
  registerTokenizer,
  resolveTokenizer,
  TokenizerNotFoundError,
  ValidationError,
} from "tinker-ts";

const SAMPLES = [
  "",
  "hello world",
  "héllo wörld ✓ 日本語 🙂",
  "tabs\tand\nnewlines\r\n",
  "<|bos|> is just text",
];

describe("ByteLevelTokenizer mirrors tinker-local's tokenizer", () => {
  const sdk = new ByteLevelTokenizer();

  it("has the same vocabulary size and special ids", () => {
    assert.equal(sdk.vocabSize, VOCAB_SIZE);
    assert.equal(sdk.bosTokenId, BOS_TOKEN_ID);
    assert.equal(sdk.eosTokenId, EOS_TOKEN_ID);
    assert.equal(sdk.padTokenId, PAD_TOKEN_ID);
    assert.deepEqual(sdk.specialTokens, TOKENIZER_DESCRIPTION.special_tokens);
  });

  it("encodes and decodes like the server, with and without BOS and specials", () => {
    for (const text of SAMPLES) {
      assert.deepEqual(sdk.encode(text), localEncode(text));
      assert.deepEqual(sdk.encode(text, { addBos: true }), localEncode(text, { addBos: true }));
      assert.equal(sdk.decode(sdk.encode(text)), text);
    }
    const everyId = Array.from({ length: VOCAB_SIZE }, (_, i) => i);
    assert.equal(sdk.decode(everyId), localDecode(everyId));
    assert.equal(
      sdk.decode(everyId, { skipSpecialTokens: true }),
      localDecode(everyId, { skipSpecialTokens: true }),
    );
    // A character cut in half (as max_tokens can do) becomes U+FFFD on both sides.
    const cut = [104, 0xc3];
    assert.equal(sdk.decode(cut), localDecode(cut));
    assert.equal(sdk.decode(cut), "h\uFFFD");
  });

  it("refuses ids outside the vocabulary", () => {
    assert.throws(
      () => sdk.decode([1, 259]),
      (e: unknown) => e instanceof ValidationError && /259/.test(e.message),
    );
    assert.throws(() => sdk.decode([-1]), ValidationError);
  });
});

describe("tokenizer resolution", () => {
  it("gives the byte-level tokenizer for every tinker-local model and knows its vocabulary", async () => {
    for (const name of ["tinker-local/tiny", "tinker-local/small"]) {
      const tok = await resolveTokenizer(name);
      assert.ok(tok instanceof ByteLevelTokenizer);
      assert.equal(knownVocabSize(name), 259);
    }
    assert.equal(knownVocabSize("Qwen/Qwen3-8B"), undefined);
  });

  it("explains how to provide a tokenizer for an unknown model", async () => {
    await assert.rejects(resolveTokenizer("acme-labs/unreleased-7B"), (e: unknown) => {
      assert.ok(e instanceof TokenizerNotFoundError);
      assert.equal(e.model, "acme-labs/unreleased-7B");
      assert.match(e.message, /tokenizerPath/);
      assert.match(e.message, /registerTokenizer/);
      return true;
    });
  });

  it("uses a registered loader, by exact name or prefix, with its vocabulary size", async () => {
    const custom = new ByteLevelTokenizer();
    registerTokenizer("acme/*", () => custom, { vocabSize: 1000 });
    assert.equal(await resolveTokenizer("acme/model-1"), custom);
    assert.equal(knownVocabSize("acme/model-2"), 1000);
    await assert.rejects(resolveTokenizer("acme"), TokenizerNotFoundError);
  });
});

describe("loading a local tokenizer.json with @huggingface/tokenizers", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tinker-tokenizer-"));
    const special = (id: number, content: string) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    await writeFile(
      join(dir, "tokenizer.json"),
      JSON.stringify({
        version: "1.0",
        truncation: null,
        padding: null,
        added_tokens: [special(0, "[UNK]"), special(1, "<s>"), special(2, "</s>")],
        normalizer: null,
        pre_tokenizer: { type: "Whitespace" },
        post_processor: null,
        decoder: null,
        model: {
          type: "WordLevel",
          vocab: { "[UNK]": 0, "<s>": 1, "</s>": 2, hello: 3, world: 4, tinker: 5 },
          unk_token: "[UNK]",
        },
      }),
    );
    await writeFile(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({ bos_token: "<s>", eos_token: "</s>" }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("encodes, decodes and reads the special ids", async () => {
    const tok = await loadHuggingFaceTokenizer(dir);
    assert.equal(tok.vocabSize, 6);
    assert.equal(tok.bosTokenId, 1);
    assert.equal(tok.eosTokenId, 2);
    assert.equal(tok.padTokenId, undefined);
    assert.deepEqual(tok.encode("hello tinker world"), [3, 5, 4]);
    assert.deepEqual(tok.encode("hello nope", { addBos: true }), [1, 3, 0]);
    assert.equal(tok.decode([1, 3, 5], { skipSpecialTokens: true }).trim(), "hello tinker");
    const viaResolve = await resolveTokenizer("some/model", { tokenizerPath: join(dir, "tokenizer.json") });
    assert.deepEqual(viaResolve.encode("world"), [4]);
  });

  it("says what is wrong with a missing or broken file", async () => {
    await assert.rejects(loadHuggingFaceTokenizer(join(dir, "absent.json")), TokenizerNotFoundError);
    const broken = join(dir, "broken.json");
    await writeFile(broken, "{not json");
    await assert.rejects(
      loadHuggingFaceTokenizer(broken),
      (e: unknown) => e instanceof TokenizerNotFoundError && /broken\.json/.test(e.message),
    );
  });
});
