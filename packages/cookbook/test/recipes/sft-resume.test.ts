// Resume exactness of supervised.train against a real tinker-local: a run SIGKILLed at random
// steps (twice) and restarted with the same command ends with the same adapter tensors as an
// uninterrupted run, and the server's usage records show that the chain of training runs behind
// the final weights trained every batch exactly once, in order.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalServer, parseTinkerPath, startServer } from "tinker-local";
import { adapterOf, recordOf, root, runChild, trainedBatches } from "./kill-restart.js";

const child = fileURLToPath(new URL("fixtures/sft-child.ts", import.meta.url));
const data = join(root, "examples/data/kitchen-chat.jsonl");
const dir = mkdtempSync(join(tmpdir(), "cookbook-sft-resume-"));
let server: LocalServer;
before(async () => {
  server = await startServer({ port: 0, dataDir: join(dir, "server") });
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a supervised run SIGKILLed twice and restarted ends with the uninterrupted run's weights", async () => {
  const steps = 12;
  const uninterrupted = join(dir, "uninterrupted");
  const done = await runChild(server, child, [uninterrupted, data]);
  assert.equal(done.killed, false);
  const full = recordOf(uninterrupted)!;
  assert.equal(full.done, true);
  assert.equal(full.step, steps);

  // Two kill points at random (logged, so a failure can be replayed by hand).
  const first = 2 + Math.floor(Math.random() * 4); // 2..5
  const second = first + 2 + Math.floor(Math.random() * 4); // at most 11
  const note = `killed after steps ${first} and ${second}`;
  const resumed = join(dir, "resumed");
  const chain: { runId: string; from: number; to: number }[] = [];
  let from = 0;
  for (const killAt of [first, second, undefined]) {
    const result = await runChild(
      server,
      child,
      [resumed, data],
      killAt === undefined ? undefined : `step ${killAt}\n`,
    );
    assert.equal(result.killed, killAt !== undefined, `${note}\n${result.stdout}\n${result.stderr}`);
    const r = recordOf(resumed);
    if (r === undefined) continue; // killed before the first save: the restart begins afresh
    // A run that died before its first save leaves the record on its parent's checkpoint: that
    // link then adds no step (to === from).
    chain.push({ runId: parseTinkerPath(r.statePath).runId, from, to: r.step });
    from = r.step;
    if (killAt === undefined) {
      const summary = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as {
        steps: number;
        resumedFrom: number;
      };
      assert.equal(summary.steps, steps);
      assert.ok(summary.resumedFrom > 0 && summary.resumedFrom < steps, note);
    }
  }
  const final = recordOf(resumed)!;
  assert.equal(final.done, true);

  const a = await adapterOf(server, full.statePath, join(dir, "downloads", "uninterrupted"));
  const b = await adapterOf(server, final.statePath, join(dir, "downloads", "resumed"));
  assert.ok(a.tensors.length > 1000);
  assert.deepEqual(b.header, a.header);
  assert.ok(a.tensors.equals(b.tensors), `adapter bytes differ (${note})`);

  // The batches behind the final weights: the first (to - from) of each run in the chain. Position
  // by position they are the uninterrupted run's batches, none twice.
  const reference = trainedBatches(server, parseTinkerPath(full.statePath).runId);
  assert.equal(reference.length, steps);
  const lineage: number[] = [];
  for (const link of chain) {
    const trained = trainedBatches(server, link.runId);
    assert.ok(trained.length >= link.to - link.from, `${note}: run ${link.runId} trained ${trained.length}`);
    lineage.push(...trained.slice(0, link.to - link.from));
  }
  assert.deepEqual(lineage, reference, note);
  const last = chain.at(-1)!;
  assert.equal(
    trainedBatches(server, last.runId).length,
    steps - last.from,
    "the final run trained only what was left",
  );
  assert.notEqual(new Set(reference).size, 1, "batches are told apart by their token counts");
});
