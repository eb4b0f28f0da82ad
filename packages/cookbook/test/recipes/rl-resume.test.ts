// examples/rl-arithmetic.ts as a user runs it, against a tinker-local the test starts: an
// uninterrupted run, and one SIGKILLed at a random iteration and restarted with the same command.
// Both end with the same adapter tensors; the resumed chain ran every training step once; the
// last stdout line is the JSON summary.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type LocalServer, parseTinkerPath, startServer } from "tinker-local";
import { readMetrics } from "../../src/index.js";
import { adapterOf, recordOf, root, runChild, trainedBatches } from "./kill-restart.js";

const script = join(root, "examples/rl-arithmetic.ts");
const dir = mkdtempSync(join(tmpdir(), "cookbook-rl-resume-"));
let server: LocalServer;
before(async () => {
  server = await startServer({ port: 0, dataDir: join(dir, "server") });
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const iterations = 6;
const args = (runDir: string) => [
  "--model",
  "tinker-local/tiny",
  "--iterations",
  String(iterations),
  "--groups",
  "2",
  "--group-size",
  "4",
  "--lr",
  "0.01",
  "--save-every",
  "2",
  "--run-dir",
  runDir,
];

test("rl-arithmetic SIGKILLed at a random iteration and restarted ends with the uninterrupted run's weights", async () => {
  const uninterrupted = join(dir, "uninterrupted");
  const done = await runChild(server, script, args(uninterrupted));
  const summary = JSON.parse(done.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  assert.equal(summary.model, "tinker-local/tiny");
  assert.equal(summary.renderer, "role_colon");
  assert.equal(summary.iterations, iterations);
  assert.equal(typeof summary.rewardFirst5, "number");
  assert.equal(typeof summary.rewardLast5, "number");
  const full = recordOf(uninterrupted)!;

  const killAt = 3 + Math.floor(Math.random() * 3); // iteration 3..5: a checkpoint exists
  const resumed = join(dir, "resumed");
  const killed = await runChild(server, script, args(resumed), `iter   ${killAt}/`);
  assert.equal(killed.killed, true);
  const saved = recordOf(resumed)!;
  const restarted = await runChild(server, script, args(resumed));
  const after = JSON.parse(restarted.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  assert.equal(after.resumedFrom, saved.step, `killed at ${killAt}`);
  assert.equal(after.rewardFirst5, summary.rewardFirst5, "the same episodes were played");
  assert.equal(after.rewardLast5, summary.rewardLast5);

  const final = recordOf(resumed)!;
  const a = await adapterOf(server, full.statePath, join(dir, "downloads", "a"));
  const b = await adapterOf(server, final.statePath, join(dir, "downloads", "b"));
  assert.deepEqual(b.header, a.header);
  assert.ok(a.tensors.equals(b.tensors), `adapter bytes differ (killed at ${killAt})`);

  const reference = trainedBatches(server, parseTinkerPath(full.statePath).runId);
  // An iteration whose groups all scored alike trains nothing: count the ones that trained.
  const trainedBefore = readMetrics(join(uninterrupted, "metrics.jsonl")).filter(
    (r) => (r.step as number) <= saved.step && (r.datums as number) > 0,
  ).length;
  const first = trainedBatches(server, parseTinkerPath(saved.statePath).runId).slice(0, trainedBefore);
  assert.equal(first.length, trainedBefore);
  const rest = trainedBatches(server, parseTinkerPath(final.statePath).runId);
  assert.ok(reference.length > 0, "the run trained at least once");
  assert.equal(rest.length, reference.length - first.length, "the restart trained only the iterations left");
  assert.deepEqual([...first, ...rest], reference);
});
