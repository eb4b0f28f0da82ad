// save_weights, save_weights_for_sampler and load_weights over real HTTP: files and rows written,
// 409 on a taken name, exact restore (weights and optimizer state), create-via-load, and who may
// load what.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, ownerIdForKey, startServer } from "tinker-local";
import { checkpointFiles } from "../src/store/checkpoint-files.js";
import { parseTinkerPath } from "../src/store/checkpoint-ids.js";
import { createSession, errorDetail, FakeClock, get, post } from "./helpers/server-http.js";
import {
  bytesEqual,
  ceDatum,
  createModel,
  forwardBackward,
  optimStep,
  poll,
  resultOf,
  saveWeights,
  submit,
  submitAndWait,
  TEXT,
} from "./helpers/training-http.js";

const KEY = "tml-local-dev";
const OTHER_KEY = "tml-other-user";
const LORA = { rank: 4, seed: 11 };
const DATA = [ceDatum(TEXT), ceDatum("a stitch in time")];

function files(server: LocalServer, tinkerPath: string) {
  const { runId, checkpointId } = parseTinkerPath(tinkerPath);
  return {
    names: checkpointFiles.list(server.dataDir, runId, checkpointId),
    read: (name: string) => checkpointFiles.read(server.dataDir, runId, checkpointId, name),
  };
}

