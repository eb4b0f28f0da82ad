// Unnamed (ephemeral) sampler saves over real HTTP: their checkpoint gets a default TTL and is swept
// with its files while the sampler keeps sampling from memory; a sampler that has neither its
// weights in memory nor its checkpoint answers 404; named saves and explicit ttl_seconds are left
// alone; an expired session's models and samplers are dropped from memory.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { checkpointFiles } from "../src/store/checkpoint-files.js";
import { openDatabaseReadOnly } from "../src/store/db.js";
import { createSession, errorDetail, FakeClock, post } from "./helpers/server-http.js";
import { spawnTinkerLocal } from "./helpers/spawn-local.js";
import {
  bytesOf,
  ceDatum,
  createModel,
  decodeSample,
  forwardBackward,
  optimStep,
  PROTOBUF,
  poll,
  resultOf,
  submit,
  submitAndWait,
  TEXT,
} from "./helpers/training-http.js";

const EPHEMERAL_TTL_SECONDS = 600;
const SESSION_TTL_SECONDS = 900;
const MISSING_WEIGHTS = /Sampler .* is not in memory and its weights tinker:\/\/.*ephemeral-\d+ are gone/;

function sampleBody(samplerId: string) {
  return {
    num_samples: 2,
    prompt: { chunks: [{ type: "encoded_text", tokens: bytesOf("the ") }] },
    sampling_params: { max_tokens: 8, seed: 5, temperature: 1, top_k: -1, top_p: 1 },
    sampling_session_id: samplerId,
    prompt_logprobs: false,
    topk_prompt_logprobs: 0,
    type: "sample",
  };
}

async function sample(url: string, samplerId: string) {
  return decodeSample(
    await poll(url, await submit(url, "/api/v1/asample", sampleBody(samplerId)), { accept: PROTOBUF }),
  );
}

/** An unnamed save_weights_for_sampler, waited for; returns the sampler id. */
async function unnamedSave(url: string, modelId: string, seqId: number, samplingSeqId: number, extra = {}) {
  const result = await submitAndWait<{ sampling_session_id: string }>(
    url,
    "/api/v1/save_weights_for_sampler",
    {
      model_id: modelId,
      seq_id: seqId,
      sampling_session_seq_id: samplingSeqId,
      type: "save_weights_for_sampler",
      ...extra,
    },
  );
  return result.sampling_session_id;
}

/** Rows in the checkpoints table, read straight from SQL (no lazy expiry on the way). */
function checkpointRowCount(server: LocalServer, runId: string, checkpointId: string): number {
  const row = server.store.db
    .prepare("SELECT COUNT(*) AS n FROM checkpoints WHERE run_id = ? AND checkpoint_id = ?")
    .get(runId, checkpointId) as { n: number };
  return row.n;
}

