// Pure helpers of the training and sampling clients: Adam defaults and checks, LoRA config checks,
// the sign of the custom-loss weights, and SamplingParams in their wire form.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_LEARNING_RATE, ValidationError } from "tinker-ts";
import { toWireSamplingParams } from "../src/clients/sampling/params.js";
import { customLossWeights } from "../src/clients/training/custom-loss.js";
import { toLoraConfig, toWireAdamParams } from "../src/clients/training/params.js";

describe("toWireAdamParams", () => {
  it("fills the contract's defaults and maps camelCase (and snake_case) names", () => {
    assert.deepEqual(toWireAdamParams(), {
      learning_rate: 0.0001,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-12,
      weight_decay: 0,
      grad_clip_norm: 0,
    });
    assert.deepEqual(toWireAdamParams({ learningRate: 0.01, weightDecay: 0.1, gradClipNorm: 1 }), {
      learning_rate: 0.01,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-12,
      weight_decay: 0.1,
      grad_clip_norm: 1,
    });
    assert.equal(toWireAdamParams({ learning_rate: 0.5 }).learning_rate, 0.5);
  });

  it("refuses unknown keys and values out of range, naming the field", () => {
    for (const bad of [
      { learningRate: -0.1 },
      { learningRate: Number.NaN },
      { beta1: 1 },
      { beta2: -0.1 },
      { eps: -1 },
      { weightDecay: -1 },
      { gradClipNorm: -1 },
      { lr: 0.1 },
      { learningRate: 3.4e38 },
      { learningRate: 1.5 },
      { learningRate: Number.POSITIVE_INFINITY },
      { eps: 0 },
      { beta1: Number.NaN },
    ]) {
      assert.throws(
        () => toWireAdamParams(bad as never),
        (e: unknown) => e instanceof ValidationError && /adamParams\./.test(e.message),
      );
    }
  });
});

describe("toWireAdamParams bounds", () => {
  it("accepts the bounds themselves and says what the learning-rate bound is", () => {
    assert.equal(toWireAdamParams({ learningRate: MAX_LEARNING_RATE }).learning_rate, MAX_LEARNING_RATE);
    assert.equal(toWireAdamParams({ learningRate: 0, beta1: 0, beta2: 0 }).learning_rate, 0);
    assert.throws(
      () => toWireAdamParams({ learningRate: 3.4e38 }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message.includes(`[0, ${MAX_LEARNING_RATE}]`) &&
        e.message.includes("3.4e+38"),
    );
  });
});

describe("toLoraConfig", () => {
  it("defaults to rank 32 with every module trained", () => {
    assert.deepEqual(toLoraConfig(), { rank: 32, train_unembed: true, train_mlp: true, train_attn: true });
    assert.deepEqual(toLoraConfig({ rank: 4, seed: 9, trainMlp: false }), {
      rank: 4,
      seed: 9,
      train_unembed: true,
      train_mlp: false,
      train_attn: true,
    });
  });

  it("needs one train flag, a positive integer rank and an integer seed", () => {
    assert.throws(
      () => toLoraConfig({ trainMlp: false, trainAttn: false, trainUnembed: false }),
      ValidationError,
    );
    assert.throws(() => toLoraConfig({ rank: 0 }), ValidationError);
    assert.throws(() => toLoraConfig({ rank: 2.5 }), ValidationError);
    assert.throws(() => toLoraConfig({ seed: 0.5 }), ValidationError);
  });
});

describe("customLossWeights", () => {
  it("is minus the gradient: cross-entropy −Σ w·logp then has exactly the caller's gradient", () => {
    const grads = [0.5, -2, 0, 1e-3];
    const weights = customLossWeights(grads, 4, 0);
    assert.deepEqual(weights, [-0.5, 2, 0, -1e-3]);
    assert.ok(Object.is(weights[2], 0), "a zero gradient gives +0, which JSON can carry");
    // d/dlogp of −Σ w·logp is −w; it must equal the caller's gradient.
    weights.forEach((w, i) => {
      assert.equal(-w + 0, grads[i]);
    });
  });

  it("refuses a gradient of the wrong length or with non-finite values", () => {
    assert.throws(
      () => customLossWeights([1, 2], 3, 1),
      (e: unknown) => e instanceof ValidationError && /grads\[1\]/.test(e.message),
    );
    assert.throws(() => customLossWeights([1, Number.NaN], 2, 0), ValidationError);
    assert.throws(() => customLossWeights(null as never, 2, 0), ValidationError);
  });
});

describe("toWireSamplingParams", () => {
  it("always sends temperature, top_k and top_p, and the others only when set", () => {
    assert.deepEqual(toWireSamplingParams(), { temperature: 1, top_k: -1, top_p: 1 });
    assert.deepEqual(
      toWireSamplingParams({ maxTokens: 8, seed: 3, stop: [257], temperature: 0, topK: 5, topP: 0.9 }),
      {
        temperature: 0,
        top_k: 5,
        top_p: 0.9,
        max_tokens: 8,
        seed: 3,
        stop: [257],
      },
    );
    assert.deepEqual(toWireSamplingParams({ stop: "\n" }).stop, "\n");
  });
});