describe("checkpoints", () => {
  const clock = new FakeClock();
  let server: LocalServer;
  let sessionId: string;
  let modelSeq = 0;
  const newModel = (lora = LORA, key = KEY, session = sessionId) =>
    createModel(server.url, session, modelSeq++, lora, key);

  /** Two training steps from seq `from`; returns the next seq id. */
  async function train(modelId: string, from: number, steps = 2, key = KEY): Promise<number> {
    let seq = from;
    for (let i = 0; i < steps; i++) {
      await forwardBackward(server.url, modelId, seq++, DATA, { key });
      await optimStep(server.url, modelId, seq++, 0.01, key);
    }
    return seq;
  }

  before(async () => {
    server = await startServer({ apiKeys: [KEY, OTHER_KEY], clock, longPollHoldMs: 1000 });
    sessionId = await createSession(server.url, KEY);
  });
  after(() => server.close());

  test("save_weights writes the adapter, its config and the optimizer state, and records the checkpoint", async () => {
    const modelId = await newModel();
    const seq = await train(modelId, 1);
    const { path } = await saveWeights(server.url, modelId, seq, "step-2", { ttl_seconds: 3600 });
    assert.equal(path, `tinker://${modelId}/weights/step-2`);
    const saved = files(server, path);
    assert.deepEqual(saved.names, [
      "adapter_config.json",
      "adapter_model.safetensors",
      "optimizer.safetensors",
    ]);
    const config = JSON.parse(Buffer.from(saved.read("adapter_config.json")).toString("utf8"));
    assert.equal(config.peft_type, "LORA");
    assert.equal(config.r, 4);
    assert.equal(config.base_model_name_or_path, "tinker-local/tiny");
    const row = server.store.checkpoints.get(modelId, "weights/step-2");
    assert.equal(row?.kind, "training");
    assert.equal(row?.owner, ownerIdForKey(KEY));
    assert.equal(row?.expiresAt, clock.now() + 3600 * 1000);
    assert.ok((row?.sizeBytes ?? 0) > saved.read("adapter_model.safetensors").length);
    // Listed by the REST side.
    const listed = await get(server.url, `/api/v1/training_runs/${modelId}/checkpoints`);
    assert.deepEqual(
      (listed.json as { checkpoints: { tinker_path: string }[] }).checkpoints.map((c) => c.tinker_path),
      [path],
    );
  });

  test("a taken name is 409 at submit unless overwrite is set; overwrite replaces the files", async () => {
    const modelId = await newModel();
    const { path } = await saveWeights(server.url, modelId, 1, "same");
    const before = files(server, path).read("adapter_model.safetensors");
    const duplicate = await post(server.url, "/api/v1/save_weights", {
      model_id: modelId,
      path: "same",
      seq_id: 2,
      overwrite: false,
      type: "save_weights",
    });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.headers.get("x-should-retry"), "false");
    assert.match(errorDetail(duplicate), /already exists/);
    // seq 2 was not taken by the refused save.
    const seq = await train(modelId, 2, 1);
    await saveWeights(server.url, modelId, seq, "same", { overwrite: true });
    const after = files(server, path).read("adapter_model.safetensors");
    assert.ok(!bytesEqual(before, after));
  });

  test("a second save of a name still queued is 409 too", async () => {
    const modelId = await newModel();
    // seq 2 waits for seq 1, so its name is taken but not yet written.
    const held = await submit(server.url, "/api/v1/save_weights", {
      model_id: modelId,
      path: "queued",
      seq_id: 2,
      type: "save_weights",
    });
    const second = await post(server.url, "/api/v1/save_weights", {
      model_id: modelId,
      path: "queued",
      seq_id: 3,
      type: "save_weights",
    });
    assert.equal(second.status, 409);
    await forwardBackward(server.url, modelId, 1, DATA);
    assert.equal(
      (await resultOf<{ path: string }>(server.url, held)).path,
      `tinker://${modelId}/weights/queued`,
    );
  });

  test("bad names are 400", async () => {
    const modelId = await newModel();
    for (const name of ["a/b", "", ".."]) {
      const result = await post(server.url, "/api/v1/save_weights", {
        model_id: modelId,
        path: name,
        seq_id: 1,
        type: "save_weights",
      });
      assert.equal(result.status, 400, name);
    }
  });

  test("load_weights with the optimizer resumes training exactly; without it, only the weights match", async () => {
    const original = await newModel();
    let seq = await train(original, 1);
    const { path } = await saveWeights(server.url, original, seq++, "resume");
    seq = await train(original, seq);
    const uninterrupted = files(server, (await saveWeights(server.url, original, seq, "final")).path);

    const resumed = await newModel();
    const loaded = await submitAndWait(server.url, "/api/v1/load_weights", {
      model_id: resumed,
      seq_id: 1,
      path,
      optimizer: true,
      type: "load_weights",
    });
    assert.deepEqual(loaded, { path, model_id: resumed });
    const afterLoad = await train(resumed, 2);
    const continued = files(server, (await saveWeights(server.url, resumed, afterLoad, "final")).path);
    for (const name of ["adapter_model.safetensors", "optimizer.safetensors"]) {
      assert.ok(bytesEqual(continued.read(name), uninterrupted.read(name)), name);
    }

    const weightsOnly = await newModel();
    await submitAndWait(server.url, "/api/v1/load_weights", {
      model_id: weightsOnly,
      seq_id: 1,
      path,
      optimizer: false,
      type: "load_weights",
    });
    const justLoaded = files(server, (await saveWeights(server.url, weightsOnly, 2, "loaded")).path);
    assert.ok(
      bytesEqual(
        justLoaded.read("adapter_model.safetensors"),
        files(server, path).read("adapter_model.safetensors"),
      ),
    );
    await train(weightsOnly, 3);
    const fresh = files(server, (await saveWeights(server.url, weightsOnly, 7, "final")).path);
    // A fresh optimizer takes other steps than the restored one.
    assert.ok(
      !bytesEqual(fresh.read("adapter_model.safetensors"), uninterrupted.read("adapter_model.safetensors")),
    );
  });

  test("create-via-load makes the model from the checkpoint (seq 0) and trains on from there", async () => {
    const original = await newModel({ rank: 2, seed: 5 });
    let seq = await train(original, 1, 1);
    const { path } = await saveWeights(server.url, original, seq++, "base");
    seq = await train(original, seq, 1);
    const expected = files(server, (await saveWeights(server.url, original, seq, "end")).path);

    const modelSeqId = modelSeq++;
    const requestId = await submit(server.url, "/api/v1/load_weights", {
      session_id: sessionId,
      model_seq_id: modelSeqId,
      path,
      optimizer: true,
      type: "load_weights",
    });
    const modelId = `${sessionId}:train:${modelSeqId}`;
    assert.deepEqual(await resultOf(server.url, requestId), { model_id: modelId, path });
    const run = server.store.runs.get(modelId);
    assert.equal(run?.loraRank, 2);
    const next = await train(modelId, 1, 1);
    const got = files(server, (await saveWeights(server.url, modelId, next, "end")).path);
    assert.ok(bytesEqual(got.read("adapter_model.safetensors"), expected.read("adapter_model.safetensors")));
    const info = await post(server.url, "/api/v1/get_info", { model_id: modelId, type: "get_info" });
    assert.equal((info.json as { lora_rank: number }).lora_rank, 2);

    const wrongBase = await post(server.url, "/api/v1/load_weights", {
      session_id: sessionId,
      model_seq_id: modelSeq++,
      base_model: "tinker-local/small",
      path,
      optimizer: false,
      type: "load_weights",
    });
    assert.equal(wrongBase.status, 400);
    assert.match(errorDetail(wrongBase), /trained on tinker-local\/tiny/);
  });

  test("another user's private checkpoint is 404; public, or with their token, it loads", async () => {
    const owner = await newModel();
    const seq = await train(owner, 1, 1);
    const { path } = await saveWeights(server.url, owner, seq, "shared");
    const otherSession = await createSession(server.url, OTHER_KEY);
    const theirs = await newModel(LORA, OTHER_KEY, otherSession);
    const body = { model_id: theirs, seq_id: 1, path, optimizer: false, type: "load_weights" };
    const refused = await post(server.url, "/api/v1/load_weights", body, OTHER_KEY);
    assert.equal(refused.status, 404);
    const viaToken = await submit(
      server.url,
      "/api/v1/load_weights",
      { ...body, weights_access_token: KEY },
      OTHER_KEY,
    );
    assert.equal((await resultOf(server.url, viaToken, OTHER_KEY)).path, path);
    const badToken = await post(
      server.url,
      "/api/v1/load_weights",
      { ...body, seq_id: 2, weights_access_token: "tml-nope" },
      OTHER_KEY,
    );
    assert.equal(badToken.status, 400);

    assert.equal(server.store.checkpoints.setPublic(owner, "weights/shared", true), true);
    const loaded = await submitAndWait(server.url, "/api/v1/load_weights", { ...body, seq_id: 2 }, OTHER_KEY);
    assert.equal(loaded.path, path);
    const missing = await post(
      server.url,
      "/api/v1/load_weights",
      { ...body, seq_id: 3, path: `${path}-nope` },
      OTHER_KEY,
    );
    assert.equal(missing.status, 404);
    const malformed = await post(
      server.url,
      "/api/v1/load_weights",
      { ...body, seq_id: 3, path: "s3://x" },
      OTHER_KEY,
    );
    assert.equal(malformed.status, 400);
  });

  test("save_weights_for_sampler: named saves a sampler checkpoint, unnamed makes a sampling session", async () => {
    const modelId = await newModel();
    const seq = await train(modelId, 1, 1);
    const named = await submitAndWait<{ path: string }>(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      path: "for-sampling",
      seq_id: seq,
      type: "save_weights_for_sampler",
    });
    assert.deepEqual(named, { path: `tinker://${modelId}/sampler_weights/for-sampling` });
    assert.deepEqual(files(server, named.path).names, ["adapter_config.json", "adapter_model.safetensors"]);
    assert.equal(server.store.checkpoints.get(modelId, "sampler_weights/for-sampling")?.kind, "sampler");

    const unnamed = await submitAndWait<{ sampling_session_id: string }>(
      server.url,
      "/api/v1/save_weights_for_sampler",
      { model_id: modelId, seq_id: seq + 1, sampling_session_seq_id: 7, type: "save_weights_for_sampler" },
    );
    assert.deepEqual(unnamed, { sampling_session_id: `${sessionId}:sample:7` });
    const sampler = await get(server.url, `/api/v1/samplers/${unnamed.sampling_session_id}`);
    assert.equal(sampler.status, 200);
    const modelPath = (sampler.json as { model_path: string }).model_path;
    assert.equal(modelPath, `tinker://${modelId}/sampler_weights/ephemeral-7`);
    assert.ok(server.models.samplers().includes(unnamed.sampling_session_id));
    // Ephemeral: usable by path, not listed.
    const listed = await get(server.url, `/api/v1/training_runs/${modelId}/checkpoints`);
    const paths = (listed.json as { checkpoints: { tinker_path: string }[] }).checkpoints.map(
      (c) => c.tinker_path,
    );
    assert.deepEqual(paths, [named.path]);

    // The sampling session seq id is taken now.
    const again = await post(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      seq_id: seq + 2,
      sampling_session_seq_id: 7,
      type: "save_weights_for_sampler",
    });
    assert.equal(again.status, 409);
    const neither = await post(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      seq_id: seq + 2,
      type: "save_weights_for_sampler",
    });
    assert.equal(neither.status, 400);
    // Sampler checkpoints have no optimizer state to load.
    const other = await newModel();
    const withOptimizer = await post(server.url, "/api/v1/load_weights", {
      model_id: other,
      seq_id: 1,
      path: named.path,
      optimizer: true,
      type: "load_weights",
    });
    assert.equal(withOptimizer.status, 400);
    assert.match(errorDetail(withOptimizer), /no optimizer state/);
  });

  test("loading weights of another LoRA config fails the future with category user", async () => {
    const rank4 = await newModel();
    const { path } = await saveWeights(server.url, rank4, 1, "rank4");
    const rank2 = await newModel({ rank: 2, seed: 1 });
    const requestId = await submit(server.url, "/api/v1/load_weights", {
      model_id: rank2,
      seq_id: 1,
      path,
      optimizer: false,
      type: "load_weights",
    });
    const result = await poll(server.url, requestId);
    assert.equal((result.json as { category: string }).category, "user");
    assert.match((result.json as { error: string }).error, /shape/);
  });
});
