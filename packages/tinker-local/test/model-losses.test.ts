// Each loss's value against its documented formula, computed here from the returned logprobs.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createModel,
  type Datum,
  DEFAULT_CLIP_HIGH,
  DEFAULT_CLIP_LOW,
  LOSS_FNS,
  type TensorInput,
} from "tinker-local";
import { Prng, randomizeAdapter, randomTokens, rlDatum, TINY } from "./model-helpers.js";

const model = createModel(TINY, { rank: 4, seed: 1 });
randomizeAdapter(model, 5);
const rng = new Prng(42);
const seqs = [randomTokens(rng, 12), randomTokens(rng, 20)];
const logps = seqs.map((seq) => {
  const out = model.forward(
    [
      rlDatum(
        seq,
        seq.slice(1).map(() => 0),
        seq.slice(1).map(() => 0),
      ),
    ],
    "importance_sampling",
  );
  return Array.from(out.lossFnOutputs[0]?.logprobs.data ?? []);
});
const qs = logps.map((lp) => lp.map((x) => x + rng.uniform(0.5)));
const advs = logps.map((lp) => lp.map(() => rng.uniform(2)));
const data: Datum[] = seqs.map((seq, i) => rlDatum(seq, qs[i] as number[], advs[i] as number[]));

/** Σ over datums and positions of term(logp, q, adv). */
function expected(term: (lp: number, q: number, a: number) => number): number {
  let total = 0;
  logps.forEach((lp, d) => {
    lp.forEach((x, i) => {
      total += term(x, (qs[d] as number[])[i] as number, (advs[d] as number[])[i] as number);
    });
  });
  return total;
}

function close(actual: number | undefined, want: number): void {
  assert.equal(typeof actual, "number");
  // logprobs come back as float32, so the recomputation is accurate to ~1e-6 relative.
  assert.ok(
    Math.abs((actual as number) - want) <= 1e-5 * Math.max(1, Math.abs(want)),
    `${actual} vs ${want}`,
  );
}

const clip = (r: number, lo: number, hi: number) => Math.min(Math.max(r, lo), hi);

test("cross_entropy is −Σ w·logp; weights default to 1", () => {
  const weights = seqs.map((seq) => seq.slice(1).map((_, i) => (i % 2 === 0 ? 2 : 0)));
  const ce: Datum[] = seqs.map((seq, d) => ({
    tokens: seq.slice(0, -1),
    lossFnInputs: {
      target_tokens: { dtype: "int64", data: seq.slice(1) },
      weights: { dtype: "float32", data: weights[d] as number[] },
    },
  }));
  close(model.forward(ce, "cross_entropy").metrics["loss:sum"], expected(() => 0) - sumWeighted(weights));
  const unweighted: Datum[] = seqs.map((seq) => ({
    tokens: seq.slice(0, -1),
    lossFnInputs: { target_tokens: { dtype: "int64", data: seq.slice(1) } },
  }));
  close(
    model.forward(unweighted, "cross_entropy").metrics["loss:sum"],
    expected((lp) => -lp),
  );
});

function sumWeighted(weights: number[][]): number {
  let s = 0;
  logps.forEach((lp, d) => {
    lp.forEach((x, i) => {
      s += ((weights[d] as number[])[i] as number) * x;
    });
  });
  return s;
}

test("importance_sampling is −Σ A·exp(logp − q)", () => {
  close(
    model.forward(data, "importance_sampling").metrics["loss:sum"],
    expected((lp, q, a) => -a * Math.exp(lp - q)),
  );
});

