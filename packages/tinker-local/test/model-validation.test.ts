// Bad input gets a ModelInputError whose message names the problem.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createModel, type Datum, encode, ModelInputError } from "tinker-local";
import { ceDatum, rlDatum, TINY } from "./model-helpers.js";

const model = createModel(TINY, { rank: 2 });

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof ModelInputError, `expected ModelInputError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test("forwardBackward names the problem with the loss or the datum", () => {
  const good = ceDatum("hello");
  rejects(
    () => model.forwardBackward([good], "mse"),
    /unknown loss_fn 'mse'.*cross_entropy, importance_sampling, ppo, cispo, dro/,
  );
  rejects(
    () => model.forwardBackward([good], "ppo"),
    /data\[0\]\.loss_fn_inputs is missing 'logprobs', which ppo requires/,
  );
  rejects(
    () => model.forwardBackward([good], "cross_entropy", { beta: 1 }),
    /loss_fn_config key 'beta' is not used by cross_entropy/,
  );
  rejects(
    () => model.forwardBackward([good], "cross_entropy", { clip_low_threshold: Number.NaN } as never),
    /not used by cross_entropy/,
  );
  const short: Datum = {
    ...good,
    lossFnInputs: { ...good.lossFnInputs, weights: { dtype: "float32", data: [1] } },
  };
  rejects(
    () => model.forwardBackward([good, short], "cross_entropy"),
    /data\[1\]\.loss_fn_inputs\.weights has 1 values but model_input has 4 tokens/,
  );
  const badShape: Datum = {
    ...good,
    lossFnInputs: { ...good.lossFnInputs, weights: { dtype: "float32", shape: [2, 2], data: [1, 1, 1, 1] } },
  };
  rejects(() => model.forwardBackward([badShape], "cross_entropy"), /must be 1-D/);
  const outOfVocab: Datum = { ...good, tokens: [1, 2, 300, 4] };
  rejects(
    () => model.forwardBackward([outOfVocab], "cross_entropy"),
    /model_input\[2\] = 300 is not a token id in \[0, 259\)/,
  );
  const badTarget: Datum = {
    ...good,
    lossFnInputs: { target_tokens: { dtype: "int64", data: [1, 2, 3, 1.5] } },
  };
  rejects(
    () => model.forwardBackward([badTarget], "cross_entropy"),
    /target_tokens\[3\] = 1.5 is not a token id/,
  );
  const floatTargets: Datum = {
    ...good,
    lossFnInputs: { target_tokens: { dtype: "float32", data: [1, 2, 3, 4] } },
  };
  rejects(() => model.forwardBackward([floatTargets], "cross_entropy"), /must have dtype int64/);
  rejects(
    () => model.forwardBackward([ceDatum("x".repeat(200))], "cross_entropy"),
    /more than the model's context of 128/,
  );
  const nanWeights: Datum = {
    ...good,
    lossFnInputs: { ...good.lossFnInputs, weights: { dtype: "float32", data: [1, Number.NaN, 1, 1] } },
  };
  rejects(
    () => model.forwardBackward([nanWeights], "cross_entropy"),
    /weights\.data\[1\] = NaN is not a finite number/,
  );
  const unknownKey: Datum = {
    ...good,
    lossFnInputs: { ...good.lossFnInputs, mask: { dtype: "float32", data: [1, 1, 1, 1] } },
  };
  rejects(
    () => model.forwardBackward([unknownKey], "cross_entropy"),
    /loss_fn_inputs\.mask is not an input of cross_entropy/,
  );
  rejects(() => model.forwardBackward([{ ...good, tokens: [] }], "cross_entropy"), /model_input is empty/);
  const rl: Datum = {
    tokens: [1, 2],
    lossFnInputs: {
      target_tokens: { dtype: "int64", data: new BigInt64Array([2n, 3n]) },
      logprobs: { dtype: "float32", data: [-1, -1] },
      advantages: { dtype: "float32", data: [1, 1] },
    },
  };
  rejects(
    () => model.forwardBackward([rl], "ppo", { clip_low_threshold: 1.5, clip_high_threshold: 1.2 }),
    /clip_low_threshold <= clip_high_threshold/,
  );
  assert.equal(model.forward([rl], "ppo").lossFnOutputs.length, 1, "BigInt64Array targets are accepted");
});

test("a non-finite loss leaves accumulated gradients as they were", () => {
  const m = createModel(TINY, { rank: 2 });
  m.forwardBackward([ceDatum("abc")], "cross_entropy");
  const before = m.accumulatedGradients();
  const rl = (samplerLogprob: number): Datum => ({
    tokens: [1, 2],
    lossFnInputs: {
      target_tokens: { dtype: "int64", data: [2, 3] },
      logprobs: { dtype: "float32", data: [samplerLogprob, -1] },
      advantages: { dtype: "float32", data: [1, 1] },
    },
  });
  // The first datum's gradient is accumulated before the second one overflows.
  rejects(
    () => m.forwardBackward([rl(-1), rl(-1e6)], "importance_sampling"),
    /data\[1\]: the importance_sampling loss is not finite/,
  );
  assert.deepEqual(m.accumulatedGradients(), before);
});

test("model, LoRA, Adam and sampling parameters are checked", () => {
  rejects(
    () => createModel("gpt-5"),
    /unknown base model 'gpt-5'; available: tinker-local\/tiny, tinker-local\/small/,
  );
  rejects(() => createModel(TINY, { rank: 0 }), /rank must be an integer from 1/);
  rejects(
    () => createModel(TINY, { rank: 4, train_attn: false, train_mlp: false, train_unembed: false }),
    /at least one/,
  );
  rejects(() => model.optimStep({ learning_rate: -1 }), /learning_rate must be >= 0/);
  rejects(() => model.optimStep({ beta2: 1 }), /beta2 must be in \[0, 1\)/);
  rejects(() => model.optimStep({ lr: 1 } as never), /unknown adam parameter 'lr'/);
  rejects(() => createModel(TINY).forwardBackward([ceDatum("ab")], "cross_entropy"), /needs a LoRA adapter/);
  rejects(() => model.sample([], {}), /prompt is empty/);
  rejects(() => model.sample([1], { temperature: -1 }), /temperature/);
  rejects(() => model.sample([1], { top_p: 0 }), /top_p/);
  rejects(() => model.sample([1], { top_k: -2 }), /top_k/);
  rejects(() => model.sample([1], { stop: [""] }), /stop strings must not be empty/);
  rejects(() => model.sample([1], { stop: [999] }), /stop token 999/);
  rejects(() => model.sample([1], { max_tokens: 1.5 }), /max_tokens/);
  rejects(() => model.sample([1], {}, 0), /num_samples/);
  rejects(() => model.topkPromptLogprobs([1, 2], 0), /topk_prompt_logprobs/);
  const gone = createModel(TINY, { rank: 2 });
  gone.dispose();
  assert.throws(() => gone.promptLogprobs([1, 2]), /disposed/);
});

test("a model ruined by a huge learning rate says so, not 'sampler logprobs'", () => {
  const ruined = createModel(TINY, { rank: 2 });
  // What a client without checks can send: the SDK refuses this, the wire does not.
  // Two steps: after the first the loss is huge but finite; the second overflows the weights.
  for (let step = 0; step < 2; step++) {
    ruined.forwardBackward([ceDatum("hello")], "cross_entropy");
    ruined.optimStep({ learning_rate: 3.4e38 });
  }
  for (const lossFn of ["cross_entropy", "importance_sampling"]) {
    const datum =
      lossFn === "cross_entropy" ? ceDatum("hello") : rlDatum(encode("hello"), [0, 0, 0, 0], [1, 1, 1, 1]);
    assert.throws(
      () => ruined.forwardBackward([datum], lossFn),
      (e: Error) =>
        e instanceof ModelInputError &&
        /weights are no longer finite/.test(e.message) &&
        /learning_rate/.test(e.message) &&
        !/sampler logprobs/.test(e.message),
    );
  }
});
