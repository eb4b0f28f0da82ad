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

test("chat-sft: trains role_colon on the shipped conversations and the loss falls", () => {
  const env = { ...process.env };
  for (const name of ["TINKER_BASE_URL", "TINKER_API_KEY", "TINKER_BASE_MODEL", "TINKER_CREDENTIAL_CMD"])
    delete env[name];
  const args = [
    "--steps",
    "6",
    "--model",
    "tinker-local/tiny",
    "--lr",
    "0.01",
    "--max-length",
    "128",
    "--data-dir",
    dataDir,
  ];
  const run = spawnSync(
    process.execPath,
    ["--conditions=tinker-source", "--import", "tsx", "examples/chat-sft.ts", ...args],
    {
      cwd: root,
      env,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  const log = `exit ${run.status}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  assert.equal(run.status, 0, log);
  const last = run.stdout.trim().split("\n").at(-1)!;
  const summary = JSON.parse(last) as Record<string, unknown>;
  assert.equal(summary.model, "tinker-local/tiny");
  assert.equal(summary.renderer, "role_colon");
  assert.equal(summary.examples, 28);
  assert.equal(summary.steps, 6);
  const first = summary.firstLoss as number;
  const lastLoss = summary.lastLoss as number;
  assert.ok(Number.isFinite(first) && Number.isFinite(lastLoss), log);
  assert.ok(lastLoss < first, `loss fell: ${first} -> ${lastLoss}`);
  const firstNll = summary.firstNll as number;
  const lastNll = summary.lastNll as number;
  assert.ok(lastNll < firstNll, `held-out NLL fell: ${firstNll} -> ${lastNll}`);
  assert.equal(typeof summary.answer, "string");
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
