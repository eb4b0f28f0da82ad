// Training behaviour: determinism, base equivalence of a fresh adapter, learning, AdamW details.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createModel, encode, type LoraModel, readSafetensors } from "tinker-local";
import { ceDatum, logprobsOf, TINY } from "./model-helpers.js";

const TEXT = "the cat sat on the mat. the cat sat on the mat.";

function train(model: LoraModel, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const res = model.forwardBackward([ceDatum(TEXT), ceDatum("hello world")], "cross_entropy");
    losses.push(res.metrics["loss:sum"] as number);
    model.optimStep({ learning_rate: 5e-3 });
  }
  return losses;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

test("two fresh models with the same seed and steps end with identical bytes and samples", () => {
  const a = createModel(TINY, { rank: 4, seed: 9 });
  const b = createModel(TINY, { rank: 4, seed: 9 });
  assert.deepEqual(train(a, 3), train(b, 3));
  assert.ok(bytesEqual(a.saveWeights(), b.saveWeights()));
  assert.ok(bytesEqual(a.saveOptimizer(), b.saveOptimizer()));
  const prompt = encode("the ");
  assert.deepEqual(
    a.sample(prompt, { max_tokens: 20, seed: 5 }, 3),
    b.sample(prompt, { max_tokens: 20, seed: 5 }, 3),
  );
  // A different LoRA seed gives a different A, hence different training.
  const c = createModel(TINY, { rank: 4, seed: 10 });
  train(c, 3);
  assert.ok(!bytesEqual(a.saveWeights(), c.saveWeights()));
});

test("a fresh adapter leaves the base model's logprobs unchanged, bit for bit", () => {
  const base = createModel(TINY);
  assert.equal(base.info().lora, null);
  const datum = ceDatum(TEXT);
  for (const lora of [
    { rank: 8 },
    { rank: 2, train_attn: false, train_mlp: false },
    { rank: 1, seed: 77, train_unembed: false },
  ]) {
    const model = createModel(TINY, lora);
    assert.deepEqual(logprobsOf(model, datum), logprobsOf(base, datum));
    assert.deepEqual(model.promptLogprobs(encode(TEXT)), base.promptLogprobs(encode(TEXT)));
  }
});

test("30 steps of cross_entropy on a short text cut its loss by more than half", () => {
  const model = createModel(TINY, { rank: 8, seed: 1 });
  const datum = ceDatum("hello tinker");
  const first = model.forward([datum], "cross_entropy").metrics["loss:sum"] as number;
  for (let i = 0; i < 30; i++) {
    model.forwardBackward([datum], "cross_entropy");
    model.optimStep({ learning_rate: 1e-2 });
  }
  const last = model.forward([datum], "cross_entropy").metrics["loss:sum"] as number;
  assert.ok(last < 0.5 * first, `loss went from ${first} to ${last}`);
  assert.equal(model.info().optimizerStep, 30);
});

test("gradients accumulate across forwardBackward calls exactly as within one call", () => {
  const d1 = ceDatum(TEXT);
  const d2 = ceDatum("hello world");
  const split = createModel(TINY, { rank: 4 });
  const joint = createModel(TINY, { rank: 4 });
  train(split, 1);
  train(joint, 1);
  split.forwardBackward([d1], "cross_entropy");
  split.forwardBackward([d2], "cross_entropy");
  joint.forwardBackward([d1, d2], "cross_entropy");
  assert.deepEqual(split.accumulatedGradients(), joint.accumulatedGradients());
});

test("forward-only leaves gradients alone; optimStep clears them and counts steps", () => {
  const model = createModel(TINY, { rank: 4 });
  model.forward([ceDatum(TEXT)], "cross_entropy");
  for (const g of Object.values(model.accumulatedGradients())) assert.ok(g.every((x) => x === 0));
  model.forwardBackward([ceDatum(TEXT)], "cross_entropy");
  assert.ok(Object.values(model.accumulatedGradients()).some((g) => g.some((x) => x !== 0)));
  const res = model.optimStep();
  assert.equal(res.metrics["step:max"], 1);
  assert.ok((res.metrics["grad_norm:mean"] as number) > 0);
  assert.equal(res.metrics["learning_rate:mean"], 1e-4);
  for (const g of Object.values(model.accumulatedGradients())) assert.ok(g.every((x) => x === 0));
});

function tensorsOf(bytes: Uint8Array): Map<string, Float64Array> {
  return new Map([...readSafetensors(bytes).tensors].map(([k, t]) => [k, t.data]));
}

test("weight decay is decoupled: with no gradient a step multiplies weights by (1 − lr·wd)", () => {
  const model = createModel(TINY, { rank: 4 });
  const before = tensorsOf(model.saveWeights());
  model.optimStep({ learning_rate: 0.01, weight_decay: 0.5 });
  const after = tensorsOf(model.saveWeights());
  let checked = 0;
  for (const [name, w] of before) {
    const w2 = after.get(name) as Float64Array;
    w.forEach((x, i) => {
      assert.equal(w2[i], Math.fround(x * (1 - 0.01 * 0.5)));
      if (x !== 0) checked++;
    });
  }
  assert.ok(checked > 100);
});

test("grad_clip_norm rescales the gradient to that global norm before Adam sees it", () => {
  const run = (clip: number) => {
    const model = createModel(TINY, { rank: 4 });
    model.forwardBackward([ceDatum(TEXT)], "cross_entropy");
    const grads = model.accumulatedGradients();
    const res = model.optimStep({ grad_clip_norm: clip });
    return { grads, norm: res.metrics["grad_norm:mean"] as number, opt: tensorsOf(model.saveOptimizer()) };
  };
  const free = run(0);
  let ss = 0;
  for (const g of Object.values(free.grads)) for (const x of g) ss += x * x;
  assert.ok(
    Math.abs(free.norm - Math.sqrt(ss)) < 1e-9 * free.norm,
    "grad_norm reports the pre-clip global norm",
  );
  const clip = free.norm / 4;
  const clipped = run(clip);
  assert.equal(clipped.norm, free.norm);
  // First Adam step: exp_avg = (1 − beta1)·g', where g' = g·clip/‖g‖ when clipped.
  for (const [name, g] of Object.entries(free.grads)) {
    const mFree = free.opt.get(`${name}.exp_avg`) as Float64Array;
    const mClip = clipped.opt.get(`${name}.exp_avg`) as Float64Array;
    g.forEach((x, i) => {
      assert.ok(Math.abs((mFree[i] as number) - 0.1 * x) <= 1e-15 + 1e-12 * Math.abs(x));
      assert.ok(Math.abs((mClip[i] as number) - 0.1 * x * (clip / free.norm)) <= 1e-15 + 1e-12 * Math.abs(x));
    });
  }
  // A clip norm above the gradient norm changes nothing.
  const loose = run(free.norm * 2);
  assert.deepEqual(loose.opt, free.opt);
});
