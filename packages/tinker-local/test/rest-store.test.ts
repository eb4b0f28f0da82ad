import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { checkpointFiles } from "../src/store/checkpoint-files.js";
import { CheckpointExistsError } from "../src/store/checkpoints.js";
import { openStore, type Store } from "../src/store/index.js";
import { FakeClock } from "./helpers/server-http.js";

let dir: string;
let store: Store;
let clock: FakeClock;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tinker-local-rest-store-"));
  clock = new FakeClock();
  store = openStore(dir, { clock, checkpointSweepIntervalMs: 0 });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function makeRun(id: string, owner = "user:aaaaaaaaaaaa") {
  return store.runs.create({
    id,
    owner,
    sessionId: id.split(":")[0] ?? id,
    baseModel: "tinker-local/tiny",
    isLora: true,
    loraRank: 4,
    trainMlp: true,
    trainAttn: true,
    trainUnembed: false,
    userMetadata: { a: "b" },
  });
}

test("save writes files atomically, refuses a taken name, overwrites on request", () => {
  makeRun("sess-1:train:0");
  const files = {
    "adapter_model.safetensors": new Uint8Array([1, 2, 3]),
    "adapter_config.json": new Uint8Array([123, 125]),
  };
  const saved = store.checkpoints.save(
    {
      runId: "sess-1:train:0",
      checkpointId: "weights/a",
      kind: "training",
      owner: "user:aaaaaaaaaaaa",
      expiresAt: null,
    },
    files,
  );
  assert.equal(saved.sizeBytes, 5);
  assert.equal(saved.tinkerPath, "tinker://sess-1:train:0/weights/a");
  assert.deepEqual(
    [...checkpointFiles.read(dir, "sess-1:train:0", "weights/a", "adapter_model.safetensors")],
    [1, 2, 3],
  );
  assert.throws(
    () =>
      store.checkpoints.save(
        {
          runId: "sess-1:train:0",
          checkpointId: "weights/a",
          kind: "training",
          owner: "user:aaaaaaaaaaaa",
          expiresAt: null,
        },
        { "adapter_model.safetensors": new Uint8Array([9]) },
      ),
    CheckpointExistsError,
  );
  assert.deepEqual(
    [...checkpointFiles.read(dir, "sess-1:train:0", "weights/a", "adapter_model.safetensors")],
    [1, 2, 3],
  );
  store.checkpoints.save(
    {
      runId: "sess-1:train:0",
      checkpointId: "weights/a",
      kind: "training",
      owner: "user:aaaaaaaaaaaa",
      expiresAt: null,
      overwrite: true,
    },
    { "adapter_model.safetensors": new Uint8Array([9]) },
  );
  assert.deepEqual(checkpointFiles.list(dir, "sess-1:train:0", "weights/a"), ["adapter_model.safetensors"]);
});

test("expired checkpoints vanish with their files, lazily and by sweep", () => {
  makeRun("sess-1:train:0");
  const base = { runId: "sess-1:train:0", kind: "training" as const, owner: "user:aaaaaaaaaaaa" };
  store.checkpoints.save(
    { ...base, checkpointId: "weights/a", expiresAt: clock.now() + 1000 },
    { f: new Uint8Array(1) },
  );
  store.checkpoints.save(
    { ...base, checkpointId: "weights/b", expiresAt: clock.now() + 2000 },
    { f: new Uint8Array(1) },
  );
  clock.advance(1500);
  assert.equal(store.checkpoints.get("sess-1:train:0", "weights/a"), undefined);
  assert.equal(checkpointFiles.exists(dir, "sess-1:train:0", "weights/a"), false);
  assert.ok(existsSync(checkpointFiles.directory(dir, "sess-1:train:0", "weights/b")));
  clock.advance(1000);
  assert.equal(store.checkpoints.sweep(), 1);
  assert.equal(checkpointFiles.exists(dir, "sess-1:train:0", "weights/b"), false);
});
