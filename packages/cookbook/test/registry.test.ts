// The model registry and the renderer registry: attributes of the hosted lineup, the recommended
// renderer of each model (which getRenderer must know, for every text model), and the errors for
// names nobody knows.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteLevelTokenizer } from "tinker-ts";
import {
  getModelInfo,
  getRenderer,
  listModels,
  RendererError,
  recommendedRenderer,
  registerRenderer,
  rendererNames,
} from "../src/index.js";

describe("model registry", () => {
  it("knows the hosted lineup's attributes", () => {
    assert.deepEqual(getModelInfo("Qwen/Qwen3-30B-A3B"), {
      name: "Qwen/Qwen3-30B-A3B",
      organization: "Qwen",
      version: "3",
      size: "30B-A3B",
      isChat: true,
      isVl: false,
      recommendedRenderers: ["qwen3", "qwen3_disable_thinking"],
    });
    assert.equal(getModelInfo("meta-llama/Llama-3.2-1B").isChat, false);
    assert.equal(getModelInfo("Qwen/Qwen3-VL-30B-A3B-Instruct").isVl, true);
    assert.equal(getModelInfo("openai/gpt-oss-20b").organization, "openai");
  });

  it("recommends the cookbook's renderer per model", () => {
    assert.equal(recommendedRenderer("Qwen/Qwen3-4B-Instruct-2507"), "qwen3_instruct");
    assert.equal(recommendedRenderer("Qwen/Qwen3-8B"), "qwen3");
    assert.equal(recommendedRenderer("Qwen/Qwen3-8B-Base"), "role_colon");
    assert.equal(recommendedRenderer("meta-llama/Llama-3.1-8B-Instruct"), "llama3");
    assert.equal(recommendedRenderer("deepseek-ai/DeepSeek-V3.1"), "deepseekv3");
    assert.equal(recommendedRenderer("openai/gpt-oss-120b"), "gpt_oss_no_sysprompt");
    assert.equal(recommendedRenderer("tinker-local/small"), "role_colon");
    // A checkpoint suffix names the same model.
    assert.equal(recommendedRenderer("Qwen/Qwen3-8B:step-100"), "qwen3");
  });

  it("every renderer recommended for a text model of Llama, Qwen3, DeepSeek or gpt-oss exists", () => {
    const known = new Set(rendererNames());
    const text = listModels().filter((m) => !m.isVl && m.organization !== "moonshotai");
    assert.ok(text.length >= 15);
    for (const m of text) for (const r of m.recommendedRenderers) assert.ok(known.has(r), `${m.name}: ${r}`);
  });

  it("an unknown model is a RendererError that says what to do", () => {
    assert.throws(
      () => getModelInfo("acme/unknown-7b"),
      (e: unknown) => e instanceof RendererError && /getRenderer\(name, tokenizer\)/.test(e.message),
    );
  });
});

describe("renderer registry", () => {
  const bytes = new ByteLevelTokenizer();
  it("has the cookbook's names", () => {
    for (const name of [
      "qwen3",
      "qwen3_disable_thinking",
      "qwen3_instruct",
      "llama3",
      "role_colon",
      "deepseekv3",
      "deepseekv3_thinking",
      "gpt_oss_no_sysprompt",
      "gpt_oss_medium_reasoning",
    ])
      assert.ok(rendererNames().includes(name), name);
    assert.equal(getRenderer("role_colon", bytes).name, "role_colon");
  });

  it("an unknown name lists the known ones", () => {
    assert.throws(
      () => getRenderer("qwen9", bytes),
      (e: unknown) => e instanceof RendererError && /role_colon/.test(e.message),
    );
  });

  it("a renderer the registry recommends but that is not written yet says so", () => {
    assert.throws(
      () => getRenderer(recommendedRenderer("Qwen/Qwen3-VL-30B-A3B-Instruct"), bytes),
      (e: unknown) => e instanceof RendererError && /not in tinker-ts-cookbook yet/.test(e.message),
    );
  });

  it("a registered renderer is found by name", () => {
    registerRenderer("my_format", (t) => getRenderer("role_colon", t));
    assert.ok(rendererNames().includes("my_format"));
    assert.equal(getRenderer("my_format", bytes).stopSequences()[0], "\n\nUser:");
  });
});
