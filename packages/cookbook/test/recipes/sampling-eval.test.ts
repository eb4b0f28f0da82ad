// The sampling evaluator against a tinker-local this test starts: completions of a prompt set
// scored by a function, its typed refusals, its determinism, and its use inside supervised.train
// and rl.train (accuracy rows in metrics.jsonl, completions in samples/step-N.jsonl).

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_LOCAL_API_KEY, type LocalServer, startServer } from "tinker-local";
import { getTokenizer, type SamplingClient, ServiceClient } from "tinker-ts";
import {
  evalSamplesPath,
  getRenderer,
  RecipeError,
  type Renderer,
  readMetrics,
  rl,
  SamplingEvaluator,
  supervised,
} from "../../src/index.js";

const MODEL = "tinker-local/tiny";
const dir = mkdtempSync(join(tmpdir(), "cookbook-sampling-eval-"));
let server: LocalServer;
let service: ServiceClient;
let renderer: Renderer;
let sampler: SamplingClient;

const problems = Array.from({ length: 6 }, (_, i) => ({
  messages: [{ role: "user" as const, content: `${i}+1=` }],
  answer: i + 1,
}));
const exact = (c: { text: string }, e: { answer: number }) => c.text.trim() === String(e.answer);

before(async () => {
  server = await startServer({ port: 0, dataDir: join(dir, "server") });
  service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY });
  renderer = getRenderer("role_colon", await getTokenizer(MODEL));
  const training = await service.createLoraTrainingClient(MODEL, { rank: 4, seed: 1 });
  sampler = await training.saveWeightsAndGetSamplingClient();
});
after(async () => {
  await service?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SamplingEvaluator", () => {
  it("refuses a set or settings it cannot use, before sampling", () => {
    const ok = { renderer, score: () => 1, maxTokens: 4 };
    assert.throws(() => new SamplingEvaluator([], ok), RecipeError);
    assert.throws(() => new SamplingEvaluator(problems, { ...ok, maxTokens: 0 }), /maxTokens/);
    assert.throws(() => new SamplingEvaluator(problems, { ...ok, concurrency: 1.5 }), /concurrency/);
    assert.throws(() => new SamplingEvaluator(problems, { ...ok, temperature: -1 }), /temperature/);
    assert.throws(() => new SamplingEvaluator([{ messages: [] }], ok), /example 0 .* no messages/);
    assert.throws(
      () => new SamplingEvaluator(problems, { ...ok, score: undefined as never }),
      /needs a score function/,
    );
  });

  it("scores one completion per prompt; accuracy is the mean of the scorer's values", async () => {
    const seen: string[] = [];
    const evaluator = new SamplingEvaluator(problems, {
      renderer,
      maxTokens: 4,
      score: (c, e) => {
        seen.push(`${e.answer}:${c.text}`);
        assert.equal(typeof c.text, "string");
        assert.ok(c.tokens.length >= 1 && c.tokens.length <= 4, "at most maxTokens sampled");
        return c.text.length % 2 === 0 ? 1 : 0.25;
      },
    });
    const result = await evaluator.evaluate(sampler);
    assert.equal(result.records.length, problems.length);
    assert.deepEqual(
      result.records.map((r) => r.index),
      problems.map((_, i) => i),
    );
    assert.equal(seen.length, problems.length);
    const expected = result.records.map((r) => (r.completion.length % 2 === 0 ? 1 : 0.25));
    assert.deepEqual(
      result.records.map((r) => r.score),
      expected,
    );
    assert.equal(result.accuracy, expected.reduce((a, b) => a + b, 0) / expected.length);
    assert.equal(result.unparsed, result.records.filter((r) => !r.parsedOk).length);
  });

  it("gives the same completions at any concurrency (seeds fixed per prompt)", async () => {
    const options = { renderer, maxTokens: 4, score: exact, temperature: 1, seed: 3 };
    const one = await new SamplingEvaluator(problems, { ...options, concurrency: 1 }).evaluate(sampler);
    const many = await new SamplingEvaluator(problems, { ...options, concurrency: 6 }).evaluate(sampler);
    assert.deepEqual(many.records, one.records);
  });

  it("refuses a scorer that returns something that is not a score", async () => {
    const evaluator = new SamplingEvaluator(problems, { renderer, maxTokens: 2, score: () => Number.NaN });
    await assert.rejects(
      evaluator.evaluate(sampler),
      (e) => e instanceof RecipeError && /example 0/.test(e.message),
    );
  });

  it("reads a JSONL prompt set; each record is the scorer's example", async () => {
    const path = join(dir, "prompts.jsonl");
    writeFileSync(path, `${problems.map((p) => JSON.stringify(p)).join("\n")}\n`);
    const answers: unknown[] = [];
    const evaluator = SamplingEvaluator.fromJsonl(
      path,
      {
        renderer,
        maxTokens: 2,
        score: (_c, e) => {
          answers.push(e.answer);
          return true;
        },
      },
      4,
    );
    const result = await evaluator.evaluate(sampler);
    assert.equal(result.accuracy, 1);
    assert.deepEqual(answers.sort(), [1, 2, 3, 4]);
  });
});

