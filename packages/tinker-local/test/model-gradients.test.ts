// Finite-difference checks of the analytic gradients: every loss, and LoRA on attention, MLP and
// unembedding separately. The model computes in float64, so central differences are accurate to
// ~1e-8 relative; the tolerance below is 1e-5 and a 1% error in a gradient fails it.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createModel,
  type Datum,
  type LoraConfig,
  type LoraModel,
  type LossFnName,
  readSafetensors,
  writeSafetensors,
} from "tinker-local";
import { Prng, randomizeAdapter, randomTokens, rlDatum, TINY } from "./model-helpers.js";

const REL_TOL = 1e-5;

interface Check {
  name: string;
  index: number;
  analytic: number;
  numeric: number;
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

/**
 * Central differences on `picks` random adapter entries. Weights go through loadWeights, which
 * rounds to float32, so the step actually taken is measured rather than assumed.
 */
function finiteDifferenceChecks(
  model: LoraModel,
  data: Datum[],
  lossFn: LossFnName,
  config: Record<string, number>,
  picks: number,
  seed: number,
  surrogate?: { data: Datum[]; lossFn: LossFnName },
): Check[] {
  model.forwardBackward(data, lossFn, config);
  const grads = model.accumulatedGradients();
  // With a stop-gradient inside the loss, the gradient is the derivative of a surrogate, not of
  // the loss value: differentiate that surrogate instead.
  if (surrogate) {
    data = surrogate.data;
    lossFn = surrogate.lossFn;
    config = {};
  }
  const { metadata, tensors } = readSafetensors(model.saveWeights());
  const list = [...tensors].map(([name, t]) => ({
    name,
    dtype: "F32" as const,
    shape: t.shape,
    data: [...t.data],
  }));
  const lossAt = () => {
    model.loadWeights(writeSafetensors(list, metadata));
    const loss = model.forward(data, lossFn, config).metrics["loss:sum"];
    assert.equal(typeof loss, "number");
    return loss as number;
  };
  const rng = new Prng(seed);
  const checks: Check[] = [];
  for (let p = 0; p < picks; p++) {
    const entry = list[rng.nextUint32() % list.length];
    assert.ok(entry);
    const index = rng.nextUint32() % entry.data.length;
    const orig = entry.data[index] as number;
    const eps = 1e-4;
    const hi = Math.fround(orig + eps);
    const lo = Math.fround(orig - eps);
    entry.data[index] = hi;
    const lossHi = lossAt();
    entry.data[index] = lo;
    const lossLo = lossAt();
    entry.data[index] = orig;
    const numeric = (lossHi - lossLo) / (hi - lo);
    const analytic = (grads[entry.name] as Float64Array)[index] as number;
    checks.push({ name: entry.name, index, analytic, numeric });
  }
  model.loadWeights(writeSafetensors(list, metadata));
  return checks;
}

function assertGradientsMatch(checks: Check[]): void {
  let nonTrivial = 0;
  for (const c of checks) {
    assert.ok(
      relErr(c.analytic, c.numeric) < REL_TOL,
      `${c.name}[${c.index}]: analytic ${c.analytic} vs numeric ${c.numeric}`,
    );
    // The check must be able to fail: a gradient 1% off is rejected by the same criterion.
    if (Math.abs(c.numeric) > 1e-3) {
      nonTrivial++;
      assert.ok(relErr(c.analytic * 1.01, c.numeric) > REL_TOL, "tolerance too loose to catch a 1% error");
    }
  }
  assert.ok(
    nonTrivial >= checks.length - 2,
    `only ${nonTrivial} of ${checks.length} gradients were non-trivial`,
  );
}

function rlBatch(model: LoraModel, seed: number): Datum[] {
  const rng = new Prng(seed);
  const seqs = [randomTokens(rng, 14), randomTokens(rng, 9)];
  return seqs.map((seq) => {
    const probe = rlDatum(
      seq,
      seq.slice(1).map(() => 0),
      seq.slice(1).map(() => 0),
    );
    const logp = model.forward([probe], "importance_sampling").lossFnOutputs[0]?.logprobs.data;
    assert.ok(logp);
    // Sampler logprobs near the model's, so ratios spread around 1, some beyond the clip range.
    const q = Array.from(logp, (lp) => lp + rng.uniform(0.45));
    const adv = Array.from(logp, () => rng.uniform(1.5));
    return rlDatum(seq, q, adv);
  });
}

function cePlusWeights(seed: number): Datum[] {
  const rng = new Prng(seed);
  return [randomTokens(rng, 16), randomTokens(rng, 7)].map((seq) => {
    const targets = seq.slice(1);
    return {
      tokens: seq.slice(0, -1),
      lossFnInputs: {
        target_tokens: { dtype: "int64", data: targets },
        weights: { dtype: "float32", data: targets.map((_, i) => (i % 3 === 0 ? 0 : 0.5 + rng.nextFloat())) },
      },
    };
  });
}

function freshRandomModel(lora: LoraConfig, seed: number): LoraModel {
  const model = createModel(TINY, lora);
  randomizeAdapter(model, seed);
  return model;
}

const ALL: LoraConfig = { rank: 4, seed: 3 };

test("cross_entropy gradient matches finite differences", () => {
  const model = freshRandomModel(ALL, 11);
  assertGradientsMatch(finiteDifferenceChecks(model, cePlusWeights(1), "cross_entropy", {}, 8, 100));
});

for (const [lossFn, config] of [
  ["importance_sampling", {}],
  ["ppo", { clip_low_threshold: 0.8, clip_high_threshold: 1.2 }],
  ["cispo", { clip_low_threshold: 0.85, clip_high_threshold: 1.15 }],
  ["dro", { beta: 0.3 }],
] as const) {
  test(`${lossFn} gradient matches finite differences`, () => {
    const model = freshRandomModel(ALL, 12);
    const data = rlBatch(model, 2);
    if (lossFn === "ppo" || lossFn === "cispo") {
      const clipped = model.forward(data, lossFn, config).metrics["clip_fraction:mean"] as number;
      assert.ok(clipped > 0.1 && clipped < 0.9, `want both clipped and unclipped tokens, got ${clipped}`);
    }
    const surrogate = lossFn === "cispo" ? cispoSurrogate(model, data, config) : undefined;
    assertGradientsMatch(finiteDifferenceChecks(model, data, lossFn, config, 8, 200, surrogate));
  });
}

/**
 * CISPO's gradient is that of −Σ c·A·logp with c = clip(ratio) frozen at the current weights:
 * a cross-entropy with weights c·A, which the model evaluates in float64.
 */
function cispoSurrogate(
  model: LoraModel,
  data: Datum[],
  config: { clip_low_threshold: number; clip_high_threshold: number },
) {
  const surrogateData = data.map((datum): Datum => {
    const logp = model.forward([datum], "cispo", config).lossFnOutputs[0]?.logprobs.data;
    assert.ok(logp);
    const q = Array.from(datum.lossFnInputs.logprobs?.data as ArrayLike<number>);
    const adv = Array.from(datum.lossFnInputs.advantages?.data as ArrayLike<number>);
    const weights = adv.map((a, i) => {
      const ratio = Math.exp((logp[i] as number) - (q[i] as number));
      return Math.min(Math.max(ratio, config.clip_low_threshold), config.clip_high_threshold) * a;
    });
    return {
      tokens: datum.tokens,
      lossFnInputs: {
        target_tokens: datum.lossFnInputs.target_tokens as Datum["lossFnInputs"][string],
        weights: { dtype: "float32", data: weights },
      },
    };
  });
  return { data: surrogateData, lossFn: "cross_entropy" as const };
}

for (const [part, lora] of [
  ["attention", { rank: 3, train_attn: true, train_mlp: false, train_unembed: false }],
  ["MLP", { rank: 3, train_attn: false, train_mlp: true, train_unembed: false }],
  ["unembedding", { rank: 3, train_attn: false, train_mlp: false, train_unembed: true }],
] as const) {
  test(`LoRA on ${part} alone: gradient matches finite differences`, () => {
    const model = freshRandomModel(lora, 13);
    const names = Object.keys(model.accumulatedGradients());
    const want = { attention: "self_attn", MLP: ".mlp.", unembedding: "lm_head" }[part];
    assert.ok(names.length > 0 && names.every((n) => n.includes(want)), `unexpected tensors ${names}`);
    assertGradientsMatch(finiteDifferenceChecks(model, cePlusWeights(3), "cross_entropy", {}, 8, 300));
  });
}

test("a fresh adapter has zero B, so only B receives gradient at first", () => {
  const model = createModel(TINY, ALL);
  model.forwardBackward(cePlusWeights(4), "cross_entropy");
  const grads = model.accumulatedGradients();
  let bNorm = 0;
  for (const [name, g] of Object.entries(grads)) {
    const norm = Math.hypot(...g);
    if (name.includes("lora_A")) assert.equal(norm, 0, name);
    else bNorm += norm;
  }
  assert.ok(bNorm > 0);
});
