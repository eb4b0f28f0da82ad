// RL building blocks on small cases worked out by hand: group advantages, trajectory datums
// position by position (single turn, multi-turn merged, multi-turn split), arithmetic rewards,
// the guessing game's turns, and mapLimit's bound.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteLevelTokenizer } from "tinker-ts";
import { getRenderer, Rng, rl } from "../../src/index.js";

const traj = (
  transitions: { observation: number[]; action: number[]; logprobs: number[]; reward: number }[],
) => ({
  transitions: transitions.map((t) => ({ ...t, metrics: {} })),
  totalReward: transitions.reduce((s, t) => s + t.reward, 0),
});
const inputs = (d: ReturnType<typeof rl.trajectoryDatums>[number]) => ({
  input: d.modelInput.toInts(),
  target: [...(d.lossFnInputs.target_tokens?.data ?? [])],
  logprobs: [...(d.lossFnInputs.logprobs?.data ?? [])],
  advantages: [...(d.lossFnInputs.advantages?.data ?? [])],
});

describe("groupAdvantages", () => {
  it("centres on the group mean", () =>
    assert.deepEqual(rl.groupAdvantages([1, 0, 0, 1]), [0.5, -0.5, -0.5, 0.5]));
  it("divides by the population std when asked", () => {
    const a = rl.groupAdvantages([1, 0, 0, 1], { scaleByStd: true, epsilon: 0 });
    assert.deepEqual(a, [1, -1, -1, 1]);
    const b = rl.groupAdvantages([3, 1], { scaleByStd: true, epsilon: 1 });
    assert.deepEqual(b, [0.5, -0.5]); // (3-2)/(1+1)
  });
  it("a group that scored alike gets zeros (also scaled)", () => {
    assert.deepEqual(rl.groupAdvantages([0.3, 0.3]), [0, 0]);
    assert.deepEqual(rl.groupAdvantages([0.3, 0.3], { scaleByStd: true }), [0, 0]);
    assert.deepEqual(rl.groupAdvantages([]), []);
    // 8 x 0.2 averages to 0.20000000000000004: still zeros, not 1e-17 scaled up by a zero std.
    assert.deepEqual(rl.groupAdvantages(Array(8).fill(0.2)), Array(8).fill(0));
    assert.deepEqual(rl.groupAdvantages(Array(8).fill(0.2), { scaleByStd: true }), Array(8).fill(0));
  });
});

describe("trajectoryDatums", () => {
  it("single turn: the prompt gets advantage and logprob 0, the action its own, shifted by one", () => {
    const [d, ...rest] = rl.trajectoryDatums(
      traj([{ observation: [10, 11, 12], action: [20, 21], logprobs: [-0.5, -0.25], reward: 1 }]),
      0.75,
    );
    assert.equal(rest.length, 0);
    assert.deepEqual(inputs(d!), {
      input: [10, 11, 12, 20],
      target: [11, 12, 20, 21],
      logprobs: [0, 0, -0.5, -0.25],
      advantages: [0, 0, 0.75, 0.75],
    });
  });
  it("multi-turn that extends: one datum, the environment's reply weighted 0", () => {
    const ds = rl.trajectoryDatums(
      traj([
        { observation: [1, 2], action: [3], logprobs: [-1], reward: 0 },
        { observation: [1, 2, 3, 4, 5], action: [6, 7], logprobs: [-2, -3], reward: 1 },
      ]),
      -0.5,
    );
    assert.equal(ds.length, 1);
    assert.deepEqual(inputs(ds[0]!), {
      input: [1, 2, 3, 4, 5, 6],
      target: [2, 3, 4, 5, 6, 7],
      logprobs: [0, -1, 0, 0, -2, -3],
      advantages: [0, -0.5, 0, 0, -0.5, -0.5],
    });
  });
  it("multi-turn whose prompt rewrites history: a new datum per break", () => {
    const ds = rl.trajectoryDatums(
      traj([
        { observation: [1, 2], action: [3], logprobs: [-1], reward: 0 },
        { observation: [1, 9, 4], action: [5], logprobs: [-2], reward: 1 },
      ]),
      2,
    );
    assert.deepEqual(ds.map(inputs), [
      { input: [1, 2], target: [2, 3], logprobs: [0, -1], advantages: [0, 2] },
      { input: [1, 9, 4], target: [9, 4, 5], logprobs: [0, 0, -2], advantages: [0, 0, 2] },
    ]);
  });
  it("logprobs that do not match the action are a RecipeError", () => {
    assert.throws(
      () => rl.trajectoryDatums(traj([{ observation: [1], action: [2, 3], logprobs: [-1], reward: 0 }]), 1),
      /2 tokens but 1 logprobs/,
    );
  });
});

