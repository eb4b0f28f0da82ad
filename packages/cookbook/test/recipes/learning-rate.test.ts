// The recommended LoRA learning rate: the rule's arithmetic on known models, and errors for
// families with no calibrated rule.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LORA_RANK_GUIDANCE, RecipeError, recommendedLearningRate } from "../../src/index.js";

describe("recommendedLearningRate", () => {
  it("Llama 3.1 8B: 5e-4 * (2000/4096)^0.781", () => {
    const lr = recommendedLearningRate("meta-llama/Llama-3.1-8B");
    assert.ok(Math.abs(lr - 5e-4 * (2000 / 4096) ** 0.781) < 1e-15);
    assert.ok(lr > 2.85e-4 && lr < 2.86e-4, String(lr));
  });
  it("Qwen3 4B Instruct: 5e-4 * (2000/2560)^0.0775", () => {
    const lr = recommendedLearningRate("Qwen/Qwen3-4B-Instruct-2507");
    assert.ok(lr > 4.9e-4 && lr < 4.91e-4, String(lr));
  });
  it("full fine-tuning is ten times smaller", () => {
    const lora = recommendedLearningRate("Qwen/Qwen3-8B");
    const full = recommendedLearningRate("Qwen/Qwen3-8B", { lora: false });
    assert.ok(Math.abs(lora / full - 10) < 1e-12);
  });
  it("a hidden size of 2000 gives the reference rate whatever the family", () => {
    assert.equal(recommendedLearningRate("my/llama-custom", { hiddenSize: 2000 }), 5e-4);
  });
  it("uncalibrated families and unknown sizes are RecipeErrors", () => {
    assert.throws(() => recommendedLearningRate("deepseek-ai/DeepSeek-V3.1"), RecipeError);
    assert.throws(() => recommendedLearningRate("openai/gpt-oss-20b"), /no calibrated learning-rate rule/);
    assert.throws(() => recommendedLearningRate("Qwen/Qwen9-1T"), /pass it as hiddenSize/);
  });
  it("rank guidance is a list of statements", () => {
    assert.ok(LORA_RANK_GUIDANCE.length >= 4);
    assert.ok(LORA_RANK_GUIDANCE.some((s) => s.includes("32")));
  });
});
