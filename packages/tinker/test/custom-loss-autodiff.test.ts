// The custom-loss toolbox derives the right gradient: every operation, and the losses people write
// with them (importance sampling, PPO clipping, DPO), checked against central finite differences of
// the same loss, plus the edge rules (clamp bounds, ties, stop-gradient, non-scalar losses).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addAll,
  concat,
  constant,
  differentiableLoss,
  gradients,
  LossTensor,
  stopGradient,
  ValidationError,
} from "tinker-ts";

type Loss = (xs: LossTensor[]) => LossTensor;

/** A seeded generator, so a failing case is the same case next run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function numericGrad(loss: Loss, inputs: number[][], h = 1e-6): number[][] {
  const value = (xs: number[][]) => loss(xs.map((x) => new LossTensor(x))).item();
  return inputs.map((x, i) =>
    x.map((_v, t) => {
      const up = inputs.map((y) => [...y]);
      const down = inputs.map((y) => [...y]);
      up[i]![t]! += h;
      down[i]![t]! -= h;
      return (value(up) - value(down)) / (2 * h);
    }),
  );
}

function checkAgainstFiniteDifferences(name: string, loss: Loss, inputs: number[][], tol = 1e-5): void {
  const tensors = inputs.map((x) => new LossTensor(x));
  const analytic = gradients(loss(tensors), tensors).map((g) => Array.from(g));
  const numeric = numericGrad(loss, inputs);
  analytic.forEach((g, i) => {
    assert.equal(g.length, inputs[i]!.length, `${name}: gradient ${i} length`);
    g.forEach((v, t) => {
      const n = numeric[i]![t]!;
      assert.ok(
        Math.abs(v - n) <= tol * Math.max(1, Math.abs(n)),
        `${name}: ∂/∂x[${i}][${t}] analytic ${v} vs finite difference ${n}`,
      );
    });
  });
}

/** Logprob-like values (negative, away from 0) of the given lengths. */
function logprobs(lengths: number[], seed: number): number[][] {
  const r = rng(seed);
  return lengths.map((n) => Array.from({ length: n }, () => -0.1 - 3 * r()));
}

describe("custom-loss gradients match finite differences", () => {
  const unaries: [string, (x: LossTensor) => LossTensor][] = [
    ["neg", (x) => x.neg()],
    ["exp", (x) => x.exp()],
    ["log of exp", (x) => x.exp().log()],
    ["log", (x) => x.neg().log()],
    ["pow 3", (x) => x.pow(3)],
    ["pow -0.5", (x) => x.neg().pow(-0.5)],
    ["square", (x) => x.square()],
    ["sqrt", (x) => x.neg().sqrt()],
    ["abs", (x) => x.abs()],
    ["sigmoid", (x) => x.sigmoid()],
    ["logSigmoid", (x) => x.mul(7).logSigmoid()],
    ["softplus", (x) => x.mul(-7).softplus()],
    ["clamp inside and outside", (x) => x.clamp(-2.05, -0.55)],
    ["slice", (x) => x.slice(1, -1).square()],
  ];
  for (const [name, op] of unaries) {
    it(`${name}, summed with position weights`, () => {
      const w = [0.3, -1.2, 2.5, 0.7, -0.4];
      checkAgainstFiniteDifferences(
        name,
        ([x]) =>
          op(x!)
            .mul(constant(w.slice(0, op(x!).size)))
            .sum(),
        logprobs([5], 1),
      );
    });
  }

  const binaries: [string, (a: LossTensor, b: LossTensor) => LossTensor][] = [
    ["add", (a, b) => a.add(b)],
    ["sub", (a, b) => a.sub(b)],
    ["mul", (a, b) => a.mul(b)],
    ["div", (a, b) => a.div(b)],
    ["minimum", (a, b) => a.minimum(b)],
    ["maximum", (a, b) => a.maximum(b)],
  ];
  for (const [name, op] of binaries) {
    it(`${name} of two vectors, and with a broadcast scalar on either side`, () => {
      const inputs = logprobs([4, 4, 1], 2);
      checkAgainstFiniteDifferences(name, ([a, b]) => op(a!, b!).square().sum(), inputs);
      checkAgainstFiniteDifferences(
        `${name} (scalar right)`,
        ([a, _b, c]) => op(a!, c!.sum()).square().sum(),
        inputs,
      );
      checkAgainstFiniteDifferences(
        `${name} (scalar left)`,
        ([a, _b, c]) => op(c!.sum(), a!).square().sum(),
        inputs,
      );
    });
  }

  it("reductions: sum, mean, logSumExp, dot, concat, addAll", () => {
    const inputs = logprobs([3, 5, 2], 3);
    checkAgainstFiniteDifferences("mean", ([a]) => a!.mean().square(), inputs);
    checkAgainstFiniteDifferences("logSumExp", ([a]) => a!.mul(4).logSumExp(), inputs);
    checkAgainstFiniteDifferences("dot", ([a, b]) => a!.dot(b!.slice(0, 3)), inputs);
    checkAgainstFiniteDifferences("concat", (xs) => concat(xs).exp().mean(), inputs);
    checkAgainstFiniteDifferences("addAll", (xs) => addAll(xs.map((x) => x.sum().square())).sqrt(), inputs);
  });

  it("a tensor used twice collects both gradients", () => {
    checkAgainstFiniteDifferences("reuse", ([a]) => a!.mul(a!).add(a!.exp()).sum(), logprobs([4], 4));
  });

  it("importance sampling, PPO clipping and DPO, written once", () => {
    const lengths = [6, 3, 5];
    const inputs = logprobs(lengths, 5);
    const sampler = logprobs(lengths, 6);
    const advantages = [1.5, -0.7, 0.4];
    const importance: Loss = (lps) =>
      addAll(lps.map((lp, i) => lp.sub(constant(sampler[i]!)).exp().mul(advantages[i]!).sum())).neg();
    const ppo: Loss = (lps) =>
      addAll(
        lps.map((lp, i) => {
          const ratio = lp.sub(constant(sampler[i]!)).exp();
          const a = advantages[i]!;
          return ratio.mul(a).minimum(ratio.clamp(0.8, 1.2).mul(a)).mean();
        }),
      ).neg();
    const dpo: Loss = ([chosen, rejected]) => {
      const margin = chosen!.sum().sub(-9).sub(rejected!.sum().sub(-4));
      return margin.mul(0.1).logSigmoid().neg();
    };
    checkAgainstFiniteDifferences("importance sampling", importance, inputs);
    checkAgainstFiniteDifferences("PPO", ppo, inputs);
    checkAgainstFiniteDifferences("DPO", dpo, inputs.slice(0, 2));
  });

  it("large inputs stay finite where a naive formula would overflow", () => {
    const x = new LossTensor([800, -800, 0]);
    assert.deepEqual(x.logSigmoid().toArray(), [0, -800, Math.log(0.5)]);
    assert.deepEqual(x.softplus().toArray(), [800, 0, Math.log(2)]);
    assert.equal(x.logSumExp().item(), 800);
    const [g] = gradients(x.logSigmoid().sum(), [x]);
    assert.deepEqual(Array.from(g!), [0, 1, 0.5]);
  });
});

