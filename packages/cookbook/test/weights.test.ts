// buildSupervisedExample's weights, position by position: 1 exactly on the tokens the trainOn
// choice names. role_colon on tinker-local's byte-level tokenizer (one token per byte) gives
// positions from the text itself; Qwen3's positions come from its chat template (the prompt the
// model is given before each trained turn), not from the renderer under test.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ByteLevelTokenizer, type Tokenizer } from "tinker-ts";
import { getRenderer, type Message, RendererError, TRAIN_ON_VALUES, type TrainOn } from "../src/index.js";
import { MODELS, referenceTokens, tokenizerOf } from "./helpers.js";

const conversation: Message[] = [
  { role: "system", content: "Be kind." },
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "2+2?" },
  { role: "assistant", content: "4 ✓" },
];

/** The rendered text of `conversation`, piece by piece: which message, header or output. */
const pieces: { text: string; message: number; header: boolean }[] = [
  { text: "System:", message: 0, header: true },
  { text: " Be kind.\n\n", message: 0, header: false },
  { text: "User:", message: 1, header: true },
  { text: " Hi\n\n", message: 1, header: false },
  { text: "Assistant:", message: 2, header: true },
  { text: " Hello!\n\n", message: 2, header: false },
  { text: "User:", message: 3, header: true },
  { text: " 2+2?\n\n", message: 3, header: false },
  { text: "Assistant:", message: 4, header: true },
  // The stop sequence's "User:" belongs to the last output.
  { text: " 4 ✓\n\nUser:", message: 4, header: false },
];

/** Which messages' outputs each choice trains, written out by hand. */
const trained: Record<TrainOn, number[]> = {
  last_assistant_message: [4],
  last_assistant_turn: [4],
  all_assistant_messages: [2, 4],
  all_messages: [0, 1, 2, 3, 4],
  all_tokens: [0, 1, 2, 3, 4],
  all_user_and_system_messages: [0, 1, 3],
  customized: [1, 4],
};

describe("supervised weights", () => {
  const bytes = new ByteLevelTokenizer();

  for (const trainOn of TRAIN_ON_VALUES) {
    it(`role_colon, ${trainOn}: 1 exactly on the named tokens`, () => {
      const renderer = getRenderer("role_colon", bytes);
      const messages =
        trainOn === "customized"
          ? conversation.map((m, i) => ({ ...m, trainable: trained.customized.includes(i) }))
          : conversation;
      const example = renderer.buildSupervisedExample(messages, { trainOn });
      const expected = [0]; // BOS
      for (const p of pieces) {
        const on = trainOn === "all_tokens" || (!p.header && trained[trainOn].includes(p.message));
        for (const _ of new TextEncoder().encode(p.text)) expected.push(on ? 1 : 0);
      }
      assert.equal(bytes.decode(example.modelInput.toInts().slice(1)), pieces.map((p) => p.text).join(""));
      assert.deepEqual(example.weights, expected);
    });
  }

  it("customized needs every message marked, and other choices refuse marks", () => {
    const renderer = getRenderer("role_colon", bytes);
    assert.throws(
      () => renderer.buildSupervisedExample(conversation, { trainOn: "customized" }),
      RendererError,
    );
    const marked = conversation.map((m) => ({ ...m, trainable: true }));
    assert.throws(() => renderer.buildSupervisedExample(marked), RendererError);
    assert.throws(() => renderer.buildSupervisedExample(conversation.slice(0, 2)), /last message/);
  });

  describe("qwen3, positions from the chat template", () => {
    let tokenizer: Tokenizer;
    before(async () => {
      tokenizer = await tokenizerOf(MODELS.qwen3);
    });
    const toolTurn: Message[] = [
      { role: "user", content: "What is 3 + 4, doubled?" },
      {
        role: "assistant",
        content: [{ type: "thinking", thinking: "Add first." }],
        tool_calls: [{ function: { name: "add", arguments: '{"a":3,"b":4}' } }],
      },
      { role: "tool", content: "7" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Double 7." },
          { type: "text", text: "14" },
        ],
      },
    ];

    it("last_assistant_turn: the tool call and the answer, not the tool result", async () => {
      const renderer = getRenderer("qwen3", tokenizer);
      const ex = renderer.buildSupervisedExample(toolTurn, { trainOn: "last_assistant_turn" });
      const a = (await referenceTokens(MODELS.qwen3, toolTurn.slice(0, 1), { addGenerationPrompt: true }))
        .length;
      // The tool call's output ends at its <|im_end|>: the template's text of the first two
      // messages without its final newline.
      const b = (await referenceTokens(MODELS.qwen3, toolTurn.slice(0, 2))).length - 1;
      const c = (await referenceTokens(MODELS.qwen3, toolTurn.slice(0, 3), { addGenerationPrompt: true }))
        .length;
      const n = ex.weights.length;
      assert.equal(n, (await referenceTokens(MODELS.qwen3, toolTurn)).length - 1);
      const expected = Array.from({ length: n }, (_, i) => ((i >= a && i < b) || i >= c ? 1 : 0));
      assert.deepEqual(ex.weights, expected);
    });

    it("last_assistant_message: only the answer after the template's prompt", async () => {
      const renderer = getRenderer("qwen3", tokenizer);
      const ex = renderer.buildSupervisedExample(toolTurn);
      const c = (await referenceTokens(MODELS.qwen3, toolTurn.slice(0, 3), { addGenerationPrompt: true }))
        .length;
      assert.deepEqual(
        ex.weights,
        ex.weights.map((_, i) => (i >= c ? 1 : 0)),
      );
    });

    it("qwen3_disable_thinking: the prompt's empty think block carries no weight", async () => {
      const renderer = getRenderer("qwen3_disable_thinking", tokenizer);
      const conv: Message[] = [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
      ];
      const ex = renderer.buildSupervisedExample(conv);
      const prompt = await referenceTokens(MODELS.qwen3, conv.slice(0, 1), {
        addGenerationPrompt: true,
        kwargs: { enable_thinking: false },
      });
      assert.deepEqual(ex.modelInput.toInts().slice(0, prompt.length), prompt);
      assert.deepEqual(
        ex.weights,
        ex.weights.map((_, i) => (i >= prompt.length ? 1 : 0)),
      );
      // A conversation with no user message gets no block from the template: refused, not mistrained.
      assert.throws(
        () =>
          renderer.buildSupervisedExample([
            { role: "system", content: "S" },
            { role: "assistant", content: "A" },
          ]),
        (e: unknown) => e instanceof RendererError && /no user message/.test(e.message),
      );
      // What carries weight is the answer and <|im_end|>, nothing of the block.
      assert.equal(tokenizer.decode(ex.modelInput.toInts().slice(prompt.length)), "Hello<|im_end|>");
    });
  });
});
