// Many rollouts in flight at once must not pile listeners onto one emitter or signal: Node then
// prints MaxListenersExceededWarning (more than 10 listeners for one event), which reads as a leak
// to whoever runs the example. It did, when the SDK added one abort listener per request, poll and
// sleep to the client's lifetime signal (fixed there by one listener per signal that fans out:
// client/abort-watch.ts); with that pattern put back, this test fails with the warning. rl.train with 96 episodes per iteration, 48 in flight, and a
// sampling evaluator with 24 in flight, against a tinker-local in this process; the test collects
// every process warning during the run and expects none of that kind.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DEFAULT_LOCAL_API_KEY, type LocalServer, startServer } from "tinker-local";
import { getTokenizer, ServiceClient } from "tinker-ts";
import { getRenderer, rl, SamplingEvaluator } from "../../src/index.js";

const MODEL = "tinker-local/tiny";
const dir = mkdtempSync(join(tmpdir(), "cookbook-rl-listeners-"));
let server: LocalServer;
before(async () => {
  server = await startServer({ port: 0, dataDir: join(dir, "server") });
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a run with many concurrent rollouts and evaluations adds no MaxListenersExceededWarning", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  const service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY });
  try {
    const renderer = getRenderer("role_colon", await getTokenizer(MODEL));
    const problems = Array.from({ length: 48 }, (_, i) => ({
      messages: [{ role: "user" as const, content: `${i % 7}+${i % 3}=` }],
    }));
    const summary = await rl.train({
      service,
      model: MODEL,
      groups: rl.arithmeticGroups(renderer, 12, 8),
      envName: "arithmetic",
      runDir: join(dir, "run"),
      iterations: 1,
      learningRate: 0.01,
      rank: 4,
      maxTokens: 2,
      concurrency: 48,
      samplingEvaluator: new SamplingEvaluator(problems, {
        renderer,
        maxTokens: 2,
        concurrency: 24,
        score: () => 0,
      }),
      samplingEvalEvery: 1,
      saveEvery: 1,
      progress: false,
    });
    assert.equal(summary.iterations, 1);
    // Warnings are emitted on the next tick: let them arrive before looking.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    await service.close();
    process.off("warning", onWarning);
  }
  const leaks = warnings.filter((w) => w.name === "MaxListenersExceededWarning");
  assert.deepEqual(
    leaks.map((w) => w.message),
    [],
  );
});
