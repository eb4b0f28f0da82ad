// parseResponse(buildGenerationPrompt(...) + sampled tokens) gives back the message: the sampled
// tokens are what a model following the format would write (the trained part of the supervised
// example after its prompt), and parsing them returns the thinking, text and tool calls, with
// ok = true. Truncated responses (no stop token) are not ok.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ByteLevelTokenizer, type Tokenizer } from "tinker-ts";
import { getRenderer, type Message, type Renderer, textOf, thinkingOf } from "../src/index.js";
import { MODELS, tokenizerOf } from "./helpers.js";

const history: Message[] = [
  { role: "system", content: "You may call tools." },
  { role: "user", content: "Weather in Zürich, and 6 × 7? 🙂" },
];

const call = (name: string, args: Record<string, unknown>) => ({
  type: "function" as const,
  function: { name, arguments: JSON.stringify(args) },
});

const replies: Record<string, Message> = {
  text: { role: "assistant", content: "Sunny, and 42. 晴れ ☀️" },
  thinking: {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "6 × 7 = 42; Zürich: no data, say so." },
      { type: "text", text: "42, and I have no weather data." },
    ],
  },
  toolCall: { role: "assistant", content: "", tool_calls: [call("get_weather", { city: "Zürich" })] },
  thinkingAndTools: {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "Two tools." },
      { type: "text", text: "Checking." },
    ],
    tool_calls: [call("get_weather", { city: "Zürich", unit: "c" }), call("multiply", { a: 6, b: 7 })],
  },
  // Harmony ends each tool call with <|call|>, a stop token: one call per sampled response.
  thinkingAndTool: {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "One tool first." },
      { type: "text", text: "Checking." },
    ],
    tool_calls: [call("get_weather", { city: "Zürich", unit: "c" })],
  },
};

const withThinking = new Set([
  "qwen3",
  "qwen3_instruct",
  "deepseekv3_thinking",
  "gpt_oss_no_sysprompt",
  "gpt_oss_medium_reasoning",
]);

/** The tokens a model would sample after the prompt: the example's tokens past the prompt. */
function sampled(renderer: Renderer, reply: Message): number[] {
  const prompt = renderer.buildGenerationPrompt(history).toInts();
  const full = renderer.buildSupervisedExample([...history, reply]).modelInput.toInts();
  assert.deepEqual(full.slice(0, prompt.length), prompt, "the example starts with the generation prompt");
  return full.slice(prompt.length);
}

function same(renderer: Renderer, got: Message, want: Message, keepsThinking: boolean): void {
  assert.equal(got.role, "assistant");
  assert.equal(textOf(got.content), textOf(want.content));
  assert.equal(thinkingOf(got.content), keepsThinking ? thinkingOf(want.content) : "");
  const calls = (m: Message) =>
    (m.tool_calls ?? []).map((c) => [c.function.name, JSON.parse(c.function.arguments)]);
  assert.deepEqual(calls(got), calls(want));
  // And it renders back to the same tokens.
  assert.deepEqual(
    renderer.buildSupervisedExample([...history, got]).modelInput.toInts(),
    renderer
      .buildSupervisedExample([
        ...history,
        { ...want, content: keepsThinking ? want.content : textOf(want.content) },
      ])
      .modelInput.toInts(),
  );
}

const families: [string, string, string[]][] = [
  ["qwen3", MODELS.qwen3, Object.keys(replies)],
  ["qwen3_instruct", MODELS.qwen3, Object.keys(replies)],
  ["qwen3_disable_thinking", MODELS.qwen3, ["text", "toolCall"]],
  ["deepseekv3", MODELS.deepseekV31, ["text", "toolCall"]],
  ["deepseekv3_thinking", MODELS.deepseekV31, Object.keys(replies)],
  // The same renderer on DeepSeek-V3's vocabulary, where "<think>" is several tokens.
  ["deepseekv3_thinking", MODELS.deepseekV3, Object.keys(replies)],
  ["gpt_oss_no_sysprompt", MODELS.gptOss, ["text", "thinking", "toolCall", "thinkingAndTool"]],
  ["gpt_oss_medium_reasoning", MODELS.gptOss, ["text", "thinking", "toolCall", "thinkingAndTool"]],
  ["llama3", MODELS.llama3, ["text"]],
];

describe("parseResponse round-trips what the renderer writes", () => {
  const tokenizers = new Map<string, Tokenizer>();
  before(async () => {
    for (const [, model] of families) tokenizers.set(model, await tokenizerOf(model));
  });

  for (const [name, model, cases] of families) {
    for (const key of cases) {
      it(`${name} (${model}): ${key}`, () => {
        const renderer = getRenderer(name, tokenizers.get(model)!, { currentDate: "2026-12-01" });
        const reply = replies[key]!;
        const result = renderer.parseResponse(sampled(renderer, reply));
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.equal(result.termination, "stop_sequence");
        same(renderer, result.message, reply, withThinking.has(name));
      });
    }
    it(`${name} (${model}): a response cut off before its stop token is not ok`, () => {
      const renderer = getRenderer(name, tokenizers.get(model)!, { currentDate: "2026-12-01" });
      const tokens = sampled(renderer, replies.text!);
      const result = renderer.parseResponse(tokens.slice(0, -2));
      assert.equal(result.ok, false);
      assert.equal(result.termination, "malformed");
    });
  }

  it("role_colon: text up to \\n\\nUser:, EOS also ends cleanly, truncation does not", () => {
    const bytes = new ByteLevelTokenizer();
    const renderer = getRenderer("role_colon", bytes);
    const tokens = sampled(renderer, replies.text!);
    const result = renderer.parseResponse(tokens);
    assert.deepEqual(
      [result.ok, result.termination, result.message.content],
      [true, "stop_sequence", textOf(replies.text!.content)],
    );
    const eos = renderer.parseResponse([...bytes.encode(" Fine."), bytes.eosTokenId!]);
    assert.deepEqual([eos.ok, eos.termination, eos.message.content], [true, "eos", "Fine."]);
    assert.equal(renderer.parseResponse(bytes.encode(" Fi")).ok, false);
  });

  it("a tool call with unreadable JSON is kept as unparsed, and the response is not ok", async () => {
    const tokenizer = tokenizers.get(MODELS.qwen3)!;
    const renderer = getRenderer("qwen3", tokenizer);
    const tokens = tokenizer.encode(
      '<think>\nx\n</think>\n\n<tool_call>\n{"name": "f", "arguments": {oops}\n</tool_call><|im_end|>',
    );
    const result = renderer.parseResponse(tokens);
    assert.equal(result.ok, false);
    assert.equal(result.termination, "stop_sequence");
    assert.equal(result.message.unparsed_tool_calls?.length, 1);
    assert.match(result.message.unparsed_tool_calls![0]!.rawText, /oops/);
  });
});
