// Every text model of the registry, with its own tokenizer (getTokenizer) and its recommended
// renderer, turns the conversations examples/chat-sft.ts ships into training data: what that
// example does before it talks to the service, for each model it can be pointed at.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { getTokenizer } from "tinker-ts";
import {
  buildSupervisedExamples,
  datumFromExample,
  getRenderer,
  listModels,
  type Message,
  recommendedRenderer,
} from "../src/index.js";

const conversations = readFileSync(
  new URL("../../../examples/data/kitchen-chat.jsonl", import.meta.url),
  "utf8",
)
  .trim()
  .split("\n")
  .map((line) => (JSON.parse(line) as { messages: Message[] }).messages);

const textModels = listModels().filter((m) => !m.isVl && m.organization !== "moonshotai");

describe("the hosted lineup renders the shipped chat data", () => {
  it("covers Llama, Qwen3, DeepSeek and gpt-oss models", () => {
    assert.deepEqual([...new Set(textModels.map((m) => m.organization))].sort(), [
      "Qwen",
      "deepseek-ai",
      "meta-llama",
      "openai",
    ]);
  });

  for (const info of textModels) {
    it(`${info.name} with ${recommendedRenderer(info.name)}`, async () => {
      const tokenizer = await getTokenizer(info.name);
      const renderer = getRenderer(recommendedRenderer(info.name), tokenizer, { currentDate: "2026-12-01" });
      const examples = conversations.flatMap((c) =>
        buildSupervisedExamples(renderer, c, { trainOn: "all_assistant_messages" }),
      );
      // One example per conversation, or one per reply (3 conversations have two replies).
      assert.ok(examples.length === 28 || examples.length === 31, `${examples.length}`);
      for (const e of examples) {
        const tokens = e.modelInput.toInts();
        assert.equal(e.weights.length, tokens.length);
        assert.ok(e.weights.some((w) => w === 1) && e.weights[0] === 0);
        assert.ok(tokens.every((t) => t >= 0 && t < tokenizer.vocabSize));
        datumFromExample(e);
      }
      // The trained tokens are the replies: "About 125 g." appears in what the first example trains.
      const first = examples[0]!;
      const trained = first.modelInput.toInts().filter((_, i) => first.weights[i] === 1);
      assert.match(tokenizer.decode(trained), /About 125 g\./);
    });
  }
});
