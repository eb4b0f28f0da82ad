// The REST side over state made by the real training endpoints (create_model, forward_backward,
// save_weights, save_weights_for_sampler), not by the store directly.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { extract } from "tar-stream";
import { type LocalServer, startServer } from "tinker-local";
import { checkpointFiles } from "../src/store/checkpoint-files.js";
import { createSession, DEFAULT_KEY, get, post } from "./helpers/server-http.js";
import {
  ceDatum,
  createModel,
  forwardBackward,
  saveWeights,
  submitAndWait,
  TEXT,
} from "./helpers/training-http.js";

let server: LocalServer;
let sessionId: string;
let modelId: string;

before(async () => {
  server = await startServer({ port: 0, longPollHoldMs: 2000 });
  sessionId = await createSession(server.url);
  modelId = await createModel(server.url, sessionId, 0, { rank: 2 });
  await forwardBackward(server.url, modelId, 1, [ceDatum(TEXT)]);
  await saveWeights(server.url, modelId, 2, "w1");
  await submitAndWait(server.url, "/api/v1/save_weights_for_sampler", {
    model_id: modelId,
    path: "s1",
    seq_id: 3,
    type: "save_weights_for_sampler",
  });
  await submitAndWait(server.url, "/api/v1/save_weights_for_sampler", {
    model_id: modelId,
    seq_id: 4,
    sampling_session_seq_id: 0,
    type: "save_weights_for_sampler",
  });
});
after(() => server.close());

test("runs, checkpoints, sessions and samplers made by the training endpoints show up over REST", async () => {
  const runs = (await get(server.url, "/api/v1/training_runs")).json as {
    training_runs: {
      training_run_id: string;
      lora_rank: number;
      last_checkpoint?: { tinker_path: string };
    }[];
    cursor: { total_count: number };
  };
  assert.equal(runs.cursor.total_count, 1);
  assert.equal(runs.training_runs[0]?.training_run_id, modelId);
  assert.equal(runs.training_runs[0]?.lora_rank, 2);
  assert.equal(runs.training_runs[0]?.last_checkpoint?.tinker_path, `tinker://${modelId}/weights/w1`);

  const listed = (await get(server.url, `/api/v1/training_runs/${modelId}/checkpoints`)).json as {
    checkpoints: { checkpoint_id: string; size_bytes: number }[];
  };
  // The unnamed (ephemeral) sampler save is not listed.
  assert.deepEqual(listed.checkpoints.map((c) => c.checkpoint_id).sort(), [
    "sampler_weights/s1",
    "weights/w1",
  ]);
  assert.ok(listed.checkpoints.every((c) => c.size_bytes > 0));

  const info = await post(server.url, "/api/v1/weights_info", {
    tinker_path: `tinker://${modelId}/weights/w1`,
  });
  assert.deepEqual(info.json, {
    base_model: "tinker-local/tiny",
    is_lora: true,
    lora_rank: 2,
    train_unembed: true,
    train_mlp: true,
    train_attn: true,
  });

  const sessionView = (await get(server.url, `/api/v1/sessions/${sessionId}`)).json;
  assert.deepEqual(sessionView, { training_run_ids: [modelId], sampler_ids: [`${sessionId}:sample:0`] });
  const sampler = (await get(server.url, `/api/v1/samplers/${sessionId}:sample:0`)).json as {
    model_path: string;
  };
  assert.equal(sampler.model_path, `tinker://${modelId}/sampler_weights/ephemeral-0`);
});

test("the archive of a trained checkpoint holds the bytes the training endpoint wrote", async () => {
  const answer = await fetch(`${server.url}/api/v1/training_runs/${modelId}/checkpoints/weights/w1/archive`, {
    headers: { "x-api-key": DEFAULT_KEY, accept: "application/json" },
    redirect: "manual",
  });
  assert.equal(answer.status, 302);
  const tar = Buffer.from(await (await fetch(answer.headers.get("location")!)).arrayBuffer());
  const names: string[] = [];
  let weights: Buffer | undefined;
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        names.push(header.name);
        if (header.name === "adapter_model.safetensors") weights = Buffer.concat(chunks);
        next();
      });
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
    reader.end(tar);
  });
  assert.deepEqual(names.sort(), ["adapter_config.json", "adapter_model.safetensors"]);
  const stored = checkpointFiles.read(server.dataDir, modelId, "weights/w1", "adapter_model.safetensors");
  assert.ok(weights?.equals(Buffer.from(stored)));
});

test("billing shows the training tokens and checkpoints the training endpoints recorded", async () => {
  const hour = 3600_000;
  const start = new Date(Math.floor(Date.now() / hour) * hour - hour).toISOString();
  const end = new Date(Math.floor(Date.now() / hour) * hour + hour).toISOString();
  const result = await get(
    server.url,
    `/api/v1/billing/usage/events?starting_on=${start}&ending_before=${end}`,
  );
  assert.equal(result.status, 200);
  const infos = (
    result.json as { data: { event_info: { type: string; token_count?: number; count?: number } }[] }
  ).data.map((event) => event.event_info);
  const training = infos.filter((info) => info.type === "training");
  assert.ok(
    training.length > 0 && training.every((info) => (info.token_count ?? 0) > 0),
    JSON.stringify(infos),
  );
  const checkpoints = infos
    .filter((info) => info.type === "checkpoint")
    .reduce((n, info) => n + (info.count ?? 0), 0);
  assert.equal(checkpoints, 3);
});
