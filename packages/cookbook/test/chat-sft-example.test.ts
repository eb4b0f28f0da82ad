// examples/chat-sft.ts as a user runs it: a child process against the tinker-local it starts in
// itself (hosted-service variables removed, so no test run can reach a real account), a few steps
// on tinker-local/tiny. Its last stdout line is the JSON summary; the loss must have fallen.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "tinker-chat-sft-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

interface Summary {
  model: string;
  renderer: string;
  examples: number;
  steps: number;
  firstLoss: number;
  lastLoss: number;
  firstNll: number;
  lastNll: number;
  answer: string;
}

/** Runs the example offline and returns its JSON summary line, after checking it exited cleanly. */
function run(args: string[]): Summary {
  const env = { ...process.env };
  for (const name of ["TINKER_BASE_URL", "TINKER_API_KEY", "TINKER_BASE_MODEL", "TINKER_CREDENTIAL_CMD"])
    delete env[name];
  const child = spawnSync(
    process.execPath,
    ["--conditions=tinker-source", "--import", "tsx", "examples/chat-sft.ts", ...args, "--data-dir", dataDir],
    { cwd: root, env, encoding: "utf8", timeout: 200_000 },
  );
  const log = `exit ${child.status}\n--- stdout\n${child.stdout}\n--- stderr\n${child.stderr}`;
  assert.equal(child.status, 0, log);
  const summary = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Summary;
  assert.ok(Number.isFinite(summary.firstLoss) && Number.isFinite(summary.lastLoss), log);
  assert.equal(typeof summary.answer, "string");
  return summary;
}

test("chat-sft: trains role_colon on the shipped conversations and the loss falls", () => {
  const summary = run([
    "--steps",
    "6",
    "--model",
    "tinker-local/tiny",
    "--lr",
    "0.01",
    "--max-length",
    "128",
  ]);
  assert.equal(summary.model, "tinker-local/tiny");
  assert.equal(summary.renderer, "role_colon");
  assert.equal(summary.examples, 28);
  assert.equal(summary.steps, 6);
  assert.ok(summary.lastLoss < summary.firstLoss, `loss fell: ${summary.firstLoss} -> ${summary.lastLoss}`);
  assert.ok(
    summary.lastNll < summary.firstNll,
    `held-out NLL fell: ${summary.firstNll} -> ${summary.lastNll}`,
  );
  assert.equal(typeof summary.answer, "string");
});

test("chat-sft: --model Qwen/Qwen3-4B-Instruct-2507 runs unchanged offline, on tinker-local's twin", () => {
  // The twin has the hosted model's name and real tokenizer, so the example picks the hosted
  // model's renderer (qwen3_instruct) and its tokens, exactly as against the service.
  const summary = run([
    "--model",
    "Qwen/Qwen3-4B-Instruct-2507",
    "--steps",
    "3",
    "--batch",
    "2",
    "--rank",
    "4",
    "--lr",
    "0.01",
  ]);
  assert.equal(summary.renderer, "qwen3_instruct");
  assert.equal(summary.examples, 28);
  assert.ok(summary.lastLoss < summary.firstLoss, `loss fell: ${summary.firstLoss} -> ${summary.lastLoss}`);
});

test("chat-sft: a bad flag exits 2 with a message, before anything trains", () => {
  const run = spawnSync(
    process.execPath,
    ["--conditions=tinker-source", "--import", "tsx", "examples/chat-sft.ts", "--steps", "zero"],
    { cwd: root, encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(run.status, 2);
  assert.match(run.stderr, /chat-sft: --steps must be a positive integer/);
});