describe("ephemeral sampler checkpoints", () => {
  const clock = new FakeClock();
  let server: LocalServer;
  let modelSeq = 0;

  /** A trained model in a fresh session (each test moves the clock, and old sessions expire). */
  async function trainedModel(): Promise<{ sessionId: string; modelId: string }> {
    const sessionId = await createSession(server.url);
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    await forwardBackward(server.url, modelId, 1, [ceDatum(TEXT)]);
    await optimStep(server.url, modelId, 2, 0.05);
    return { sessionId, modelId };
  }

  before(async () => {
    server = await startServer({
      port: 0,
      clock,
      longPollHoldMs: 1000,
      ephemeralTtlSeconds: EPHEMERAL_TTL_SECONDS,
      sessionTtlSeconds: SESSION_TTL_SECONDS,
      // The tests sweep by hand.
      checkpointSweepIntervalMs: 0,
    });
  });
  after(() => server.close());

  test("an unnamed save expires after ephemeralTtlSeconds; its sampler still samples from memory", async () => {
    const { modelId } = await trainedModel();
    const samplerId = await unnamedSave(server.url, modelId, 3, 0);
    const checkpointId = "sampler_weights/ephemeral-0";
    assert.deepEqual(checkpointFiles.list(server.dataDir, modelId, checkpointId), [
      "adapter_config.json",
      "adapter_model.safetensors",
    ]);
    const row = server.store.checkpoints.get(modelId, checkpointId);
    assert.equal(row?.ephemeral, true);
    assert.equal(row?.expiresAt, clock.now() + EPHEMERAL_TTL_SECONDS * 1000);
    const before = await sample(server.url, samplerId);

    clock.advance(EPHEMERAL_TTL_SECONDS * 1000 - 1);
    server.store.checkpoints.sweep();
    assert.ok(checkpointFiles.exists(server.dataDir, modelId, checkpointId), "not expired yet");
    assert.equal(checkpointRowCount(server, modelId, checkpointId), 1);

    clock.advance(1);
    assert.ok(server.store.checkpoints.sweep() >= 1);
    assert.equal(checkpointFiles.exists(server.dataDir, modelId, checkpointId), false);
    assert.equal(checkpointRowCount(server, modelId, checkpointId), 0);

    // The sampler made from the frozen weights does not need the file.
    assert.ok(server.models.samplers().includes(samplerId));
    assert.deepEqual(await sample(server.url, samplerId), before);
    // Its path is gone, though.
    const byPath = await post(server.url, "/api/v1/asample", {
      ...sampleBody(samplerId),
      sampling_session_id: undefined,
      model_path: `tinker://${modelId}/${checkpointId}`,
    });
    assert.equal(byPath.status, 404);
  });

  test("a named sampler save has no TTL and outlives the ephemeral ones", async () => {
    const { modelId } = await trainedModel();
    const named = await submitAndWait<{ path: string }>(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      path: "keep-me",
      seq_id: 3,
      type: "save_weights_for_sampler",
    });
    // Named and with a sampling session: the default is for unnamed saves only.
    await submitAndWait(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      path: "keep-me-too",
      seq_id: 4,
      sampling_session_seq_id: 1,
      type: "save_weights_for_sampler",
    });
    for (const checkpointId of ["sampler_weights/keep-me", "sampler_weights/keep-me-too"]) {
      assert.equal(server.store.checkpoints.get(modelId, checkpointId)?.expiresAt, null);
    }
    clock.advance(EPHEMERAL_TTL_SECONDS * 1000 * 2);
    server.store.checkpoints.sweep();
    assert.equal(checkpointRowCount(server, modelId, "sampler_weights/keep-me"), 1);
    assert.ok(checkpointFiles.exists(server.dataDir, modelId, "sampler_weights/keep-me"));
    assert.equal(named.path, `tinker://${modelId}/sampler_weights/keep-me`);
  });

  test("an explicit ttl_seconds wins over the default, shorter or longer", async () => {
    const { modelId } = await trainedModel();
    await unnamedSave(server.url, modelId, 3, 2, { ttl_seconds: 30 });
    await unnamedSave(server.url, modelId, 4, 3, { ttl_seconds: EPHEMERAL_TTL_SECONDS * 3 });
    const short = "sampler_weights/ephemeral-2";
    const long = "sampler_weights/ephemeral-3";
    assert.equal(server.store.checkpoints.get(modelId, short)?.expiresAt, clock.now() + 30_000);
    assert.equal(
      server.store.checkpoints.get(modelId, long)?.expiresAt,
      clock.now() + EPHEMERAL_TTL_SECONDS * 3 * 1000,
    );

    clock.advance(30_000);
    server.store.checkpoints.sweep();
    assert.equal(checkpointFiles.exists(server.dataDir, modelId, short), false);
    assert.ok(checkpointFiles.exists(server.dataDir, modelId, long));

    clock.advance(EPHEMERAL_TTL_SECONDS * 1000);
    server.store.checkpoints.sweep();
    assert.ok(checkpointFiles.exists(server.dataDir, modelId, long), "the default does not apply");
    assert.equal(checkpointRowCount(server, modelId, long), 1);
  });

  test("an expired session's models and samplers are dropped; the sampler then answers 404", async () => {
    const { sessionId, modelId } = await trainedModel();
    const samplerId = await unnamedSave(server.url, modelId, 3, 4);
    // seq 5 waits for a seq 4 that never comes.
    const held = await submit(server.url, "/api/v1/optim_step", {
      adam_params: { learning_rate: 0.01 },
      model_id: modelId,
      seq_id: 5,
      type: "optim_step",
    });
    const live = await createSession(server.url);
    const liveModel = await createModel(server.url, live, modelSeq++);

    clock.advance(SESSION_TTL_SECONDS * 1000 - 1);
    // A heartbeat keeps `live` alive past the other session's expiry.
    assert.equal((await post(server.url, "/api/v1/session_heartbeat", { session_id: live })).status, 200);
    assert.ok(!server.models.sweepExpiredSessions().includes(sessionId), "not expired yet");
    clock.advance(2);
    const dropped = server.models.sweepExpiredSessions();
    assert.ok(dropped.includes(sessionId));
    assert.ok(!dropped.includes(live));
    assert.ok(!server.models.trainingModels().includes(modelId));
    assert.ok(!server.models.samplers().includes(samplerId));
    assert.ok(server.models.trainingModels().includes(liveModel));
    assert.notEqual(server.store.sessions.get(sessionId)?.expiredAt ?? null, null, "the expiry is recorded");

    await server.models.idle();
    const failed = (await resultOf(server.url, held).then(
      () => undefined,
      (error: Error) => error.message,
    )) as string;
    assert.match(failed, /seq_id 5 of model .* was not run: its session .* expired/);
    assert.match(failed, /"category":"user"/);

    const info = await post(server.url, "/api/v1/get_info", { model_id: modelId, type: "get_info" });
    assert.equal(info.status, 404);
    assert.match(errorDetail(info), /session expires/);

    // Not in memory any more, and its ephemeral checkpoint has expired too: a clear 404, not a 500.
    server.store.checkpoints.sweep();
    const sampled = await post(server.url, "/api/v1/asample", sampleBody(samplerId));
    assert.equal(sampled.status, 404);
    assert.match(errorDetail(sampled), MISSING_WEIGHTS);
    assert.match(errorDetail(sampled), /save the weights for sampling again/);
  });

  test("the periodic sweep drops an expired session's models without any request", async () => {
    const swept = await startServer({ port: 0, clock, sessionTtlSeconds: 60, checkpointSweepIntervalMs: 10 });
    try {
      const sessionId = await createSession(swept.url);
      const modelId = await createModel(swept.url, sessionId, 0);
      assert.deepEqual(swept.models.trainingModels(), [modelId]);
      clock.advance(61_000);
      for (let i = 0; i < 200 && swept.models.trainingModels().length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(swept.models.trainingModels(), []);
    } finally {
      await swept.close();
    }
  });
});

