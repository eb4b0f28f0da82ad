// examples/resume-from-checkpoint.ts as a child process: the run restored with its optimizer state
// prints the uninterrupted run's losses; the weights-only one departs after its first step.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { describeRun, runExample } from "./helpers/run-example.js";

const dataDir = mkdtempSync(join(tmpdir(), "tinker-examples-resume-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test("resume-from-checkpoint: resuming with the optimizer state reproduces the uninterrupted losses", async () => {
  const run = await runExample("resume-from-checkpoint.ts", [
    ...["--model", "tinker-local/tiny", "--steps-before", "3", "--steps-after", "3", "--batch", "4"],
    ...["--seed", "1", "--data-dir", dataDir],
  ]);
  assert.equal(run.code, 0, describeRun(run));
  assert.match(run.stdout, /step +uninterrupted +resumed \(\+optimizer\) +resumed \(weights only\)/);

  const rows = [...run.stdout.matchAll(/^ +(\d+) +(\S+) +(\S+) +(\S+)$/gm)].map((m) => ({
    step: Number(m[1]),
    uninterrupted: m[2],
    resumed: m[3],
    weightsOnly: m[4],
  }));
  assert.deepEqual(
    rows.map((r) => r.step),
    [4, 5, 6],
    describeRun(run),
  );
  for (const row of rows) {
    assert.ok(Number.isFinite(Number(row.uninterrupted)), `step ${row.step}: ${row.uninterrupted}`);
    assert.equal(row.resumed, row.uninterrupted, `step ${row.step}`);
  }
  // Same weights at the first resumed step; then Adam's fresh moments make another update.
  assert.equal(rows[0]?.weightsOnly, rows[0]?.uninterrupted);
  assert.notEqual(rows[1]?.weightsOnly, rows[1]?.uninterrupted);

  assert.match(run.stdout, /^resumed with optimizer state: identical to the uninterrupted run$/m);
  assert.match(run.stdout, /^resumed with weights only: different from step 5 on/m);
  assert.match(run.stderr, /^checkpoint: tinker:\/\/\S+\/weights\/resume-demo-step-3$/m);
});