describe("inside the loops", () => {
  it("supervised.train logs accuracy at step 0, every samplingEvalEvery steps and the last", async () => {
    const data = join(dir, "sft.jsonl");
    const rows = Array.from({ length: 8 }, (_, i) => ({
      messages: [
        { role: "user", content: `${i % 4}+1=` },
        { role: "assistant", content: String((i % 4) + 1) },
      ],
    }));
    writeFileSync(data, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const runDir = join(dir, "sft-run");
    const summary = await supervised.train({
      service,
      model: MODEL,
      renderer,
      trainData: data,
      runDir,
      batchSize: { examples: 4 },
      steps: 5,
      learningRate: 0.01,
      rank: 4,
      samplingEvaluator: new SamplingEvaluator(problems, { renderer, maxTokens: 3, score: exact }),
      samplingEvalEvery: 2,
      saveEvery: 5,
      progress: false,
    });
    const logged = readMetrics(join(runDir, "metrics.jsonl")).filter((r) => typeof r.accuracy === "number");
    assert.deepEqual(
      logged.map((r) => r.step),
      [0, 2, 4, 5],
    );
    for (const r of logged) {
      const lines = readFileSync(evalSamplesPath(runDir, r.step as number), "utf8")
        .trim()
        .split("\n");
      assert.equal(lines.length, problems.length);
      const scores = lines.map((l) => (JSON.parse(l) as { score: number }).score);
      assert.equal(r.accuracy, scores.reduce((a, b) => a + b, 0) / scores.length);
    }
    assert.equal(summary.firstAccuracy, logged[0]!.accuracy);
    assert.equal(summary.lastAccuracy, logged.at(-1)!.accuracy);
  });

  it("rl.train logs accuracy before the first iteration and every samplingEvalEvery", async () => {
    const runDir = join(dir, "rl-run");
    const summary = await rl.train({
      service,
      model: MODEL,
      groups: rl.arithmeticGroups(renderer, 2, 4),
      envName: "arithmetic",
      runDir,
      iterations: 3,
      learningRate: 0.01,
      rank: 4,
      maxTokens: 3,
      samplingEvaluator: new SamplingEvaluator(problems, { renderer, maxTokens: 3, score: exact }),
      samplingEvalEvery: 2,
      saveEvery: 3,
      progress: false,
    });
    const rows = readMetrics(join(runDir, "metrics.jsonl"));
    assert.deepEqual(
      rows.filter((r) => typeof r.accuracy === "number").map((r) => r.step),
      [0, 2, 3],
    );
    assert.equal(rows.filter((r) => typeof r.reward === "number").length, 3, "one reward row per iteration");
    assert.ok(existsSync(evalSamplesPath(runDir, 0)));
    assert.equal(summary.iterations, 3);
    assert.equal(typeof summary.firstAccuracy, "number");
    assert.ok(Number.isFinite(summary.rewardFirst5), "the step-0 row does not enter the reward mean");
  });
});
