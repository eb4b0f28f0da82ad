// The run folder's bookkeeping: the resume record round trip and its refusals, the metrics log cut
// back to what a record vouches for, the RNG's saved state, and the progress line (TTY only).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  MetricsLog,
  ProgressLine,
  RecipeError,
  Rng,
  readMetrics,
  readRecord,
  writeRecord,
} from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "cookbook-run-dir-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const record = {
  version: 1 as const,
  loop: "supervised",
  fingerprint: '{"a":1}',
  step: 4,
  statePath: "tinker://run/weights/step-4",
  position: { epoch: 0, cursor: 16 },
  rngState: 99,
  metricsBytes: 10,
  done: false,
};

describe("resume record", () => {
  it("round trips, and nothing is left of the temporary file", () => {
    const path = join(dir, "checkpoint.json");
    writeRecord(path, record);
    assert.deepEqual(readRecord(path, "supervised", '{"a":1}'), record);
    assert.throws(() => readFileSync(`${path}.tmp`), /ENOENT/);
  });
  it("is refused for other settings or another loop", () => {
    const path = join(dir, "checkpoint.json");
    assert.throws(
      () => readRecord(path, "supervised", '{"a":2}'),
      /other settings[\s\S]*saved: +\{"a":1\}[\s\S]*now: +\{"a":2\}/,
    );
    assert.throws(() => readRecord(path, "rl", '{"a":1}'), RecipeError);
    assert.equal(readRecord(join(dir, "none.json"), "supervised", "x"), undefined);
  });
});

describe("MetricsLog", () => {
  it("cuts the file back to the bytes a record vouches for, then appends", () => {
    const path = join(dir, "metrics.jsonl");
    const log = new MetricsLog(path, 0);
    log.write({ step: 1, loss: 2 });
    const kept = log.bytes;
    log.write({ step: 2, loss: 1.5 });
    log.close();
    const resumed = new MetricsLog(path, kept);
    assert.equal(resumed.bytes, kept);
    resumed.write({ step: 2, loss: 1.25 });
    resumed.close();
    assert.deepEqual(readMetrics(path), [
      { step: 1, loss: 2 },
      { step: 2, loss: 1.25 },
    ]);
  });
});

describe("Rng", () => {
  it("continues the same sequence from a saved state", () => {
    const a = new Rng(42);
    a.next();
    const b = Rng.fromState(a.state);
    assert.deepEqual([a.next(), a.int(10), a.seed()], [b.next(), b.int(10), b.seed()]);
    assert.notEqual(new Rng(1).next(), new Rng(2).next());
  });
});

describe("ProgressLine", () => {
  it("rewrites one line on a TTY and writes nothing elsewhere", () => {
    const tty: string[] = [];
    const line = new ProgressLine({ isTTY: true, write: (t: string) => tty.push(t) });
    line.update("train", 3, 10, { loss: 1.23456, nll: undefined });
    line.done();
    assert.deepEqual(tty, ["\r\x1b[2Ktrain 3/10 loss 1.235", "\n"]);
    const pipe: string[] = [];
    const quiet = new ProgressLine({ isTTY: false, write: (t: string) => pipe.push(t) });
    quiet.update("train", 1, 2, { loss: 1 });
    quiet.done();
    assert.deepEqual(pipe, []);
  });
});
