// What survives a restart on the same data directory: samplers are rebuilt from their checkpoint on
// first use; training models (memory only) answer 404 with a hint, and can be re-made by loading.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startServer } from "tinker-local";
import { createSession, errorDetail, post } from "./helpers/server-http.js";
import {
  bytesOf,
  ceDatum,
  createModel,
  decodeSample,
  forwardBackward,
  optimStep,
  PROTOBUF,
  poll,
  saveWeights,
  submit,
  submitAndWait,
  TEXT,
} from "./helpers/training-http.js";

const dataDir = mkdtempSync(join(tmpdir(), "tinker-local-restart-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const sampleBody = (sampler: string) => ({
  num_samples: 2,
  prompt: { chunks: [{ type: "encoded_text", tokens: bytesOf("the ") }] },
  sampling_params: { max_tokens: 10, seed: 4, temperature: 1, top_k: -1, top_p: 1 },
  sampling_session_id: sampler,
  prompt_logprobs: false,
  topk_prompt_logprobs: 0,
  type: "sample",
});

test("a sampler works again after a restart; a training model must be loaded again", async () => {
  let server = await startServer({ dataDir });
  const sessionId = await createSession(server.url);
  const modelId = await createModel(server.url, sessionId, 0);
  await forwardBackward(server.url, modelId, 1, [ceDatum(TEXT)]);
  await optimStep(server.url, modelId, 2, 0.05);
  const { path } = await saveWeights(server.url, modelId, 3, "keep");
  const { sampling_session_id: sampler } = await submitAndWait<{ sampling_session_id: string }>(
    server.url,
    "/api/v1/save_weights_for_sampler",
    { model_id: modelId, seq_id: 4, sampling_session_seq_id: 0, type: "save_weights_for_sampler" },
  );
  const before = decodeSample(
    await poll(server.url, await submit(server.url, "/api/v1/asample", sampleBody(sampler)), {
      accept: PROTOBUF,
    }),
  );
  await server.close();

  server = await startServer({ dataDir });
  try {
    assert.deepEqual(server.models.samplers(), []);
    const after = decodeSample(
      await poll(server.url, await submit(server.url, "/api/v1/asample", sampleBody(sampler)), {
        accept: PROTOBUF,
      }),
    );
    assert.deepEqual(after, before);

    const gone = await post(server.url, "/api/v1/get_info", { model_id: modelId, type: "get_info" });
    assert.equal(gone.status, 404);
    assert.match(errorDetail(gone), /load it from a checkpoint/);
    const newSession = await createSession(server.url);
    const loaded = await submitAndWait<{ model_id: string }>(server.url, "/api/v1/load_weights", {
      session_id: newSession,
      model_seq_id: 0,
      path,
      optimizer: true,
      type: "load_weights",
    });
    assert.equal(loaded.model_id, `${newSession}:train:0`);
  } finally {
    await server.close();
  }
});
