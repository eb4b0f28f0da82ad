// Sampling: limits, stops, seeds, greedy decoding, and logprobs consistent with forward.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createModel, decode, EOS_TOKEN_ID, encode, type LoraModel } from "tinker-local";
import { ceDatum, logprobsOf, randomizeAdapter, TINY } from "./model-helpers.js";

const model = createModel(TINY, { rank: 4, seed: 3 });
randomizeAdapter(model, 21); // a non-trivial adapter, so sampling goes through the LoRA path too
const prompt = encode("Once upon a time");

function greedy(m: LoraModel, max: number): number[] {
  const seq = m.sample(prompt, { max_tokens: max, temperature: 0 }).sequences[0];
  assert.ok(seq);
  return seq.tokens;
}

test("max_tokens bounds the length; stop_reason says why it ended", () => {
  const res = model.sample(prompt, { max_tokens: 7, seed: 1 }, 5);
  assert.equal(res.sequences.length, 5);
  for (const s of res.sequences) {
    assert.equal(s.logprobs.length, s.tokens.length);
    if (s.stop_reason === "length") assert.equal(s.tokens.length, 7);
    else assert.equal(s.tokens.at(-1), EOS_TOKEN_ID);
  }
  assert.ok(res.sequences.some((s) => s.stop_reason === "length"));
  assert.deepEqual(model.sample(prompt, { max_tokens: 0 }).sequences, [
    { tokens: [], logprobs: [], stop_reason: "length" },
  ]);
});

test("generation stops at the context limit", () => {
  const ctx = model.info().arch.maxContextLength;
  const long = Array.from({ length: ctx - 3 }, (_, i) => 97 + (i % 26));
  const s = model.sample(long, { max_tokens: 50, temperature: 0 }).sequences[0];
  assert.ok(s);
  assert.ok(s.tokens.length <= 3);
  if (s.stop_reason === "length") assert.equal(s.tokens.length, 3);
  assert.equal(
    model.sample(
      Array.from({ length: ctx }, () => 97),
      { max_tokens: 5 },
    ).sequences[0]?.tokens.length,
    0,
  );
});

test("temperature 0 picks the argmax at every step", () => {
  const tokens = greedy(model, 12);
  assert.equal(tokens.length, 12);
  const top = model.topkPromptLogprobs([...prompt, ...tokens], 1);
  tokens.forEach((t, i) => {
    assert.equal(top[prompt.length + i]?.[0]?.[0], t, `step ${i}`);
  });
});

test("top_k = 1 and a tiny top_p both reduce to greedy", () => {
  const g = greedy(model, 12);
  for (const seed of [1, 2, 3]) {
    assert.deepEqual(model.sample(prompt, { max_tokens: 12, top_k: 1, seed }).sequences[0]?.tokens, g);
    assert.deepEqual(model.sample(prompt, { max_tokens: 12, top_p: 1e-9, seed }).sequences[0]?.tokens, g);
  }
});

test("top_k limits choices to the k most likely tokens", () => {
  const res = model.sample(prompt, { max_tokens: 1, top_k: 3, seed: 4 }, 40);
  const top3 = new Set(
    model
      .topkPromptLogprobs([...prompt, 0], 3)
      .at(-1)
      ?.map(([id]) => id),
  );
  const seen = new Set(res.sequences.map((s) => s.tokens[0]));
  for (const t of seen) assert.ok(top3.has(t as number), `token ${t} is not in the top 3`);
  assert.ok(seen.size >= 2);
});

test("a seed reproduces samples; sample i does not depend on num_samples", () => {
  const a = model.sample(prompt, { max_tokens: 16, seed: 123 }, 3);
  const b = model.sample(prompt, { max_tokens: 16, seed: 123 }, 3);
  assert.deepEqual(a, b);
  assert.deepEqual(model.sample(prompt, { max_tokens: 16, seed: 123 }, 1).sequences[0], a.sequences[0]);
  const c = model.sample(prompt, { max_tokens: 16, seed: 124 }, 3);
  assert.notDeepEqual(c.sequences, a.sequences);
  assert.notDeepEqual(a.sequences[0]?.tokens, a.sequences[1]?.tokens);
  assert.deepEqual(
    model.sample(prompt, { max_tokens: 4, seed: 2n ** 64n - 1n }),
    model.sample(prompt, { max_tokens: 4, seed: 2n ** 64n - 1n }),
  );
});

test("without a seed, calls differ but a fresh model replays the same sequence of calls", () => {
  const run = () => {
    const m = createModel(TINY, { rank: 4, seed: 3 });
    randomizeAdapter(m, 21);
    return [m.sample(prompt, { max_tokens: 10 }, 2), m.sample(prompt, { max_tokens: 10 }, 2)];
  };
  const [first, second] = run();
  assert.notDeepEqual(first, second);
  assert.deepEqual(run(), [first, second]);
});