test("ppo is −Σ min(r·A, clip(r, low, high)·A), defaults 0.8/1.2", () => {
  assert.equal(DEFAULT_CLIP_LOW, 0.8);
  assert.equal(DEFAULT_CLIP_HIGH, 1.2);
  const ppo = (lo: number, hi: number) => (lp: number, q: number, a: number) => {
    const r = Math.exp(lp - q);
    return -Math.min(r * a, clip(r, lo, hi) * a);
  };
  close(model.forward(data, "ppo").metrics["loss:sum"], expected(ppo(0.8, 1.2)));
  const cfg = { clip_low_threshold: 0.9, clip_high_threshold: 1.1 };
  close(model.forward(data, "ppo", cfg).metrics["loss:sum"], expected(ppo(0.9, 1.1)));
  const clipped = model.forward(data, "ppo", cfg).metrics["clip_fraction:mean"] as number;
  let want = 0;
  logps.forEach((lp, d) => {
    want +=
      lp.filter((x, i) => {
        const r = Math.exp(x - ((qs[d] as number[])[i] as number));
        return r < 0.9 || r > 1.1;
      }).length / lp.length;
  });
  assert.ok(Math.abs(clipped - want / logps.length) < 1e-12);
});

test("ppo takes per-token clip thresholds from loss_fn_inputs over the config", () => {
  const perToken: Datum[] = data.map((d) => {
    const n = (d.lossFnInputs.advantages as TensorInput).data.length;
    return {
      ...d,
      lossFnInputs: {
        ...d.lossFnInputs,
        clip_low_threshold: { dtype: "float32", data: Array.from({ length: n }, () => 0.95) },
        clip_high_threshold: { dtype: "float32", data: Array.from({ length: n }, () => 1.05) },
      },
    };
  });
  const got = model.forward(perToken, "ppo", { clip_low_threshold: 0.5, clip_high_threshold: 2 }).metrics[
    "loss:sum"
  ];
  close(
    got,
    expected((lp, q, a) => {
      const r = Math.exp(lp - q);
      return -Math.min(r * a, clip(r, 0.95, 1.05) * a);
    }),
  );
});

test("cispo's value is −Σ clip(r, low, high)·A·logp", () => {
  const cfg = { clip_low_threshold: 0.7, clip_high_threshold: 1.3 };
  close(
    model.forward(data, "cispo", cfg).metrics["loss:sum"],
    expected((lp, q, a) => -clip(Math.exp(lp - q), 0.7, 1.3) * a * lp),
  );
});

test("dro is −Σ [A·logp − (β/2)(logp − q)²], β default 0.05", () => {
  const dro = (beta: number) => (lp: number, q: number, a: number) => -(a * lp - 0.5 * beta * (lp - q) ** 2);
  close(model.forward(data, "dro").metrics["loss:sum"], expected(dro(0.05)));
  close(model.forward(data, "dro", { beta: 0.7 }).metrics["loss:sum"], expected(dro(0.7)));
});

test("outputs: one float32 logprobs tensor of length N per datum; metric keys have exactly one ':'", () => {
  for (const lossFn of LOSS_FNS) {
    const batch: Datum[] =
      lossFn === "cross_entropy"
        ? data.map((d) => ({
            tokens: d.tokens,
            lossFnInputs: { target_tokens: d.lossFnInputs.target_tokens! },
          }))
        : data;
    const res = model.forward(batch, lossFn);
    assert.equal(res.lossFnOutputs.length, data.length);
    res.lossFnOutputs.forEach((out, i) => {
      assert.equal(out.logprobs.dtype, "float32");
      assert.ok(out.logprobs.data instanceof Float32Array);
      assert.deepEqual(out.logprobs.shape, [(seqs[i] as number[]).length - 1]);
      assert.deepEqual(Array.from(out.logprobs.data), (logps[i] as number[]).map(Math.fround));
    });
    for (const key of Object.keys(res.metrics)) assert.equal(key.split(":").length, 2, key);
    assert.ok("loss:sum" in res.metrics);
  }
});

test("an empty batch has zero loss and no outputs", () => {
  const res = model.forward([], "cross_entropy");
  assert.deepEqual(res, { lossFnOutputs: [], metrics: { "loss:sum": 0 } });
});