describe("entropyBonuses", () => {
  it("coef x (-logprob - the mean -logprob over every token), per token, in the input's shape", () => {
    // -logprobs 1, 3 | 2 | (none): mean 2.
    const b = rl.entropyBonuses([[-1, -3], [-2], []], 0.5);
    assert.deepEqual(b, [[-0.5, 0.5], [0], []]);
  });
  it("tokens all equally likely get no bonus; coef 0 gives zeros; no tokens gives empty rows", () => {
    assert.deepEqual(rl.entropyBonuses([[-0.7], [-0.7, -0.7]], 2), [[0], [0, 0]]);
    assert.deepEqual(rl.entropyBonuses([[-1, -5]], 0), [[0, 0]]);
    assert.deepEqual(rl.entropyBonuses([], 1), []);
  });
  it("a rarely picked token is pushed up, the usual one down", () => {
    const [[usual, rare]] = rl.entropyBonuses([[-0.1, -4.1]], 0.1) as [[number, number]];
    assert.ok(usual < 0 && rare > 0);
    assert.ok(Math.abs(usual - -0.2) < 1e-12 && Math.abs(rare - 0.2) < 1e-12);
  });
  it("a negative or non-finite coefficient, or a non-finite logprob, is a RecipeError", () => {
    assert.throws(() => rl.entropyBonuses([[-1]], -0.1), /entropy bonus must be a finite number >= 0/);
    assert.throws(() => rl.entropyBonuses([[-1]], Number.NaN), /entropy bonus/);
    assert.throws(() => rl.entropyBonuses([[Number.NEGATIVE_INFINITY]], 0.1), /logprob -Infinity/);
  });
  it("sampledEntropy is the mean -logprob of the sampled tokens", () => {
    assert.equal(rl.sampledEntropy([[-1, -3], [-2]]), 2);
    assert.equal(rl.sampledEntropy([]), 0);
  });
});

describe("trajectoryDatums with per-token advantages", () => {
  it("adds each action token's own term to the episode's advantage; prompt and replies stay 0", () => {
    const ds = rl.trajectoryDatums(
      traj([
        { observation: [1, 2], action: [3], logprobs: [-1], reward: 0 },
        { observation: [1, 2, 3, 4], action: [6, 7], logprobs: [-2, -3], reward: 1 },
      ]),
      0.5,
      [[0.25], [-0.125, 1]],
    );
    assert.deepEqual(ds.map(inputs), [
      {
        input: [1, 2, 3, 4, 6],
        target: [2, 3, 4, 6, 7],
        logprobs: [0, -1, 0, -2, -3],
        advantages: [0, 0.75, 0, 0.375, 1.5],
      },
    ]);
  });
  it("a zero episode advantage with a bonus still makes a datum carrying the bonus", () => {
    const [d] = rl.trajectoryDatums(traj([{ observation: [5], action: [8], logprobs: [-4], reward: 0 }]), 0, [
      [0.25],
    ]);
    assert.deepEqual(inputs(d!), { input: [5], target: [8], logprobs: [-4], advantages: [0.25] });
  });
  it("per-token rows that do not match the transitions or their actions are a RecipeError", () => {
    const t = traj([{ observation: [1], action: [2, 3], logprobs: [-1, -1], reward: 0 }]);
    assert.throws(() => rl.trajectoryDatums(t, 1, []), /for 0 transitions, but the episode has 1/);
    assert.throws(() => rl.trajectoryDatums(t, 1, [[0.1]]), /2 tokens but 1 per-token advantages/);
  });
});