test("after a restart, a sampler whose ephemeral checkpoint expired answers 404 on asample and create_sampling_session", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tinker-local-ephemeral-"));
  const clock = new FakeClock();
  const options = { port: 0, dataDir, clock, ephemeralTtlSeconds: 60, checkpointSweepIntervalMs: 0 };
  try {
    let server = await startServer(options);
    const sessionId = await createSession(server.url);
    const modelId = await createModel(server.url, sessionId, 0);
    const samplerId = await unnamedSave(server.url, modelId, 1, 0);
    const modelPath = `tinker://${modelId}/sampler_weights/ephemeral-0`;
    await server.close();

    clock.advance(60_000);
    server = await startServer(options);
    try {
      assert.deepEqual(server.models.samplers(), []);
      const sampled = await post(server.url, "/api/v1/asample", sampleBody(samplerId));
      assert.equal(sampled.status, 404);
      assert.match(errorDetail(sampled), MISSING_WEIGHTS);
      assert.match(errorDetail(sampled), /expire after 60 s unless ttl_seconds is set/);

      // The same create_sampling_session again (what a retried submit sends) finds the sampler row.
      const again = await post(server.url, "/api/v1/create_sampling_session", {
        session_id: sessionId,
        sampling_session_seq_id: 0,
        model_path: modelPath,
        type: "create_sampling_session",
      });
      assert.equal(again.status, 404);
      assert.match(errorDetail(again), MISSING_WEIGHTS);
      // A new sampler from the expired path is a 404 naming the checkpoint.
      const fresh = await post(server.url, "/api/v1/create_sampling_session", {
        session_id: sessionId,
        sampling_session_seq_id: 1,
        model_path: modelPath,
        type: "create_sampling_session",
      });
      assert.equal(fresh.status, 404);
      assert.match(errorDetail(fresh), /Checkpoint not found/);
      assert.equal(checkpointFiles.exists(dataDir, modelId, "sampler_weights/ephemeral-0"), false);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the CLI's --ephemeral-ttl sets the default TTL of unnamed sampler saves", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tinker-local-ephemeral-cli-"));
  try {
    const server = await spawnTinkerLocal(["--ephemeral-ttl", "120", "--data-dir", dataDir]);
    let modelId: string;
    try {
      const sessionId = await createSession(server.url);
      modelId = await createModel(server.url, sessionId, 0);
      await unnamedSave(server.url, modelId, 1, 0);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const db = openDatabaseReadOnly(dataDir);
    try {
      const row = db
        .prepare("SELECT created_at, expires_at FROM checkpoints WHERE run_id = ? AND checkpoint_id = ?")
        .get(modelId, "sampler_weights/ephemeral-0") as { created_at: number; expires_at: number | null };
      // The expiry is taken just before the files are written, the creation time just after.
      const ttlMs = (row.expires_at ?? 0) - row.created_at;
      assert.ok(ttlMs > 119_000 && ttlMs <= 120_000, `ttl ${ttlMs} ms`);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
