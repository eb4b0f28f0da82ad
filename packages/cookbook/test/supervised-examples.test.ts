// buildSupervisedExamples: one example per trained reply for a renderer that rewrites history
// (qwen3), each starting with exactly the prompt the template gives before that reply; one example
// for a renderer with the extension property.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Tokenizer } from "tinker-ts";
import {
  buildSupervisedExamples,
  getRenderer,
  type Message,
  RendererError,
  textOf,
  thinkingOf,
} from "../src/index.js";
import { MODELS, referenceTokens, tokenizerOf } from "./helpers.js";

const reply = (thinking: string, text: string): Message => ({
  role: "assistant",
  content: [
    { type: "thinking", thinking },
    { type: "text", text },
  ],
});

const conversation: Message[] = [
  { role: "system", content: "Answer briefly." },
  { role: "user", content: "1+1?" },
  reply("Trivial.", "2"),
  { role: "user", content: "Times 10?" },
  reply("2 × 10.", "20"),
  { role: "user", content: "Minus 5?" },
  reply("20 − 5.", "15"),
];

describe("buildSupervisedExamples", () => {
  let qwen: Tokenizer;
  let llama: Tokenizer;
  before(async () => {
    qwen = await tokenizerOf(MODELS.qwen3);
    llama = await tokenizerOf(MODELS.llama3);
  });

  it("qwen3, all_assistant_messages: one example per reply, each after the template's own prompt", async () => {
    const renderer = getRenderer("qwen3", qwen);
    assert.equal(renderer.hasExtensionProperty, false);
    const examples = buildSupervisedExamples(renderer, conversation, { trainOn: "all_assistant_messages" });
    assert.equal(examples.length, 3);
    const ends = [2, 4, 6];
    for (const [n, example] of examples.entries()) {
      const prompt = await referenceTokens(MODELS.qwen3, conversation.slice(0, ends[n]), {
        addGenerationPrompt: true,
      });
      const tokens = example.modelInput.toInts();
      assert.deepEqual(tokens.slice(0, prompt.length), prompt);
      assert.deepEqual(
        example.weights,
        tokens.map((_, i) => (i >= prompt.length ? 1 : 0)),
      );
      // The trained reply keeps its reasoning: it is the turn being produced.
      const r = conversation[ends[n]!]!;
      assert.equal(
        qwen.decode(tokens.slice(prompt.length)),
        `<think>\n${thinkingOf(r.content)}\n</think>\n\n${textOf(r.content)}<|im_end|>`,
      );
    }
  });

  it("last_assistant_turn is the default: the replies after the last user message", () => {
    const renderer = getRenderer("qwen3", qwen);
    assert.equal(buildSupervisedExamples(renderer, conversation).length, 1);
  });

  it("a renderer with the extension property gets one example for the whole conversation", () => {
    const renderer = getRenderer("llama3", llama);
    const plain = conversation.map((m) => ({ ...m, content: textOf(m.content) }));
    const examples = buildSupervisedExamples(renderer, plain, { trainOn: "all_assistant_messages" });
    assert.equal(examples.length, 1);
    assert.deepEqual(
      examples[0],
      renderer.buildSupervisedExample(plain, { trainOn: "all_assistant_messages" }),
    );
  });

  it("choices that are not assistant turns cannot be split", () => {
    const renderer = getRenderer("qwen3", qwen);
    assert.throws(
      () => buildSupervisedExamples(renderer, conversation, { trainOn: "all_messages" }),
      RendererError,
    );
  });
});