test("stop strings and stop tokens end generation right after the match", () => {
  const g = greedy(model, 40);
  // A single ASCII byte and a two-byte ASCII string taken from the greedy text itself.
  const i = g.findIndex((t, k) => k >= 3 && t < 128 && (g[k + 1] ?? 255) < 128);
  assert.ok(i >= 3, `no ASCII pair in ${g}`);
  const single = String.fromCharCode(g[i] as number);
  const first = g.indexOf(g[i] as number);
  const s1 = model.sample(prompt, { max_tokens: 40, temperature: 0, stop: [single] }).sequences[0];
  assert.deepEqual(s1, { ...s1, tokens: g.slice(0, first + 1), stop_reason: "stop" });
  const pair = decode(g.slice(i, i + 2));
  const end = findSub(g, g.slice(i, i + 2)) + 2;
  const s2 = model.sample(prompt, { max_tokens: 40, temperature: 0, stop: ["\u0000never", pair] })
    .sequences[0];
  assert.deepEqual(s2?.tokens, g.slice(0, end));
  assert.equal(s2?.stop_reason, "stop");
  const s3 = model.sample(prompt, { max_tokens: 40, temperature: 0, stop: [g[5] as number] }).sequences[0];
  assert.deepEqual(s3?.tokens, g.slice(0, g.indexOf(g[5] as number) + 1));
  assert.equal(s3?.stop_reason, "stop");
  // A single string (not a list) is accepted too.
  assert.deepEqual(model.sample(prompt, { max_tokens: 40, temperature: 0, stop: single }).sequences[0], s1);
});

function findSub(hay: number[], needle: number[]): number {
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (needle.every((x, j) => hay[i + j] === x)) return i;
  }
  return -1;
}

test("EOS ends a sequence with stop_reason stop", () => {
  const m = createModel(TINY, { rank: 8 });
  const taught = { ...ceDatum([...encode("hi"), EOS_TOKEN_ID]) };
  for (let i = 0; i < 25; i++) {
    m.forwardBackward([taught], "cross_entropy");
    m.optimStep({ learning_rate: 3e-2 });
  }
  assert.deepEqual(m.sample(encode("hi"), { max_tokens: 10, temperature: 0 }).sequences[0], {
    tokens: [EOS_TOKEN_ID],
    logprobs: [m.promptLogprobs([...encode("hi"), EOS_TOKEN_ID]).at(-1) as number],
    stop_reason: "stop",
  });
});

test("sampled logprobs equal the model's temperature-1 logprobs of those tokens, bit for bit", () => {
  for (const params of [{ seed: 8 }, { seed: 9, temperature: 0.6, top_k: 20 }, { temperature: 0 }]) {
    const s = model.sample(prompt, { max_tokens: 24, ...params }, 2).sequences;
    for (const seq of s) {
      const full = [...prompt, ...seq.tokens];
      assert.deepEqual(model.promptLogprobs(full).slice(prompt.length), seq.logprobs);
      assert.deepEqual(
        Array.from(logprobsOf(model, ceDatum(full))).slice(prompt.length - 1),
        seq.logprobs.map(Math.fround),
      );
    }
  }
});

test("promptLogprobs matches forward logprobs; topk rows are sorted and consistent", () => {
  const toks = encode("The quick brown fox");
  const pl = model.promptLogprobs(toks);
  assert.equal(pl[0], null);
  assert.equal(pl.length, toks.length);
  assert.deepEqual(
    pl.slice(1).map((x) => Math.fround(x as number)),
    Array.from(logprobsOf(model, ceDatum(toks))),
  );
  const vocab = model.info().arch.vocabSize;
  const all = model.topkPromptLogprobs(toks, vocab);
  const top5 = model.topkPromptLogprobs(toks, 5);
  assert.equal(all[0], null);
  assert.equal(top5[0], null);
  for (let i = 1; i < toks.length; i++) {
    const row = all[i] ?? [];
    assert.equal(row.length, vocab);
    assert.deepEqual(top5[i], row.slice(0, 5));
    for (let j = 1; j < row.length; j++) assert.ok((row[j - 1]?.[1] as number) >= (row[j]?.[1] as number));
    const mass = row.reduce((acc, [, lp]) => acc + Math.exp(lp), 0);
    assert.ok(Math.abs(mass - 1) < 1e-12);
    assert.equal(row.find(([id]) => id === toks[i])?.[1], pl[i]);
  }
});