describe("environments", () => {
  const renderer = getRenderer("role_colon", new ByteLevelTokenizer());
  const encode = (s: string) => [...new TextEncoder().encode(s)];
  it("arithmetic: exact first number is 1, digits share the format weight, else 0", () => {
    assert.deepEqual(rl.arithmeticReward("7", 7), { reward: 1, correct: 1 });
    assert.deepEqual(rl.arithmeticReward("7 apples", 7), { reward: 1, correct: 1 });
    // Wrong numbers: 0.2 x digit share x (1/2 + 1/2 / (1 + distance)).
    assert.deepEqual(rl.arithmeticReward("8", 7), { reward: 0.2 * 0.75, correct: 0 });
    assert.deepEqual(rl.arithmeticReward("12", 7), { reward: 0.2 * (0.5 + 0.5 / 6), correct: 0 });
    assert.deepEqual(rl.arithmeticReward("1x", 7), { reward: 0.1 * (0.5 + 0.5 / 7), correct: 0 });
    assert.deepEqual(rl.arithmeticReward("xy", 7), { reward: 0, correct: 0 });
    const env = new rl.ArithmeticEnv(renderer, 2, 3);
    const obs = env.initialObservation();
    assert.match(new TextDecoder().decode(Uint8Array.from(obs.prompt.toInts())), /2\+3=/);
    assert.deepEqual(obs.stop, renderer.stopSequences());
    assert.deepEqual(env.step(encode("5\n\nUser:")), { reward: 1, done: true, metrics: { correct: 1 } });
  });
  it("guessing: hints continue the conversation (its prompt extends the last), a right guess ends it", () => {
    const env = new rl.GuessingEnv(renderer, 5, { max: 8, maxGuesses: 3 });
    const first = env.initialObservation().prompt.toInts();
    const low = env.step(encode("2"));
    assert.equal(low.done, false);
    assert.equal(low.reward, 0.05);
    const text = new TextDecoder().decode(Uint8Array.from(low.next!.prompt.toInts()));
    assert.match(text, /Higher\./);
    assert.deepEqual(low.next!.prompt.toInts().slice(0, first.length), first);
    const bad = env.step(encode("zz"));
    assert.equal(bad.reward, 0);
    assert.match(new TextDecoder().decode(Uint8Array.from(bad.next!.prompt.toInts())), /A number, 1-8\./);
    assert.deepEqual(env.step(encode("5")), { reward: 1, done: true, metrics: { won: 1, valid: 1 } });
  });
  it("guessing: the episode ends after maxGuesses", () => {
    const env = new rl.GuessingEnv(renderer, 5, { maxGuesses: 2 });
    env.initialObservation();
    assert.equal(env.step(encode("1")).done, false);
    assert.equal(env.step(encode("2")).done, true);
  });
  it("group sources are a pure function of the RNG state", () => {
    const source = rl.arithmeticGroups(renderer, 3, 2);
    const labels = (rng: Rng) => (source(0, rng) as rl.EnvGroupBuilder[]).map((g) => g.label);
    const rng = new Rng(9);
    labels(rng);
    const saved = rng.state;
    assert.deepEqual(labels(rng), labels(Rng.fromState(saved)));
  });
});

describe("mapLimit", () => {
  it("never runs more than the limit at once and keeps the order", async () => {
    let running = 0;
    let peak = 0;
    const out = await rl.mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return x * 2;
    });
    assert.deepEqual(out, [2, 4, 6, 8, 10, 12, 14]);
    assert.equal(peak, 3);
  });
});
