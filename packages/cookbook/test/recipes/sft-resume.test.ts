// Resume exactness of supervised.train against a real tinker-local: a run SIGKILLed at random
// steps (twice) and restarted with the same command ends with the same adapter bytes as an
// uninterrupted run, and the server's usage records show that the chain of training runs behind
// the final weights trained every batch exactly once, in order.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_LOCAL_API_KEY,
  type LocalServer,
  ownerIdForKey,
  parseTinkerPath,
  startServer,
} from "tinker-local";
import { downloadCheckpoint } from "tinker-ts";
import type { ResumeRecord } from "../../src/index.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const child = fileURLToPath(new URL("fixtures/sft-child.ts", import.meta.url));
const data = join(root, "examples/data/kitchen-chat.jsonl");
const dir = mkdtempSync(join(tmpdir(), "cookbook-sft-resume-"));
let server: LocalServer;
before(async () => {
  server = await startServer({ port: 0, dataDir: join(dir, "server") });
});
after(async () => {
  await server?.close();
  if (!process.env.KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
});

/** Runs the child to its end, or SIGKILLs it once it printed `step killAt`. */
function run(runDir: string, killAt?: number): Promise<{ killed: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc: ChildProcess = spawn(
      process.execPath,
      ["--conditions=tinker-source", "--import", "tsx", child, runDir, data],
      {
        cwd: root,
        env: { ...process.env, TINKER_BASE_URL: server.url, TINKER_API_KEY: DEFAULT_LOCAL_API_KEY },
      },
    );
    let stdout = "";
    let stderr = "";
    proc.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAt !== undefined && stdout.includes(`step ${killAt}\n`)) proc.kill("SIGKILL");
    });
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve({ killed: true, stdout, stderr });
      else if (code === 0) resolve({ killed: false, stdout, stderr });
      else reject(new Error(`child exited ${code}\n${stdout}\n${stderr}`));
    });
  });
}

function record(runDir: string): ResumeRecord {
  return JSON.parse(readFileSync(join(runDir, "checkpoint.json"), "utf8")) as ResumeRecord;
}

/** The record, or undefined when the process died before its first save. */
function recordIfAny(runDir: string): ResumeRecord | undefined {
  return existsSync(join(runDir, "checkpoint.json")) ? record(runDir) : undefined;
}

/**
 * The adapter's tensors as saved: the safetensors header without its `__metadata__` (tinker-local
 * writes the run's LoRA config there, and a run created from a checkpoint does not carry the
 * original `seed` into it) and the raw tensor bytes.
 */
async function adapter(statePath: string, name: string): Promise<{ header: unknown; tensors: Buffer }> {
  const target = join(dir, "downloads", name);
  await downloadCheckpoint(statePath, target, {
    clientOptions: { baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY },
  });
  const bytes = readFileSync(join(target, "adapter_model.safetensors"));
  const length = Number(bytes.readBigUInt64LE(0));
  const { __metadata__: _, ...header } = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8"));
  return { header, tensors: bytes.subarray(8 + length) };
}

/** Token counts of the forward_backward calls of one training run, in order. */
function trainedBatches(runId: string): number[] {
  return server.store.usage
    .listByOwner(ownerIdForKey(DEFAULT_LOCAL_API_KEY), 0, Number.MAX_SAFE_INTEGER)
    .filter((e) => e.modelId === runId && e.operation === "forward_backward")
    .sort((a, b) => a.at - b.at)
    .map((e) => e.tokenCount ?? -1);
}

test("a supervised run SIGKILLed twice and restarted ends with the uninterrupted run's weights", async () => {
  const steps = 12;
  const uninterrupted = join(dir, "uninterrupted");
  const done = await run(uninterrupted);
  assert.equal(done.killed, false);
  const full = record(uninterrupted);
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
    const result = await run(resumed, killAt);
    assert.equal(result.killed, killAt !== undefined, `${note}\n${result.stdout}\n${result.stderr}`);
    const r = recordIfAny(resumed);
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
  assert.equal(record(resumed).done, true);

  const a = await adapter(full.statePath, "uninterrupted");
  const b = await adapter(record(resumed).statePath, "resumed");
  assert.ok(a.tensors.length > 1000);
  assert.deepEqual(b.header, a.header);
  assert.ok(a.tensors.equals(b.tensors), `adapter bytes differ (${note})`);

  // The batches behind the final weights: the first k of each run in the chain, then the rest of
  // the last one. Position by position they are the uninterrupted run's batches, none twice.
  const reference = trainedBatches(parseTinkerPath(full.statePath).runId);
  assert.equal(reference.length, steps);
  const lineage: number[] = [];
  for (const link of chain) {
    const trained = trainedBatches(link.runId);
    assert.ok(trained.length >= link.to - link.from, `${note}: run ${link.runId} trained ${trained.length}`);
    lineage.push(...trained.slice(0, link.to - link.from));
  }
  assert.deepEqual(lineage, reference, note);
  const last = chain.at(-1)!;
  assert.equal(
    trainedBatches(last.runId).length,
    steps - last.from,
    "the final run trained only what was left",
  );
  assert.notEqual(new Set(reference).size, 1, "batches are told apart by their token counts");
});
