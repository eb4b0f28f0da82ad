// rl.train on tinker-local's twin of a hosted chat model (Qwen/Qwen3-4B-Instruct-2507: its real
// 151k-token tokenizer, the qwen3_instruct renderer, its <|im_end|> stop token), end to end: the
// episodes are rendered and parsed by the hosted model's renderer, datums are built from the
// twin's tokens and logprobs, every iteration that has a non-zero advantage trains once on the
// server, the sampling evaluator runs, metrics and the resume record are written, and a run that
// died between two records resumes from the last one. Reward improvement is not asserted: the
// twin is a randomly initialised tiny transformer behind a huge vocabulary.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DEFAULT_LOCAL_API_KEY, type LocalServer, parseTinkerPath, startServer } from "tinker-local";
import { getTokenizer, ServiceClient } from "tinker-ts";
import { getRenderer, type Renderer, readMetrics, recommendedRenderer, rl, textOf } from "../../src/index.js";
import { recordOf, trainedBatches } from "./kill-restart.js";

const MODEL = "Qwen/Qwen3-4B-Instruct-2507";
const dir = mkdtempSync(join(tmpdir(), "cookbook-rl-twin-"));
let server: LocalServer;
let service: ServiceClient;
let renderer: Renderer;

before(async () => {
  server = await startServer({ port: 0, dataDir: join(dir, "server"), models: [MODEL] });
  service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY });
  renderer = getRenderer(recommendedRenderer(MODEL), await getTokenizer(MODEL));
});
after(async () => {
  await service?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * One-turn episodes asked through the hosted renderer, rewarded by the parity of the first
 * sampled token: an untrained twin's groups then differ (an arithmetic reward would be all zeros
 * and train nothing), and the reply still goes through the renderer's parser.
 */
const parityGroups: rl.GroupSource = (_iteration, rng) =>
  Array.from({ length: 2 }, () => {
    const a = rng.int(3);
    return {
      label: `q${a}`,
      makeEnvs: () =>
        Array.from(
          { length: 3 },
          (): rl.Env => ({
            initialObservation: () => ({
              prompt: renderer.buildGenerationPrompt([{ role: "user", content: `${a}+1=` }]),
              stop: renderer.stopSequences(),
            }),
            step: (action) => {
              const parsed = renderer.parseResponse(action);
              return {
                reward: (action[0] ?? 0) % 2,
                done: true,
                metrics: { parsedOk: Number(parsed.ok), chars: textOf(parsed.message.content).length },
              };
            },
          }),
        ),
    };
  });

const config = (runDir: string, onMetrics?: (row: rl.RlMetrics) => void) => ({
  service,
  model: MODEL,
  groups: parityGroups,
  envName: "parity",
  runDir,
  iterations: 2,
  learningRate: 1e-3,
  rank: 4,
  maxTokens: 2,
  saveEvery: 1,
  samplingEvaluator: rl.arithmeticEvaluator(renderer, 2, { maxOperand: 0 }),
  samplingEvalEvery: 2,
  progress: false as const,
  ...(onMetrics ? { onMetrics } : {}),
});

test("rl.train runs end to end on a hosted model's twin, and resumes there", async () => {
  assert.equal(renderer.name, "qwen3_instruct");
  const stop = renderer.stopSequences() as number[];
  assert.equal(stop.length, 1);
  assert.equal(
    (await getTokenizer(MODEL)).decode(stop),
    "<|im_end|>",
    "the twin stops on the hosted model's own token",
  );

  const full = join(dir, "full");
  const summary = await rl.train(config(full));
  assert.equal(summary.iterations, 2);
  const rows = readMetrics(join(full, "metrics.jsonl"));
  const iterations = rows.filter((r) => typeof r.reward === "number");
  assert.deepEqual(
    iterations.map((r) => r.step),
    [1, 2],
  );
  for (const r of iterations) {
    assert.equal(r.episodes, 6);
    assert.ok((r.datums as number) > 0, `iteration ${r.step} built datums`);
    assert.ok(typeof r["env/parsedOk"] === "number" && typeof r["loss/loss:sum"] === "number");
  }
  assert.deepEqual(
    rows.filter((r) => typeof r.accuracy === "number").map((r) => r.step),
    [0, 2],
    "the sampling evaluator ran on the twin before and after",
  );
  const record = recordOf(full)!;
  assert.equal(record.step, 2);
  assert.equal(record.done, true);
  const trained = trainedBatches(server, parseTinkerPath(record.statePath).runId);
  assert.equal(trained.length, 2, "one forward_backward per iteration on the server");
  assert.ok(trained.every((tokens) => tokens > 0));

  // A process that dies after iteration 2's metrics but before its record: the restart resumes
  // from iteration 1's record, cuts the log back and trains iteration 2 again on a run restored
  // from that state.
  const resumed = join(dir, "resumed");
  await assert.rejects(
    rl.train(
      config(resumed, (row) => {
        if (row.step === 2) throw new Error("died");
      }),
    ),
    /died/,
  );
  assert.equal(recordOf(resumed)!.step, 1);
  const again = await rl.train(config(resumed));
  assert.equal(again.resumedFrom, 1);
  assert.equal(again.iterationsThisProcess, 1);
  assert.deepEqual(
    readMetrics(join(resumed, "metrics.jsonl"))
      .filter((r) => typeof r.reward === "number")
      .map((r) => [r.step, r.reward]),
    iterations.map((r) => [r.step, r.reward]),
    "the same episodes, each iteration logged once",
  );
  const rerun = await rl.train(config(resumed));
  assert.equal(rerun.iterationsThisProcess, 0, "a finished run trains nothing");
});
