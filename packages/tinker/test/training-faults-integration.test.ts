// The promises of the training and session clients that only real faults can test: a submit whose
// answer was lost is retried with the same seq_id and applied once (the weights equal a clean run's,
// byte for byte); a retried save that meets 409 counts as saved; a save retried by the outer layer
// gets a new idempotency key but not a second application; the heartbeat loop never retries a beat.
// Everything is read from a real tinker-local's records (requests, applied seq ids, checkpoints).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { Datum, ServiceClient, type TrainingClient } from "tinker-ts";

const KEY = "tml-local-dev";
const MODEL = "tinker-local/tiny";
const LORA = { rank: 4, seed: 21 };
const BATCHES = [
  [
    [109, 97, 112, 108, 101, 61, 77, 65, 80, 76, 69, 10],
    [111, 97, 107, 61, 79, 65, 75, 10],
  ],
  [[98, 105, 114, 99, 104, 61, 66, 73, 82, 67, 72, 10]],
];

describe("training and session clients under real faults", () => {
  let server: LocalServer;
  let work: string;
  const services: ServiceClient[] = [];

  before(async () => {
    server = await startServer({ port: 0 });
    work = mkdtempSync(join(tmpdir(), "tinker-faults-"));
  });
  after(async () => {
    await Promise.all(services.map((s) => s.close()));
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });
  afterEach(() => {
    server.faults.clear();
  });

  const service = (options: ConstructorParameters<typeof ServiceClient>[0] = {}) => {
    const s = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", ...options });
    services.push(s);
    return s;
  };

  const train = async (training: TrainingClient) => {
    for (const batch of BATCHES) {
      const data = batch.map((tokens) => Datum.forNextTokenPrediction(tokens));
      await Promise.all([
        training.forwardBackward(data, "cross_entropy"),
        training.optimStep({ learningRate: 0.01 }),
      ]);
    }
  };

  const adapterBytes = async (s: ServiceClient, path: string, dir: string) => {
    await s.createRestClient().downloadCheckpoint(path, join(work, dir));
    return new Uint8Array(readFileSync(join(work, dir, "adapter_model.safetensors")));
  };

  const recordsOf = (path: string, since: number) =>
    server.requests().filter((r) => r.path === path && r.time >= since);

  it("training submits whose answer was lost: same seq_id, applied once, the clean run's weights", async () => {
    const clean = service();
    const cleanTraining = await clean.createLoraTrainingClient(MODEL, LORA);
    await train(cleanTraining);
    const cleanBytes = await adapterBytes(clean, (await cleanTraining.saveState("clean")).path, "clean");

    const faulty = service();
    const training = await faulty.createLoraTrainingClient(MODEL, LORA);
    const modelId = training.modelId;
    const since = Date.now();
    // Every training submit of the first batch is applied by the server, then its answer is lost.
    server.faults.add({ path: "/api/v1/forward_backward", answerLost: true });
    server.faults.add({ path: "/api/v1/optim_step", answerLost: true });
    await train(training);
    const faultyBytes = await adapterBytes(faulty, (await training.saveState("faulty")).path, "faulty");

    for (const path of ["/api/v1/forward_backward", "/api/v1/optim_step"]) {
      const records = recordsOf(path, since);
      // Batch 1: the lost answer and its retry (same key: the same call, hence the same body and
      // seq_id); batch 2: one clean request with a key of its own.
      assert.deepEqual(
        records.map((r) => [r.status, r.lostStatus]),
        [
          [0, 200],
          [200, null],
          [200, null],
        ],
        path,
      );
      assert.equal(records[0]?.idempotencyKey, records[1]?.idempotencyKey, `${path}: the retry's key`);
      assert.notEqual(records[1]?.idempotencyKey, records[2]?.idempotencyKey);
    }
    // Applied once each, in order: 1-2 the first batch, 3-4 the second, 5 the save.
    assert.deepEqual(server.models.appliedSeqIds(modelId), [1, 2, 3, 4, 5]);
    assert.equal(faultyBytes.length > 0, true);
    assert.deepEqual(faultyBytes, cleanBytes, "bit-identical weights to a clean run");
  });

  it("a save whose answer was lost and whose retry meets 409 is reported as saved", async () => {
    const s = service();
    const training = await s.createLoraTrainingClient(MODEL, LORA);
    await train(training);
    const since = Date.now();
    // The first attempt saves and loses its answer. save_weights has no HTTP-layer retries, so the
    // outer layer resubmits (new key, same seq_id). tinker-local would answer that repeat with the
    // original future; a server that does not merge repeats answers 409 for the now-taken name,
    // which is what the second fault stands in for, with the body and header tinker-local uses.
    server.faults.add({ path: "/api/v1/save_weights", answerLost: true });
    server.faults.add({
      path: "/api/v1/save_weights",
      status: 409,
      body: { detail: "Checkpoint already exists; save with overwrite: true or pick another name" },
      headers: { "x-should-retry": "false" },
    });
    const { path } = await training.saveState("after-409");
    assert.equal(path, `tinker://${training.modelId}/weights/after-409`);
    const records = recordsOf("/api/v1/save_weights", since);
    assert.deepEqual(
      records.map((r) => [r.status, r.lostStatus]),
      [
        [0, 200],
        [409, null],
      ],
    );
    assert.notEqual(
      records[0]?.idempotencyKey,
      records[1]?.idempotencyKey,
      "the outer layer makes a new call",
    );
    // The first attempt really saved it: the checkpoint is listed, once, and holds the weights.
    const listed = await s.createRestClient().listCheckpoints(training.modelId);
    assert.deepEqual(
      listed.items.map((c) => c.tinkerPath).filter((p) => p === path),
      [path],
    );
    assert.ok((await adapterBytes(s, path, "after-409")).length > 0);
  });

  it("a save retried by the outer layer after a 503: a new key, the same seq_id, one save", async () => {
    const s = service();
    const training = await s.createLoraTrainingClient(MODEL, LORA);
    const since = Date.now();
    server.faults.add({ path: "/api/v1/save_weights", status: 503 });
    const { path } = await training.saveState("after-503");
    const records = recordsOf("/api/v1/save_weights", since);
    assert.deepEqual(
      records.map((r) => r.status),
      [503, 200],
    );
    assert.notEqual(records[0]?.idempotencyKey, records[1]?.idempotencyKey);
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), [1], "seq 1, applied once");
    const listed = await s.createRestClient().listCheckpoints(training.modelId);
    assert.deepEqual(
      listed.items.map((c) => c.tinkerPath),
      [path],
    );
  });

  it("the heartbeat loop never retries a beat: a 503 is one failed beat; the next beat is a new call", async () => {
    const s = service({ heartbeat: { intervalMs: 30 } });
    const sessionId = await s.openSession();
    const since = Date.now();
    server.faults.add({ path: "/api/v1/session_heartbeat", status: 503, times: 1 });
    // Wait for the failed beat and two good ones after it (by the client's own counters), or give
    // up after 40 beats: a retried 503 would never count as a failure.
    for (;;) {
      const stats = s.heartbeatStats();
      if (stats !== undefined && stats.failures >= 1 && stats.successes >= 2) break;
      if ((stats?.beatsSent ?? 0) >= 40) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await s.close();
    const records = recordsOf("/api/v1/session_heartbeat", since);
    const failedAt = records.findIndex((r) => r.status === 503);
    assert.ok(failedAt >= 0, "the 503 reached the client");
    assert.equal(s.heartbeatStats()?.failures, 1, "one failure, not absorbed by a retry");
    // Every beat is its own call: no key appears twice (a retry would reuse its beat's key).
    const keys = records.map((r) => r.idempotencyKey);
    assert.equal(new Set(keys).size, keys.length, `keys: ${keys.join(", ")}`);
    assert.equal(server.store.sessions.get(sessionId)?.expiredAt, null);
  });
});
