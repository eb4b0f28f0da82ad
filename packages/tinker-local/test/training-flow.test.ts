// Training over real HTTP: create_model, forward_backward in every body encoding, optim_step,
// forward-only, get_info, unload, validation and ownership.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { createSession, errorDetail, post } from "./helpers/server-http.js";
import {
  bytesOf,
  ceDatum,
  createModel,
  createModelBody,
  decodeOutput,
  forwardBackward,
  optimStep,
  PROTOBUF,
  poll,
  postForwardBackward,
  resultOf,
  retrieve,
  submit,
  submitAndWait,
  TEXT,
  TINY,
} from "./helpers/training-http.js";

const OTHER_KEY = "tml-other-user";
const KEY = "tml-local-dev";

function loss(out: { metrics: Record<string, number> }): number {
  const value = out.metrics["loss:sum"];
  assert.equal(typeof value, "number");
  return value as number;
}

describe("training endpoints", () => {
  let server: LocalServer;
  let sessionId: string;
  let nextModelSeq = 0;
  const newModel = (lora = {}) => createModel(server.url, sessionId, nextModelSeq++, lora);

  before(async () => {
    server = await startServer({ apiKeys: [KEY, OTHER_KEY], longPollHoldMs: 2000 });
    sessionId = await createSession(server.url, KEY);
  });
  after(() => server.close());

  test("create_model answers a future whose result is {model_id, type}; the run is recorded", async () => {
    const requestId = await submit(server.url, "/api/v1/create_model", {
      ...createModelBody(sessionId, nextModelSeq, { rank: 2 }),
      user_metadata: { purpose: "test" },
    });
    assert.match(requestId, /^req-[0-9a-f-]{36}$/);
    const result = await resultOf(server.url, requestId);
    const modelId = `${sessionId}:train:${nextModelSeq++}`;
    assert.deepEqual(result, { model_id: modelId, type: "create_model" });
    const run = server.store.runs.get(modelId);
    assert.equal(run?.baseModel, TINY);
    assert.equal(run?.loraRank, 2);
    assert.deepEqual(run?.userMetadata, { purpose: "test" });
    assert.ok(server.models.trainingModels().includes(modelId));
  });

  test("a repeated create_model for the same model_seq_id answers the original request", async () => {
    const body = createModelBody(sessionId, nextModelSeq++);
    const first = await submit(server.url, "/api/v1/create_model", body);
    const second = await submit(server.url, "/api/v1/create_model", body);
    assert.equal(second, first);
  });

  test("training over protobuf lowers the loss, and the result carries name:reduction metrics", async () => {
    const modelId = await newModel();
    const losses: number[] = [];
    let seq = 1;
    for (let step = 0; step < 4; step++) {
      const out = await forwardBackward(server.url, modelId, seq++, [ceDatum(TEXT), ceDatum("hello world")]);
      assert.equal(out.loss_fn_output_type, "ArrayRecord");
      assert.equal(out.loss_fn_outputs.length, 2);
      assert.equal(out.loss_fn_outputs[0]?.logprobs?.dtype, "float32");
      assert.equal(out.loss_fn_outputs[0]?.logprobs?.data.length, bytesOf(TEXT).length - 1);
      for (const key of Object.keys(out.metrics)) assert.equal(key.split(":").length, 2, key);
      losses.push(loss(out));
      const { metrics } = await optimStep(server.url, modelId, seq++);
      assert.equal(metrics["step:max"], step + 1);
    }
    for (let i = 1; i < losses.length; i++) assert.ok(losses[i]! < losses[i - 1]!, `losses ${losses}`);
    const run = server.store.runs.get(modelId);
    assert.ok(run !== undefined);
    const usage = server.store.usage.listBySession(sessionId).filter((u) => u.modelId === modelId);
    assert.equal(usage.filter((u) => u.type === "training").length, 4);
    assert.equal(usage[0]?.tokenCount, bytesOf(TEXT).length - 1 + bytesOf("hello world").length - 1);
  });

  test("JSON, zstd-protobuf and zstd-JSON bodies train exactly like protobuf", async () => {
    const encodings = ["proto", "json", "zstd", "json-zstd"] as const;
    const results: number[][] = [];
    for (const encoding of encodings) {
      const modelId = await newModel();
      const seen: number[] = [];
      for (let seq = 1; seq <= 4; seq += 2) {
        const submitted = await postForwardBackward(server.url, modelId, seq, [ceDatum(TEXT)], { encoding });
        assert.equal(submitted.status, 200, submitted.text);
        const requestId = (submitted.json as { request_id: string }).request_id;
        seen.push(loss(decodeOutput(await poll(server.url, requestId, { accept: PROTOBUF }))));
        await optimStep(server.url, modelId, seq + 1);
      }
      results.push(seen);
    }
    for (const seen of results.slice(1)) assert.deepEqual(seen, results[0]);
  });

  test("protobuf and JSON answers of one result decode to the same values", async () => {
    const modelId = await newModel();
    const submitted = await postForwardBackward(server.url, modelId, 1, [ceDatum(TEXT), ceDatum("ab")]);
    const requestId = (submitted.json as { request_id: string }).request_id;
    const proto = await poll(server.url, requestId, { accept: PROTOBUF });
    assert.equal(proto.contentType, PROTOBUF);
    const json = await retrieve(server.url, requestId, { accept: "application/json" });
    assert.match(json.contentType, /application\/json/);
    const fromJson = decodeOutput(json);
    const fromProto = decodeOutput(proto);
    assert.deepEqual(fromJson.metrics, fromProto.metrics);
    assert.equal(fromJson.loss_fn_outputs.length, 2);
    // float32 values survive both encodings bit for bit.
    assert.deepEqual(fromJson.loss_fn_outputs, fromProto.loss_fn_outputs);
    // The 0.18-0.24 clients accept either; protobuf wins when listed.
    const both = await retrieve(server.url, requestId, { accept: `${PROTOBUF}, application/json` });
    assert.equal(both.contentType, PROTOBUF);
  });

  test("forward_only computes logprobs without accumulating gradients", async () => {
    const a = await newModel();
    const b = await newModel();
    const data = [ceDatum(TEXT)];
    const other = [ceDatum("hello world, hello")];
    // a: a forward-only pass over other data, then a real step; b: the real step alone. If the
    // forward-only pass had accumulated gradients, a's update would point elsewhere.
    const forwardOnly = await forwardBackward(server.url, a, 1, other, { forwardOnly: true });
    assert.ok(loss(forwardOnly) > 0);
    const real = await forwardBackward(server.url, a, 2, data);
    await optimStep(server.url, a, 3);
    await forwardBackward(server.url, b, 1, data);
    await optimStep(server.url, b, 2);
    const afterA = await forwardBackward(server.url, a, 4, other, { forwardOnly: true });
    const afterB = await forwardBackward(server.url, b, 3, other, { forwardOnly: true });
    assert.deepEqual(afterA, afterB);
    assert.notDeepEqual(afterA.loss_fn_outputs, forwardOnly.loss_fn_outputs);
    // Forward-only and a real pass over the same data give the same logprobs.
    const again = await forwardBackward(server.url, b, 4, data, { forwardOnly: true });
    const realB = await forwardBackward(server.url, b, 5, data);
    assert.deepEqual(again, realB);
    assert.notDeepEqual(again.loss_fn_outputs, real.loss_fn_outputs);
  });

  test("the legacy JSON /api/v1/forward is a forward-only pass", async () => {
    const modelId = await newModel();
    const datum = ceDatum(TEXT);
    const requestId = await submit(server.url, "/api/v1/forward", {
      forward_input: { data: [datum], loss_fn: "cross_entropy" },
      model_id: modelId,
      seq_id: 1,
    });
    const viaForward = decodeOutput(await poll(server.url, requestId));
    const viaFlag = await forwardBackward(server.url, modelId, 2, [datum], { forwardOnly: true });
    assert.deepEqual(viaForward.loss_fn_outputs, viaFlag.loss_fn_outputs);
  });

  test("input the model rejects fails the future with category user, and the model stays usable", async () => {
    const modelId = await newModel();
    const bad = ceDatum([104, 105, 300]); // 300 is outside the 259-token vocabulary
    const submitted = await postForwardBackward(server.url, modelId, 1, [bad]);
    assert.equal(submitted.status, 200);
    const failed = await poll(server.url, (submitted.json as { request_id: string }).request_id, {
      accept: PROTOBUF,
    });
    assert.equal(failed.status, 200);
    const body = failed.json as { error: string; category: string };
    assert.equal(body.category, "user");
    assert.match(body.error, /300/);
    assert.deepEqual(Object.keys(body).sort(), ["category", "error"]);
    const lossFn = await postForwardBackward(server.url, modelId, 2, [ceDatum(TEXT)], {
      lossFn: "ppo" as never,
    });
    const ppo = await poll(server.url, (lossFn.json as { request_id: string }).request_id);
    assert.equal((ppo.json as { category: string }).category, "user");
    // The failed requests took their turns; the next seq runs normally.
    const ok = await forwardBackward(server.url, modelId, 3, [ceDatum(TEXT)]);
    assert.ok(loss(ok) > 0);
    assert.deepEqual(server.models.appliedSeqIds(modelId), [1, 2, 3]);
  });

  test("an image chunk is a user failure: the models are text-only", async () => {
    const modelId = await newModel();
    const datum = ceDatum(TEXT);
    datum.model_input.chunks.push({ type: "image", data: "AAAA", format: "png", expected_tokens: 0 });
    const submitted = await postForwardBackward(server.url, modelId, 1, [datum]);
    const result = await poll(server.url, (submitted.json as { request_id: string }).request_id);
    assert.equal((result.json as { category: string }).category, "user");
    assert.match((result.json as { error: string }).error, /text-only/);
  });

  test("optim_step validates adam_params at submit", async () => {
    const modelId = await newModel();
    const unknown = await post(server.url, "/api/v1/optim_step", {
      adam_params: { learning_rat: 0.1 },
      model_id: modelId,
      seq_id: 1,
      type: "optim_step",
    });
    assert.equal(unknown.status, 400);
    assert.match(errorDetail(unknown), /adam_params\.learning_rat/);
    const range = await post(server.url, "/api/v1/optim_step", {
      adam_params: { beta1: 1.5 },
      model_id: modelId,
      seq_id: 1,
      type: "optim_step",
    });
    assert.equal(range.status, 400);
    assert.match(errorDetail(range), /beta1/);
    // Neither took seq 1.
    const ok = await optimStep(server.url, modelId, 1);
    assert.equal(ok.metrics["step:max"], 1);
  });

  test("create_model validation names the field; an unknown base model lists the known ones", async () => {
    const unknownBase = await post(server.url, "/api/v1/create_model", {
      ...createModelBody(sessionId, 99),
      // Not a hosted name either: Qwen/Qwen3-8B, say, is served as a twin when its tokenizer is installed.
      base_model: "example/not-a-model",
    });
    assert.equal(unknownBase.status, 400);
    const detail = errorDetail(unknownBase);
    assert.match(detail, /example\/not-a-model/);
    assert.match(detail, /tinker-local\/tiny/);
    assert.match(detail, /tinker-local\/small/);

    const noRank = await post(server.url, "/api/v1/create_model", {
      ...createModelBody(sessionId, 99),
      lora_config: { train_mlp: true },
    });
    assert.equal(noRank.status, 400);
    assert.match(errorDetail(noRank), /lora_config\.rank/);

    const nothingTrained = await post(server.url, "/api/v1/create_model", {
      ...createModelBody(sessionId, 99, { train_attn: false, train_mlp: false, train_unembed: false }),
    });
    assert.equal(nothingTrained.status, 400);
    assert.match(errorDetail(nothingTrained), /at least one of train_attn/);

    const badSession = await post(server.url, "/api/v1/create_model", createModelBody("sess-nope", 0));
    assert.equal(badSession.status, 404);
  });

  test("forward_backward bodies: seq_id 0, bad content types and broken protobuf are 4xx", async () => {
    const modelId = await newModel();
    const zero = await postForwardBackward(server.url, modelId, 0, [ceDatum(TEXT)]);
    assert.equal(zero.status, 400);
    assert.match(errorDetail(zero), /seq_id/);
    const broken = await post(server.url, "/api/v1/forward_backward", undefined);
    assert.equal(broken.status, 415);
    const garbage = await fetch(`${server.url}/api/v1/forward_backward`, {
      method: "POST",
      headers: { "content-type": PROTOBUF, "x-api-key": KEY },
      body: Buffer.from([0xff, 0xff, 0xff, 0xff]),
    });
    assert.equal(garbage.status, 400);
    assert.match(((await garbage.json()) as { detail: string }).detail, /forward_backward/);
    const badZstd = await fetch(`${server.url}/api/v1/forward_backward`, {
      method: "POST",
      headers: { "content-type": PROTOBUF, "content-encoding": "zstd", "x-api-key": KEY },
      body: Buffer.from("not zstd at all"),
    });
    assert.equal(badZstd.status, 400);
    const gzip = await fetch(`${server.url}/api/v1/forward_backward`, {
      method: "POST",
      headers: { "content-type": PROTOBUF, "content-encoding": "gzip", "x-api-key": KEY },
      body: Buffer.from([1, 2, 3]),
    });
    assert.equal(gzip.status, 415);
  });

  test("another user's model is 404 on every training endpoint, like a missing one", async () => {
    const modelId = await newModel();
    const fb = await postForwardBackward(server.url, modelId, 1, [ceDatum(TEXT)], { key: OTHER_KEY });
    assert.equal(fb.status, 404);
    assert.match(errorDetail(fb), /Model not found/);
    for (const [path, body] of [
      ["/api/v1/optim_step", { adam_params: {}, model_id: modelId, seq_id: 1, type: "optim_step" }],
      ["/api/v1/save_weights", { model_id: modelId, path: "x", seq_id: 1, type: "save_weights" }],
      ["/api/v1/get_info", { model_id: modelId, type: "get_info" }],
      ["/api/v1/unload_model", { model_id: modelId, type: "unload_model" }],
    ] as const) {
      const result = await post(server.url, path, body, OTHER_KEY);
      assert.equal(result.status, 404, path);
      const missing = await post(server.url, path, { ...body, model_id: `${modelId}0` }, KEY);
      assert.equal(missing.status, 404, path);
    }
    // Nothing ran on the model.
    assert.deepEqual(server.models.appliedSeqIds(modelId), []);
  });

  test("get_info describes the model", async () => {
    const modelId = await newModel({ rank: 8 });
    const info = await post(server.url, "/api/v1/get_info", { model_id: modelId, type: "get_info" });
    assert.equal(info.status, 200);
    assert.deepEqual(info.json, {
      type: "get_info",
      model_data: { arch: "tinker-local-transformer", model_name: TINY, tokenizer_id: TINY },
      model_id: modelId,
      is_lora: true,
      lora_rank: 8,
      model_name: TINY,
    });
  });

  test("unload_model frees the model; later requests for it are 404", async () => {
    const modelId = await newModel();
    await forwardBackward(server.url, modelId, 1, [ceDatum(TEXT)]);
    const result = await submitAndWait(server.url, "/api/v1/unload_model", {
      model_id: modelId,
      type: "unload_model",
    });
    assert.deepEqual(result, { model_id: modelId });
    assert.ok(!server.models.trainingModels().includes(modelId));
    const later = await postForwardBackward(server.url, modelId, 2, [ceDatum(TEXT)]);
    assert.equal(later.status, 404);
  });
});