describe("custom-loss edge rules", () => {
  it("clamp passes the gradient at the bounds and stops it outside them", () => {
    const x = new LossTensor([-1, 0, 1, 2, 3]);
    const [g] = gradients(x.clamp(0, 2).sum(), [x]);
    assert.deepEqual(Array.from(g!), [0, 1, 1, 1, 0]);
    const [lo] = gradients(x.clamp(1).sum(), [x]);
    assert.deepEqual(Array.from(lo!), [0, 0, 1, 1, 1]);
    assert.throws(() => x.clamp(2, 1), ValidationError);
  });

  it("minimum and maximum share the gradient on ties", () => {
    const a = new LossTensor([1, 2, 3]);
    const b = new LossTensor([2, 2, 2]);
    const [ga, gb] = gradients(a.minimum(b).sum(), [a, b]);
    assert.deepEqual(Array.from(ga!), [1, 0.5, 0]);
    assert.deepEqual(Array.from(gb!), [0, 0.5, 1]);
  });

  it("stopGradient keeps the values and cuts the gradient", () => {
    const x = new LossTensor([0.5, -1]);
    const stopped = stopGradient(x);
    assert.deepEqual(stopped.toArray(), x.toArray());
    // d/dx (x · sg(x)) = sg(x), not 2x
    const [g] = gradients(x.mul(stopped).sum(), [x]);
    assert.deepEqual(Array.from(g!), [0.5, -1]);
    const [none] = gradients(x.stopGradient().exp().sum(), [x]);
    assert.deepEqual(Array.from(none!), [0, 0]);
  });

  it("a loss that does not reach an input gives it zeros; operations never change their inputs", () => {
    const a = new LossTensor([1, 2]);
    const b = new LossTensor([3, 4, 5]);
    const loss = a.exp().sum();
    const [ga, gb] = gradients(loss, [a, b]);
    assert.deepEqual(Array.from(gb!), [0, 0, 0]);
    assert.deepEqual(Array.from(ga!), [Math.exp(1), Math.exp(2)]);
    assert.deepEqual(a.toArray(), [1, 2]);
  });

  it("shape errors are ValidationErrors that say what to do", () => {
    const a = new LossTensor([1, 2]);
    assert.throws(() => a.add(new LossTensor([1, 2, 3])), /2 and 3 values/);
    assert.throws(() => gradients(a.exp(), [a]), /reduce it with \.sum\(\) or \.mean\(\)/);
    assert.throws(() => new LossTensor([]).mean(), ValidationError);
    assert.throws(() => a.item(), ValidationError);
    assert.throws(() => a.add("1" as unknown as number), ValidationError);
    assert.throws(() => addAll([]), ValidationError);
  });
});

describe("differentiableLoss", () => {
  it("returns the loss, its gradient per datum and the metrics, in forwardBackwardCustom's shape", async () => {
    const fn = differentiableLoss((data, lps) => {
      assert.equal(data.length, 0, "data is passed through");
      return { loss: addAll(lps.map((lp) => lp.square().sum())), metrics: { "n:sum": lps.length } };
    });
    const out = await fn([], [Float32Array.of(1, 2), Float32Array.of(3)]);
    assert.equal(out.loss, 14);
    assert.deepEqual(
      out.grads.map((g) => Array.from(g)),
      [[2, 4], [6]],
    );
    assert.deepEqual(out.metrics, { "n:sum": 2 });
    const bare = await differentiableLoss((_d, lps) => lps[0]!.sum())([], [Float32Array.of(1, 1)]);
    assert.equal(bare.loss, 2);
    assert.equal(bare.metrics, undefined);
  });

  it("refuses a loss that is not a LossTensor, or not finite", async () => {
    await assert.rejects(
      differentiableLoss(() => 3 as unknown as LossTensor)([], [Float32Array.of(1)]),
      /must return a LossTensor/,
    );
    await assert.rejects(
      differentiableLoss((_d, lps) => lps[0]!.log().sum())([], [Float32Array.of(-1)]),
      /not finite/,
    );
  });
});
